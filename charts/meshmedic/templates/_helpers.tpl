{{/* Name of the chart (nameOverride wins). */}}
{{- define "meshmedic.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Full name of the objects: fullnameOverride, else the release name when it contains the chart name,
else <release>-<chart>. With `helm install meshmedic ...` the objects are named as in deploy/.
*/}}
{{- define "meshmedic.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "meshmedic.labels" -}}
app.kubernetes.io/name: {{ include "meshmedic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: meshmedic
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* The controller's pods: the Deployment's selector, the PDB's, the spread and anti-affinity terms. */}}
{{- define "meshmedic.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshmedic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "meshmedic.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "meshmedic.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository:tag, or repository@digest. */}}
{{- define "meshmedic.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The one subject every operator binding names. */}}
{{- define "meshmedic.subject" -}}
- kind: ServiceAccount
  name: {{ include "meshmedic.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}
