{{/*
The Portunus configuration file (portunus.yaml): the same YAML every binary reads with --config
(docs/configuration.md). One file serves every service. The chart sets the keys that wire the
deployment together (listen addresses, the addresses of the other services' Services, the
database, the registry, the token keys directory); each service's `config` value is merged
below them, and the top-level `config` value below those, so the chart's wiring always wins.
Secrets are not in this file: every pod reads them from files named by PORTUNUS_<KEY>_FILE
(mounted from Secrets).
*/}}

{{- define "portunus.configDir" -}}/etc/portunus/config{{- end -}}
{{- define "portunus.configPath" -}}/etc/portunus/config/portunus.yaml{{- end -}}
{{- define "portunus.secretsDir" -}}/etc/portunus/secrets{{- end -}}
{{- define "portunus.tokenKeysDir" -}}/etc/portunus/token-keys{{- end -}}
{{- define "portunus.registryCADir" -}}/etc/portunus/registry-ca{{- end -}}
{{- define "portunus.dbCADir" -}}/etc/portunus/db-ca{{- end -}}
{{- define "portunus.gatewayTLSDir" -}}/etc/portunus/gateway-tls{{- end -}}

{{- define "portunus.listen" -}}
{{- $host := .ctx.Values.listenHost -}}
{{- printf "%s:%s" $host (include "portunus.port" .) -}}
{{- end -}}

{{- define "portunus.configData" -}}
{{- $v := .Values -}}
{{- $db := $v.database -}}
{{- $cfg := dict -}}
{{- $_ := set $cfg "log" (dict "level" $v.log.level "format" $v.log.format) -}}
{{- $_ := set $cfg "internal" (dict "rpc_timeout" $v.internal.rpcTimeout) -}}
{{- $_ := set $cfg "db" (dict
      "host" (required "database.host is required: the host name or address of the external PostgreSQL server" $db.host)
      "port" (int $db.port)
      "database" (required "database.database is required: the PostgreSQL database Portunus uses" $db.database)
      "username" (required "database.username is required: the PostgreSQL user Portunus connects as" $db.username)
      "sslmode" $db.sslmode
      "pool" (int $db.pool)
      "connect_timeout" $db.connectTimeout
      "statement_timeout" $db.statementTimeout) -}}
{{- $registry := dict
      "url" (include "portunus.registryURL" .)
      "service" (required "registry.service is required: the registry's auth.token.service (the audience of Portunus tokens)" $v.registry.service)
      "tls_verify" $v.registry.tlsVerify
      "timeout" $v.registry.timeout -}}
{{- if $v.registry.caBundle.configMap -}}
{{- $_ := set $registry "ca_file" (printf "%s/%s" (include "portunus.registryCADir" .) $v.registry.caBundle.key) -}}
{{- end -}}
{{- $_ := set $cfg "registry" $registry -}}

{{- range $name := list "auth" "catalog" "scanner" "health" -}}
{{- $c := dict "ctx" $ "component" $name -}}
{{- $section := dict
      "listen" (include "portunus.listen" (merge (dict "port" "grpc") $c))
      "metrics_listen" (include "portunus.listen" (merge (dict "port" "metrics") $c))
      "address" (include "portunus.serviceAddress" $c) -}}
{{- if eq $name "auth" -}}
{{- $_ := set $section "token" (dict
      "issuer" (required "auth.tokenIssuer is required: the registry's auth.token.issuer" $v.auth.tokenIssuer)
      "keys_dir" (include "portunus.tokenKeysDir" $)) -}}
{{- end -}}
{{- if eq $name "health" -}}
{{- $_ := set $section "scanner_enabled" $v.scanner.enabled -}}
{{- end -}}
{{- if and (eq $name "scanner") $v.scanner.harborAdapter.enabled -}}
{{- $_ := set $section "harbor_adapter" (dict "listen" (include "portunus.listen" (merge (dict "port" "http") $c))) -}}
{{- end -}}
{{- $_ := set $cfg $name (mergeOverwrite (deepCopy (index $v $name).config) $section) -}}
{{- end -}}

{{- $gateway := dict
      "listen" (include "portunus.listen" (dict "ctx" $ "component" "gateway" "port" "http"))
      "metrics_listen" (include "portunus.listen" (dict "ctx" $ "component" "gateway" "port" "metrics"))
      "external_url" (include "portunus.gatewayExternalURL" .) -}}
{{- if $v.gateway.tls.existingSecret -}}
{{- $_ := set $gateway "tls" (dict
      "cert_file" (printf "%s/tls.crt" (include "portunus.gatewayTLSDir" .))
      "key_file" (printf "%s/tls.key" (include "portunus.gatewayTLSDir" .))) -}}
{{- end -}}
{{- $_ := set $cfg "gateway" (mergeOverwrite (deepCopy $v.gateway.config) $gateway) -}}
{{- /* `config`: settings of the whole deployment (delete.*, user_permission.*, ...), below the
     services' own `config` and the chart's wiring. */ -}}
{{- toYaml (mergeOverwrite (deepCopy $v.config) $cfg) -}}
{{- end -}}

{{/* The ConfigMap's data. */}}
{{- define "portunus.configMapData" -}}
portunus.yaml: |
  # Portunus configuration rendered by the Helm chart {{ include "portunus.chart" . }}; every key:
  # docs/configuration.md. Secrets come from PORTUNUS_<KEY>_FILE files, not from this file.
  {{- include "portunus.configData" . | nindent 2 }}
{{- end -}}
