{{/*
Secrets made by the chart: generated once on install and kept on upgrade.

Every value is computed once per render and memoized in .Values.__portunusGenerated, so that the
Secrets, the migration hook's Secret and the registry ConfigMap all see the same random values
and the same signing key. On upgrade the values come back from the cluster through `lookup`;
`helm template` and `--dry-run` have no cluster, so they show fresh values every time.
*/}}

{{- define "portunus.secretName" -}}
{{- printf "%s-secrets" (include "portunus.fullname" .) -}}
{{- end -}}

{{- define "portunus.tokenKeysSecretName" -}}
{{- if .Values.tokenSigning.existingSecret -}}
{{- .Values.tokenSigning.existingSecret -}}
{{- else -}}
{{- printf "%s-token-keys" (include "portunus.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Base64 value of `key` in an existing Secret's data, else "" . (dict "data" .. "key" ..) */}}
{{- define "portunus.keptValue" -}}
{{- if and .data (hasKey .data .key) -}}{{- index .data .key -}}{{- end -}}
{{- end -}}

{{/* Fills .Values.__portunusGenerated: base64 values of the chart's Secret (`secrets`) and of
the token key directory (`tokenKeys`), and the PEM certificate bundle (`bundle`, "" when the
keys live in an existing Secret the chart cannot read). */}}
{{- define "portunus.generate" -}}
{{- if not (hasKey .Values "__portunusGenerated") -}}
{{- $ns := .Release.Namespace -}}
{{- $old := (lookup "v1" "Secret" $ns (include "portunus.secretName" .)) | default dict -}}
{{- $oldData := $old.data | default dict -}}
{{- $secrets := dict -}}
{{- if not .Values.secrets.existingSecret -}}
{{- range $key := list "internal-secret" "webhook-secret" -}}
{{- $_ := set $secrets $key (include "portunus.keptValue" (dict "data" $oldData "key" $key) | default (randAlphaNum 48 | b64enc)) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.registry.bundled.enabled -}}
{{- $_ := set $secrets "registry-http-secret" (include "portunus.keptValue" (dict "data" $oldData "key" "registry-http-secret") | default (randAlphaNum 48 | b64enc)) -}}
{{- end -}}
{{- if and .Values.database.password (not .Values.database.existingSecret) -}}
{{- $_ := set $secrets "db-password" (.Values.database.password | b64enc) -}}
{{- end -}}

{{- $tokenKeys := dict -}}
{{- if .Values.tokenSigning.existingSecret -}}
{{- $existing := (lookup "v1" "Secret" $ns .Values.tokenSigning.existingSecret) | default dict -}}
{{- $tokenKeys = $existing.data | default dict -}}
{{- else -}}
{{- $kept := (lookup "v1" "Secret" $ns (include "portunus.tokenKeysSecretName" .)) | default dict -}}
{{- if $kept.data -}}
{{- $tokenKeys = deepCopy $kept.data -}}
{{- else -}}
{{- $gen := .Values.tokenSigning.generate -}}
{{- $key := "" -}}
{{- $alg := "" -}}
{{- if eq $gen.algorithm "rsa" -}}
{{- $key = genPrivateKey "rsa" -}}
{{- $alg = "rs256" -}}
{{- else -}}
{{- $key = genPrivateKey "ecdsa" -}}
{{- $alg = "es256" -}}
{{- end -}}
{{- $cert := genSelfSignedCertWithKey $gen.commonName nil nil (int $gen.validityDays) $key -}}
{{/* The name format of `portunusctl keys generate`: <UTC time>-<algorithm>. */}}
{{- $name := printf "%s-%s" (dateInZone "20060102T150405Z" (now) "UTC") $alg -}}
{{- $_ := set $tokenKeys (printf "%s.key" $name) ($key | b64enc) -}}
{{- $_ := set $tokenKeys (printf "%s.crt" $name) ($cert.Cert | b64enc) -}}
{{- $_ := set $tokenKeys "active" (printf "%s\n" $name | b64enc) -}}
{{- end -}}
{{- end -}}

{{/* The registry's rootcertbundle: every certificate of the key directory, by name. */}}
{{- $bundle := "" -}}
{{- range $file := keys $tokenKeys | sortAlpha -}}
{{- if and (hasSuffix ".crt" $file) (ne $file "bundle.crt") -}}
{{- $pem := index $tokenKeys $file | b64dec | trim -}}
{{- $bundle = printf "%s%s\n" $bundle $pem -}}
{{- end -}}
{{- end -}}
{{- if and (not $bundle) (hasKey $tokenKeys "bundle.crt") -}}
{{- $bundle = index $tokenKeys "bundle.crt" | b64dec -}}
{{- end -}}
{{- if not .Values.tokenSigning.existingSecret -}}
{{- $_ := set $tokenKeys "bundle.crt" ($bundle | b64enc) -}}
{{- end -}}
{{- $_ := set .Values "__portunusGenerated" (dict "secrets" $secrets "tokenKeys" $tokenKeys "bundle" $bundle) -}}
{{- end -}}
{{- end -}}

{{- define "portunus.generated" -}}
{{- include "portunus.generate" . -}}
{{- toJson .Values.__portunusGenerated -}}
{{- end -}}

{{/* The Secret and key each secret file comes from. Returns YAML:
     internal: {secret, key}  webhook: {secret, key}  db: {secret, key} (absent: no password)
     Call with (dict "ctx" $ "hook" true) for the migration hook, whose chart-made values come
     from the hook's own Secret (the release's Secret does not exist yet during pre-install). */}}
{{- define "portunus.secretRefs" -}}
{{- $ctx := .ctx -}}
{{- $own := include "portunus.secretName" $ctx -}}
{{- if .hook -}}{{- $own = printf "%s-migrate" (include "portunus.fullname" $ctx) -}}{{- end -}}
{{- if $ctx.Values.secrets.existingSecret }}
internal: {secret: {{ $ctx.Values.secrets.existingSecret | quote }}, key: internal-secret}
webhook: {secret: {{ $ctx.Values.secrets.existingSecret | quote }}, key: webhook-secret}
{{- else }}
internal: {secret: {{ $own | quote }}, key: internal-secret}
webhook: {secret: {{ $own | quote }}, key: webhook-secret}
{{- end }}
{{- if $ctx.Values.database.existingSecret }}
db: {secret: {{ $ctx.Values.database.existingSecret | quote }}, key: {{ $ctx.Values.database.existingSecretPasswordKey | quote }}}
{{- else if $ctx.Values.database.password }}
db: {secret: {{ $own | quote }}, key: db-password}
{{- end }}
{{- end -}}
