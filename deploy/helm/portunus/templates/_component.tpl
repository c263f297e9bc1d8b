{{/*
One Portunus service: Deployment, Service, PodDisruptionBudget and (optional)
HorizontalPodAutoscaler. Call with (dict "ctx" $ "component" "auth").

Probes: gRPC services use the kubelet's native gRPC probe on grpc.health.v1. Service "" is
SERVING only while the service's database is reachable and migrated and the service itself is
ready (signing keys loaded, ...): that gates startup and readiness. Liveness asks for the service
name "liveness", SERVING whenever the gRPC server answers (services/common/service_runner.h), so
that a database outage takes pods out of their Service without restarting every one of them (a
restart cannot fix the database, and CrashLoopBackOff would delay recovery by minutes once it
is back). The gateway uses HTTP: /api/v1/_ping for startup and liveness, gateway.readinessPath
for readiness.
*/}}

{{/* Which secret files a pod needs. (dict "component" "auth") -> YAML */}}
{{- define "portunus.needs" -}}
db: {{ ne .component "gateway" }}
webhook: {{ eq .component "catalog" }}
tokenKeys: {{ eq .component "auth" }}
registryCA: {{ has .component (list "catalog" "scanner" "health") }}
{{- end -}}

{{/* env of a Portunus container. (dict "ctx" $ "needs" $needs "refs" $refs) */}}
{{- define "portunus.secretEnv" -}}
{{- $dir := include "portunus.secretsDir" .ctx -}}
- name: PORTUNUS_INTERNAL_SECRET_FILE
  value: {{ printf "%s/internal-secret" $dir }}
{{- if and .needs.db .refs.db }}
- name: PORTUNUS_DB_PASSWORD_FILE
  value: {{ printf "%s/db-password" $dir }}
{{- end }}
{{- if .needs.webhook }}
- name: PORTUNUS_CATALOG_WEBHOOK_SECRET_FILE
  value: {{ printf "%s/webhook-secret" $dir }}
{{- end }}
{{- if and .needs.db .ctx.Values.database.sslRootCert.configMap }}
- name: PGSSLROOTCERT
  value: {{ printf "%s/%s" (include "portunus.dbCADir" .ctx) .ctx.Values.database.sslRootCert.key }}
{{- end }}
{{- end -}}

{{/* The projected volume of secret files. (dict "ctx" $ "needs" $needs "refs" $refs) */}}
{{- define "portunus.secretVolume" -}}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ .refs.internal.secret }}
          items:
            - key: {{ .refs.internal.key }}
              path: internal-secret
      {{- if and .needs.db .refs.db }}
      - secret:
          name: {{ .refs.db.secret }}
          items:
            - key: {{ .refs.db.key }}
              path: db-password
      {{- end }}
      {{- if .needs.webhook }}
      - secret:
          name: {{ .refs.webhook.secret }}
          items:
            - key: {{ .refs.webhook.key }}
              path: webhook-secret
      {{- end }}
{{- end -}}

{{/* Volumes besides config and secrets. (dict "ctx" $ "needs" $needs) */}}
{{- define "portunus.extraVolumes" -}}
{{- $v := .ctx.Values -}}
{{- if .needs.tokenKeys }}
- name: token-keys
  secret:
    secretName: {{ include "portunus.tokenKeysSecretName" .ctx }}
    defaultMode: 0440
{{- end }}
{{- if and .needs.registryCA $v.registry.caBundle.configMap }}
- name: registry-ca
  configMap:
    name: {{ $v.registry.caBundle.configMap }}
{{- end }}
{{- if and .needs.db $v.database.sslRootCert.configMap }}
- name: db-ca
  configMap:
    name: {{ $v.database.sslRootCert.configMap }}
{{- end }}
{{- end -}}

