{{- define "scorer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "scorer.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "scorer.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "scorer.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "scorer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scorer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "scorer.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "scorer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "scorer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "scorer.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "scorer.secretName" -}}
{{- default (include "scorer.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{- define "scorer.hasSecret" -}}
{{- if or .Values.existingSecret (gt (len (compact (values .Values.secrets))) 0) -}}true{{- end -}}
{{- end -}}

{{/* Drain budget: SHUTDOWN_GRACE_MS plus 15 s, unless set explicitly. */}}
{{- define "scorer.terminationGrace" -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add (div (int (default "30000" .Values.config.SHUTDOWN_GRACE_MS)) 1000) 15 -}}
{{- end -}}
{{- end -}}

{{/* The outcome monitor's pods: another app name, so the scorer's Service never selects them and its job label is opportunity-scorer-monitor. */}}
{{- define "scorer.monitorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "scorer.name" . }}-monitor
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
