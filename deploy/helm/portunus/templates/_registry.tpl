{{/*
The registry's side of the wiring (Distribution 2.8, ENVIRONMENT.md §4-5 and
scripts/lib/registry-config.yml.in, which scripts/run-local uses for the same purpose):

  auth.token: realm = <gateway external URL>/v2/token, service = registry.service,
              issuer = auth.tokenIssuer, rootcertbundle = the signing certificates
  notifications.endpoints: the gateway's webhook with `Authorization: Bearer <webhook secret>`

The endpoint list carries the webhook secret, so it never goes into a ConfigMap: registries get
it from the environment variable REGISTRY_NOTIFICATIONS_ENDPOINTS (Distribution reads any config
key from REGISTRY_<PATH>; a list is given whole, as YAML/JSON), whose value refers to the secret
as $(PORTUNUS_WEBHOOK_SECRET), a variable the same container takes from the Secret: the kubelet
substitutes it.
*/}}

{{- define "portunus.registryName" -}}
{{- printf "%s-registry" (include "portunus.fullname" .) -}}
{{- end -}}

{{/* The notifications.endpoints list, as one line of JSON. */}}
{{- define "portunus.registryEndpoints" -}}
{{- $n := .Values.registry.notifications -}}
{{- list (dict
      "name" "portunus"
      "url" (include "portunus.webhookURL" .)
      "headers" (dict "Authorization" (list "Bearer $(PORTUNUS_WEBHOOK_SECRET)"))
      "timeout" $n.timeout
      "threshold" (int $n.threshold)
      "backoff" $n.backoff) | toJson -}}
{{- end -}}

{{/* The registry configuration file (config.yml). */}}
{{- define "portunus.registryConfig" -}}
{{- $b := .Values.registry.bundled -}}
{{- $storage := dict
      "delete" (dict "enabled" $b.deleteEnabled)
      "cache" (dict "blobdescriptor" "inmemory") -}}
{{- if not (hasKey $b.config "storage") -}}
{{- $_ := set $storage "filesystem" (dict "rootdirectory" "/var/lib/registry") -}}
{{- end -}}
{{- $http := dict
      "addr" ":5000"
      "headers" (dict "X-Content-Type-Options" (list "nosniff")) -}}
{{- if $b.metrics.enabled -}}
{{- $_ := set $http "debug" (dict "addr" ":5001" "prometheus" (dict "enabled" true "path" "/metrics")) -}}
{{- end -}}
{{- $cfg := dict
      "version" "0.1"
      "log" (dict "level" "warn" "formatter" "json")
      "storage" $storage
      "http" $http
      "auth" (dict "token" (dict
          "realm" (include "portunus.tokenRealm" .)
          "service" .Values.registry.service
          "issuer" .Values.auth.tokenIssuer
          "rootcertbundle" .Values.registry.rootCertBundlePath))
      "notifications" (dict "events" (dict "includereferences" true)) -}}
{{- $merged := mergeOverwrite $cfg (deepCopy $b.config) -}}
# Distribution registry configuration for Portunus, rendered by the Helm chart.
# notifications.endpoints comes from REGISTRY_NOTIFICATIONS_ENDPOINTS (it holds the webhook
# secret); log.level stays above info, which would log that secret.
{{ toYaml $merged }}
{{- end -}}

{{/* Container env entries that wire any Distribution registry to Portunus. */}}
{{- define "portunus.registryEnv" -}}
{{- $refs := include "portunus.secretRefs" (dict "ctx" .) | fromYaml -}}
- name: REGISTRY_AUTH_TOKEN_REALM
  value: {{ include "portunus.tokenRealm" . | quote }}
- name: REGISTRY_AUTH_TOKEN_SERVICE
  value: {{ .Values.registry.service | quote }}
- name: REGISTRY_AUTH_TOKEN_ISSUER
  value: {{ .Values.auth.tokenIssuer | quote }}
- name: REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE
  value: {{ .Values.registry.rootCertBundlePath | quote }}
{{ include "portunus.registryNotificationEnv" . }}
{{- end -}}

{{- define "portunus.registryNotificationEnv" -}}
{{- $refs := include "portunus.secretRefs" (dict "ctx" .) | fromYaml -}}
- name: PORTUNUS_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $refs.webhook.secret }}
      key: {{ $refs.webhook.key }}
- name: REGISTRY_NOTIFICATIONS_ENDPOINTS
  value: {{ include "portunus.registryEndpoints" . | quote }}
{{- end -}}