{{- define "portunus.extraVolumeMounts" -}}
{{- $v := .ctx.Values -}}
{{- if .needs.tokenKeys }}
- name: token-keys
  mountPath: {{ include "portunus.tokenKeysDir" .ctx }}
  readOnly: true
{{- end }}
{{- if and .needs.registryCA $v.registry.caBundle.configMap }}
- name: registry-ca
  mountPath: {{ include "portunus.registryCADir" .ctx }}
  readOnly: true
{{- end }}
{{- if and .needs.db $v.database.sslRootCert.configMap }}
- name: db-ca
  mountPath: {{ include "portunus.dbCADir" .ctx }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* Probe timing from values. */}}
{{- define "portunus.probeTiming" -}}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end -}}

{{- define "portunus.component" -}}
{{- $ctx := .ctx -}}
{{- $name := .component -}}
{{- $v := index $ctx.Values $name -}}
{{- $fullname := printf "%s-%s" (include "portunus.fullname" $ctx) $name -}}
{{- $gateway := eq $name "gateway" -}}
{{- $harbor := and (eq $name "scanner") $v.harborAdapter.enabled -}}
{{- $mainPortName := ternary (include "portunus.gatewayScheme" $ctx) "grpc" $gateway -}}
{{- $mainPort := include "portunus.port" (dict "ctx" $ctx "component" $name "port" (ternary "http" "grpc" $gateway)) | int -}}
{{- $metricsPort := include "portunus.port" (dict "ctx" $ctx "component" $name "port" "metrics") | int -}}
{{- $needs := include "portunus.needs" (dict "component" $name) | fromYaml -}}
{{- $refs := include "portunus.secretRefs" (dict "ctx" $ctx) | fromYaml -}}
{{- $labels := dict "ctx" $ctx "component" $name -}}
{{- $generated := include "portunus.generated" $ctx | fromJson -}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "portunus.labels" $labels | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    {{- toYaml $v.strategy | nindent 4 }}
  selector:
    matchLabels:
      {{- include "portunus.selectorLabels" $labels | nindent 6 }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include "portunus.configMapData" $ctx | sha256sum }}
        checksum/secrets: {{ toJson $generated.secrets | sha256sum }}
        {{- with (include "portunus.scrapeAnnotations" (dict "ctx" $ctx "port" $metricsPort) | trim) }}{{ . | nindent 8 }}{{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "portunus.labels" $labels | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "portunus.serviceAccountName" $ctx }}
      automountServiceAccountToken: {{ $ctx.Values.serviceAccount.automountServiceAccountToken }}
      enableServiceLinks: false
      {{- with $ctx.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $ctx.Values.podSecurityContext | nindent 8 }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      containers:
        - name: {{ $name }}
          image: {{ include "portunus.image" $ctx | quote }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          command:
            - portunus-{{ $name }}
          args:
            - --config
            - {{ include "portunus.configPath" $ctx }}
          env:
            {{- include "portunus.secretEnv" (dict "ctx" $ctx "needs" $needs "refs" $refs) | nindent 12 }}
            {{- if and $harbor $v.harborAdapter.existingSecret }}
            - name: PORTUNUS_SCANNER_HARBOR_ADAPTER_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ $v.harborAdapter.existingSecret }}
                  key: {{ $v.harborAdapter.existingSecretKey }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: {{ $mainPortName }}
              containerPort: {{ $mainPort }}
              protocol: TCP
            - name: metrics
              containerPort: {{ $metricsPort }}
              protocol: TCP
            {{- if $harbor }}
            - name: http
              containerPort: {{ include "portunus.port" (dict "ctx" $ctx "component" $name "port" "http") }}
              protocol: TCP
            {{- end }}
          {{- if $gateway }}
          {{- $scheme := upper (include "portunus.gatewayScheme" $ctx) }}
          startupProbe:
            httpGet:
              path: /api/v1/_ping
              port: {{ $mainPortName }}
              scheme: {{ $scheme }}
            {{- include "portunus.probeTiming" $v.probes.startup | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /api/v1/_ping
              port: {{ $mainPortName }}
              scheme: {{ $scheme }}
            {{- include "portunus.probeTiming" $v.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet:
              path: {{ $v.readinessPath }}
              port: {{ $mainPortName }}
              scheme: {{ $scheme }}
            {{- include "portunus.probeTiming" $v.probes.readiness | nindent 12 }}
          {{- else }}
          startupProbe:
            grpc:
              port: {{ $mainPort }}
            {{- include "portunus.probeTiming" $v.probes.startup | nindent 12 }}
          livenessProbe:
            grpc:
              port: {{ $mainPort }}
              service: liveness
            {{- include "portunus.probeTiming" $v.probes.liveness | nindent 12 }}
          readinessProbe:
            grpc:
              port: {{ $mainPort }}
            {{- include "portunus.probeTiming" $v.probes.readiness | nindent 12 }}
          {{- end }}
          {{- if gt (int $v.preStopSleepSeconds) 0 }}
          lifecycle:
            preStop:
              exec:
                command:
                  - sleep
                  - {{ $v.preStopSleepSeconds | quote }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $ctx.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: {{ include "portunus.configDir" $ctx }}
              readOnly: true
            - name: secrets
              mountPath: {{ include "portunus.secretsDir" $ctx }}
              readOnly: true
            - name: tmp
              mountPath: /tmp
            {{- with (include "portunus.extraVolumeMounts" (dict "ctx" $ctx "needs" $needs) | trim) }}{{ . | nindent 12 }}{{- end }}
            {{- if and $gateway $ctx.Values.gateway.tls.existingSecret }}
            - name: gateway-tls
              mountPath: {{ include "portunus.gatewayTLSDir" $ctx }}
              readOnly: true
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ include "portunus.fullname" $ctx }}-config
        {{- include "portunus.secretVolume" (dict "ctx" $ctx "needs" $needs "refs" $refs) | nindent 8 }}
        - name: tmp
          emptyDir:
            {{- if eq $name "scanner" }}
            sizeLimit: {{ $v.tmpSizeLimit }}
            {{- else }}
            sizeLimit: 64Mi
            {{- end }}
        {{- with (include "portunus.extraVolumes" (dict "ctx" $ctx "needs" $needs) | trim) }}{{ . | nindent 8 }}{{- end }}
        {{- if and $gateway $ctx.Values.gateway.tls.existingSecret }}
        - name: gateway-tls
          secret:
            secretName: {{ $ctx.Values.gateway.tls.existingSecret }}
            defaultMode: 0440
        {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "portunus.labels" $labels | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  selector:
    {{- include "portunus.selectorLabels" $labels | nindent 4 }}
  ports:
    - name: {{ $mainPortName }}
      port: {{ $v.service.port }}
      targetPort: {{ $mainPortName }}
      protocol: TCP
    - name: metrics
      port: {{ $metricsPort }}
      targetPort: metrics
      protocol: TCP
    {{- if $harbor }}
    - name: http
      port: {{ $v.harborAdapter.port }}
      targetPort: http
      protocol: TCP
    {{- end }}
{{- if $v.pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $fullname }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "portunus.labels" $labels | nindent 4 }}
spec:
  maxUnavailable: {{ $v.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "portunus.selectorLabels" $labels | nindent 6 }}
{{- end }}
{{- if $v.autoscaling.enabled }}
{{- if gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas) }}
{{- fail (printf "%s.autoscaling.minReplicas (%v) must not exceed %s.autoscaling.maxReplicas (%v)" $name $v.autoscaling.minReplicas $name $v.autoscaling.maxReplicas) }}
{{- end }}
{{- if not (($v.resources).requests).cpu }}
{{- fail (printf "%s.autoscaling needs %s.resources.requests.cpu: the HorizontalPodAutoscaler scales on CPU utilization relative to the request" $name $name) }}
{{- end }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $fullname }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "portunus.labels" $labels | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $fullname }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end -}}
