{{- define "kurier.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "kurier.labels" -}}
app.kubernetes.io/name: kurier-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kurier.selectorLabels" -}}
app.kubernetes.io/name: kurier-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- /* "<registry>/<repository>:<tag>" of one image: (list $ .Values.image.controller) */ -}}
{{- define "kurier.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $registry := $image.registry | default $root.Values.image.registry -}}
{{- $tag := $image.tag | default $root.Values.image.tag | default $root.Chart.AppVersion | toString -}}
{{- if $registry -}}{{ printf "%s/%s:%s" $registry $image.repository $tag }}{{- else -}}{{ printf "%s:%s" $image.repository $tag }}{{- end -}}
{{- end -}}
