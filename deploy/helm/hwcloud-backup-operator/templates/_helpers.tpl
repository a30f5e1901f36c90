{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "hwbk.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "hwbk.fullname" -}}
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

{{- define "hwbk.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hwbk.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hwbk.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "hwbk.labels" -}}
helm.sh/chart: {{ include "hwbk.chart" . }}
{{ include "hwbk.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "hwbk.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hwbk.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "hwbk.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "hwbk.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.leaseNamespace }}
{{- end }}

{{/*
Rules on the operator's own resources, Secrets and Events. Rendered into the ClusterRole, or into one Role per
watched namespace. Least privilege, exactly the calls listed in deploy/api-calls.txt (CI checks it): the operator
lists and watches its resources, patches their finalizers and status, reads only the backup a restore names (a
DcsBackup, DdsBackup or TaurusDbBackup) and the credentials Secret. Only BackupSchedules create and delete backup resources (their runs and retention);
nothing is ever updated.
*/}}
{{- define "hwbk.namespacedRules" -}}
- apiGroups: ["backup.hwcloud.dev"]
  resources: ["dcsbackups", "dcsrestores", "ddsbackups", "taurusdbbackups", "ddsrestores", "taurusdbrestores"]
  verbs: ["list", "watch", "patch"]
- apiGroups: ["backup.hwcloud.dev"]
  resources: ["dcsbackups", "ddsbackups", "taurusdbbackups"]
  verbs: ["get"]
- apiGroups: ["backup.hwcloud.dev"]
  resources: ["dcsbackups", "ddsbackups", "taurusdbbackups"]
  verbs: ["create", "delete"]
- apiGroups: ["backup.hwcloud.dev"]
  resources: ["backupschedules"]
  verbs: ["list", "watch"]
- apiGroups: ["backup.hwcloud.dev"]
  resources: ["dcsbackups/status", "dcsrestores/status", "ddsbackups/status", "taurusdbbackups/status", "ddsrestores/status", "taurusdbrestores/status", "backupschedules/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/* Cluster-scoped: the startup check that the CRDs are installed. */}}
{{- define "hwbk.crdRules" -}}
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get"]
{{- end }}

{{/*
One alert of files/alerts.yaml with the overrides of prometheusRule.alerts.<name> and the labels and annotations
added to every alert, as YAML; empty when disabled. A threshold replaces the number after the expression's final
`>`, so only alerts whose expression ends in `> <number>` take one; any other use fails the render.
*/}}
{{- define "hwbk.alertRule" -}}
{{- $rule := deepCopy .rule }}
{{- $o := get (.cfg.alerts | default dict) $rule.alert | default dict }}
{{- if not $o.disabled }}
{{- $number := "[0-9][0-9.eE+*/ ]*" }}
{{- if hasKey $o "threshold" }}
{{- $threshold := toString $o.threshold }}
{{- if not (regexMatch (printf "^%s$" $number) $threshold) }}
{{- fail (printf "prometheusRule.alerts.%s.threshold: %q is not a number" $rule.alert $threshold) }}
{{- end }}
{{- $tail := printf ">\\s*%s$" $number }}
{{- $expr := trim $rule.expr }}
{{- if not (regexMatch $tail $expr) }}
{{- fail (printf "prometheusRule.alerts.%s.threshold: the alert's expression does not end in `> <number>`" $rule.alert) }}
{{- end }}
{{- $_ := set $rule "expr" (regexReplaceAll $tail $expr (printf "> %s" $threshold)) }}
{{- end }}
{{- with $o.for }}
{{- $_ := set $rule "for" . }}
{{- end }}
{{- $labels := mergeOverwrite (dict) ($rule.labels | default dict) (.cfg.additionalRuleLabels | default dict) ($o.labels | default dict) }}
{{- with $o.severity }}
{{- $_ := set $labels "severity" . }}
{{- end }}
{{- $_ := set $rule "labels" $labels }}
{{- $_ := set $rule "annotations" (mergeOverwrite (dict) ($rule.annotations | default dict) (.cfg.additionalRuleAnnotations | default dict)) }}
{{- toYaml $rule }}
{{- end }}
{{- end }}

{{/* The label that assigns a resource to a shard (src/shard.rs SHARD_LABEL). */}}
{{- define "hwbk.shardLabel" -}}
backup.hwcloud.dev/shard
{{- end }}

{{/* Refuses shard names that cannot name a Deployment, a Service and a Lease, and repeated ones. */}}
{{- define "hwbk.checkShards" -}}
{{- $seen := dict }}
{{- range .Values.shards }}
{{- $name := toString . }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $name) }}
{{- fail (printf "shards: %q is not a valid shard name (lowercase letters, digits and '-', starting and ending with a letter or digit)" $name) }}
{{- end }}
{{- if hasKey $seen $name }}
{{- fail (printf "shards: %q is listed twice" $name) }}
{{- end }}
{{- $_ := set $seen $name true }}
{{- $full := printf "%s-shard-%s-metrics" (include "hwbk.fullname" $) $name }}
{{- if gt (len $full) 63 }}
{{- fail (printf "shards: %q makes the Service name %q longer than 63 characters; use a shorter shard name or fullnameOverride" $name $full) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of the main Deployment (shard "") or of a shard's. Call with (dict "root" $ "shard" name). */}}
{{- define "hwbk.shardFullname" -}}
{{- if .shard }}
{{- printf "%s-shard-%s" (include "hwbk.fullname" .root) .shard }}
{{- else }}
{{- include "hwbk.fullname" .root }}
{{- end }}
{{- end }}

{{/*
Pod labels and selector of the main Deployment (shard "") or of a shard's. A shard's pods must not match the
main Deployment's selector (which cannot change on upgrade), so their name label differs: <name>-shard.
*/}}
{{- define "hwbk.shardSelectorLabels" -}}
{{- if .shard }}
app.kubernetes.io/name: {{ printf "%s-shard" (include "hwbk.name" .root) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{ include "hwbk.shardLabel" . }}: {{ .shard | quote }}
{{- else }}
{{- include "hwbk.selectorLabels" .root }}
{{- end }}
{{- end }}

{{/* --watch-label-selector of the main Deployment (shard "") or of a shard's; empty without shards. */}}
{{- define "hwbk.watchSelector" -}}
{{- if .shard }}
{{- printf "%s=%s" (include "hwbk.shardLabel" .) .shard }}
{{- else if .root.Values.shards }}
{{- printf "!%s" (include "hwbk.shardLabel" .) }}
{{- end }}
{{- end }}

{{/* The Lease of the main Deployment (shard "": leaderElection.leaseName) or of a shard's (<leaseName>-<shard>). */}}
{{- define "hwbk.leaseName" -}}
{{- if .shard }}
{{- printf "%s-%s" .root.Values.leaderElection.leaseName .shard }}
{{- else }}
{{- .root.Values.leaderElection.leaseName }}
{{- end }}
{{- end }}
