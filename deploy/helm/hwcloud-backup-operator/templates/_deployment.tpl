{{/*
One operator Deployment: the main one (shard "") or the one of a shard in .Values.shards. With shards, the main
one watches the resources without the shard label and each shard's the resources labelled with its name; each
elects its leader on a Lease of its own. Call with (dict "root" $ "shard" name).
*/}}
{{- define "hwbk.deployment" }}
{{- $root := .root }}
{{- $shard := .shard }}
{{- with $root }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "hwbk.shardFullname" (dict "root" . "shard" $shard) }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "hwbk.labels" . | nindent 4 }}
    {{- with $shard }}
    backup.hwcloud.dev/shard: {{ . | quote }}
    {{- end }}
spec:
  replicas: {{ .Values.replicaCount }}
  {{- if not .Values.leaderElection.enabled }}
  # Without a lease the old pod must stop before the new one starts.
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "hwbk.shardSelectorLabels" (dict "root" . "shard" $shard) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "hwbk.shardSelectorLabels" (dict "root" . "shard" $shard) | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "hwbk.serviceAccountName" . }}
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: operator
          image: {{ include "hwbk.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args:
            - run
            {{- with .Values.watchNamespaces }}
            - --namespaces={{ join "," . }}
            {{- end }}
            {{- with (include "hwbk.watchSelector" (dict "root" . "shard" $shard)) }}
            - {{ printf "--watch-label-selector=%s" . | quote }}
            {{- end }}
            - --default-credentials-secret={{ .Values.defaultCredentialsSecret }}
            - --poll-interval={{ .Values.pollInterval }}
            - --poll-max-interval={{ .Values.pollMaxInterval }}
            - --concurrency={{ .Values.concurrency }}
            - --metrics-addr=0.0.0.0:{{ .Values.metrics.port }}
            - --log-format={{ .Values.log.format }}
            - --log-level={{ .Values.log.level }}
            - --leader-election={{ .Values.leaderElection.enabled }}
            - --lease-name={{ include "hwbk.leaseName" (dict "root" . "shard" $shard) }}
            - --lease-namespace={{ include "hwbk.leaseNamespace" . }}
            {{- if .Values.simulate.enabled }}
            - --simulate
            {{- end }}
            - --sim-backup-seconds={{ .Values.simulate.backupSeconds }}
            - --cloud-request-timeout={{ .Values.cloud.requestTimeout }}
            - --cloud-rate-per-second={{ .Values.cloud.ratePerSecond }}
            - {{ printf "--allowed-endpoint-hosts=%s" (join "," .Values.cloud.allowedEndpointHosts) | quote }}
            {{- range .Values.extraArgs }}
            - {{ . | quote }}
            {{- end }}
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            {{- with .Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: metrics
              containerPort: {{ .Values.metrics.port }}
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /healthz
              port: metrics
            initialDelaySeconds: 5
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: metrics
            initialDelaySeconds: 2
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 3
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
{{- end }}
