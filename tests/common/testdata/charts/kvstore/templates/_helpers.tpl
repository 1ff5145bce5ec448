{{- define "kvstore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kvstore.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The headless Service: the full name with a suffix, still within 63 characters. */}}
{{- define "kvstore.headlessName" -}}
{{- printf "%s-headless" (include "kvstore.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kvstore.secretName" -}}
{{- default (include "kvstore.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "kvstore.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kvstore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kvstore.labels" -}}
{{ include "kvstore.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The password: the value given, else the one in the Secret already in the
cluster (lookup; empty under helm template), else "changeme". Base64.
*/}}
{{- define "kvstore.password" -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "kvstore.secretName" .) | default dict }}
{{- $data := get $secret "data" | default dict }}
{{- if .Values.auth.password }}
{{- .Values.auth.password | b64enc }}
{{- else if hasKey $data "password" }}
{{- index $data "password" }}
{{- else }}
{{- "changeme" | b64enc }}
{{- end }}
{{- end }}
