{{/*
Names, labels, images, addresses and URLs shared by every template.
*/}}

{{- define "portunus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-portunus, or the release name when it already contains the chart name. Kept to 40
characters so that "<fullname>-<component>-<suffix>" stays a valid name everywhere. */}}
{{- define "portunus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "portunus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object; call with (dict "ctx" $ "component" "auth"). */}}
{{- define "portunus.labels" -}}
helm.sh/chart: {{ include "portunus.chart" .ctx }}
{{ include "portunus.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: portunus
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "portunus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portunus.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{- define "portunus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "portunus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository@digest, else repository:tag (tag defaults to appVersion). (dict "image" .. "default" ..) */}}
{{- define "portunus.imageRef" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .default .image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "portunus.image" -}}
{{- include "portunus.imageRef" (dict "image" .Values.image "default" .Chart.AppVersion) -}}
{{- end -}}

{{/* The Portunus services: the binary each runs and the ports of its container, fixed at the
product's defaults (README "Ports"). The gateway's `grpc` is its HTTP port. */}}
{{- define "portunus.components" -}}
auth: {grpc: 50051, metrics: 9091}
catalog: {grpc: 50052, metrics: 9092}
scanner: {grpc: 50053, metrics: 9093, http: 8090}
health: {grpc: 50054, metrics: 9094}
gateway: {http: 8080, metrics: 9095}
{{- end -}}

{{- define "portunus.port" -}}
{{- $c := include "portunus.components" .ctx | fromYaml -}}
{{- index (index $c .component) .port -}}
{{- end -}}

{{/* The in-cluster DNS name of a component's Service. (dict "ctx" $ "component" "auth") */}}
{{- define "portunus.serviceHost" -}}
{{- printf "%s-%s.%s.svc.%s" (include "portunus.fullname" .ctx) .component .ctx.Release.Namespace .ctx.Values.clusterDomain -}}
{{- end -}}

{{/* host:port other services dial (the <svc>.address key). */}}
{{- define "portunus.serviceAddress" -}}
{{- $values := index .ctx.Values .component -}}
{{- printf "%s:%v" (include "portunus.serviceHost" .) $values.service.port -}}
{{- end -}}

{{- define "portunus.gatewayScheme" -}}
{{- if .Values.gateway.tls.existingSecret -}}https{{- else -}}http{{- end -}}
{{- end -}}

{{/* The gateway's URL inside the cluster, without a trailing slash. */}}
{{- define "portunus.gatewayInternalURL" -}}
{{- $scheme := include "portunus.gatewayScheme" . -}}
{{- $host := include "portunus.serviceHost" (dict "ctx" . "component" "gateway") -}}
{{- $port := int .Values.gateway.service.port -}}
{{- if or (and (eq $scheme "http") (eq $port 80)) (and (eq $scheme "https") (eq $port 443)) -}}
{{- printf "%s://%s" $scheme $host -}}
{{- else -}}
{{- printf "%s://%s:%d" $scheme $host $port -}}
{{- end -}}
{{- end -}}

{{/* The gateway's public URL: gateway.externalURL, else the ingress, else the in-cluster URL. */}}
{{- define "portunus.gatewayExternalURL" -}}
{{- if .Values.gateway.externalURL -}}
{{- .Values.gateway.externalURL | trimSuffix "/" -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) (required "ingress.host is required when ingress.enabled is true" .Values.ingress.host) -}}
{{- else -}}
{{- include "portunus.gatewayInternalURL" . -}}
{{- end -}}
{{- end -}}

{{/* True ("true") when the gateway's public URL is only its in-cluster Service URL. */}}
{{- define "portunus.externalURLIsInternal" -}}
{{- if and (not .Values.gateway.externalURL) (not .Values.ingress.enabled) -}}true{{- end -}}
{{- end -}}

{{- define "portunus.tokenRealm" -}}
{{- printf "%s/v2/token" (include "portunus.gatewayExternalURL" .) -}}
{{- end -}}

{{- define "portunus.webhookURL" -}}
{{- if .Values.registry.notifications.url -}}
{{- .Values.registry.notifications.url -}}
{{- else -}}
{{- printf "%s/v2/webhooks/events" (include "portunus.gatewayInternalURL" .) -}}
{{- end -}}
{{- end -}}

{{/* The registry API as Portunus reaches it (registry.url). */}}
{{- define "portunus.registryURL" -}}
{{- if .Values.registry.bundled.enabled -}}
{{- printf "http://%s:%v" (include "portunus.serviceHost" (dict "ctx" . "component" "registry")) .Values.registry.bundled.service.port -}}
{{- else -}}
{{- $url := required "registry.url is required (the registry's API base URL as Portunus reaches it, e.g. http://registry:5000), or set registry.bundled.enabled=true" .Values.registry.url -}}
{{- if not (regexMatch "^https?://[^/]+" $url) -}}
{{- fail (printf "registry.url must start with http:// or https:// and name a host (got %q)" $url) -}}
{{- end -}}
{{- $url | trimSuffix "/" -}}
{{- end -}}
{{- end -}}

{{/* Where users push and pull, for the notes. */}}
{{- define "portunus.registryPublicHost" -}}
{{- if .Values.registry.externalURL -}}
{{- .Values.registry.externalURL | trimSuffix "/" | trimPrefix "https://" | trimPrefix "http://" -}}
{{- else if and .Values.registry.bundled.enabled .Values.registry.bundled.ingress.enabled -}}
{{- .Values.registry.bundled.ingress.host -}}
{{- else -}}
{{- regexReplaceAll "^https?://([^/]+).*$" (include "portunus.registryURL" .) "${1}" -}}
{{- end -}}
{{- end -}}

{{/* Pod annotations that tell Prometheus where to scrape. (dict "ctx" $ "port" 9091) */}}
{{- define "portunus.scrapeAnnotations" -}}
{{- if .ctx.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}
