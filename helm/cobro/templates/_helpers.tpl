{{- define "cobro.fullname" -}}{{ .Release.Name }}-cobro{{- end -}}
{{- define "cobro.labels" -}}
app.kubernetes.io/name: cobro
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "cobro.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag }}{{- end -}}
{{- define "cobro.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "cobro.fullname" . }}
  - secretRef:
      name: {{ .Values.existingSecret }}
{{- end -}}
{{- define "cobro.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  fsGroup: 10001
{{- end -}}
{{- define "cobro.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end -}}
