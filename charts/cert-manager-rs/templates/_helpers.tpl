{{/*
Names, labels and images.

Resource names, label values and container names are upstream cert-manager's, not derived from
this chart's name: a release installed as `cert-manager` gets the Deployments `cert-manager`,
`cert-manager-webhook` and `cert-manager-cainjector`, the webhook CA Secret
`cert-manager-webhook-ca`, and the selectors upstream uses. That is what lets
`helm upgrade cert-manager <this chart>` replace an upstream installation in place (Deployment
selectors are immutable) and what keeps users' NetworkPolicies, PodMonitors and dashboards
working.
*/}}

{{/* The base name: "cert-manager" unless nameOverride. */}}
{{- define "cert-manager.name" -}}
{{- default "cert-manager" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every resource name; the release name alone when it already contains the base name. */}}
{{- define "cert-manager.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "cert-manager.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "webhook.name" -}}webhook{{- end -}}
{{- define "cainjector.name" -}}cainjector{{- end -}}

{{- define "webhook.fullname" -}}
{{- printf "%s-webhook" (include "cert-manager.fullname" . | trunc 55 | trimSuffix "-") | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cainjector.fullname" -}}
{{- printf "%s-cainjector" (include "cert-manager.fullname" . | trunc 52 | trimSuffix "-") | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Secret in which the webhook keeps its self-signed serving CA. */}}
{{- define "webhook.caSecretName" -}}
{{- printf "%s-ca" (include "webhook.fullname" .) -}}
{{- end -}}

{{/* Install namespace: .Values.namespace, else the release's (helm/helm#5358). */}}
{{- define "cert-manager.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{- define "cert-manager.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cert-manager.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "webhook.serviceAccountName" -}}
{{- if .Values.webhook.serviceAccount.create -}}
{{- default (include "webhook.fullname" .) .Values.webhook.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.webhook.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cainjector.serviceAccountName" -}}
{{- if .Values.cainjector.serviceAccount.create -}}
{{- default (include "cainjector.fullname" .) .Values.cainjector.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.cainjector.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Per-component naming, so templates can say (include "cm.labels" (list . "webhook")).
Component keys: controller, webhook, cainjector, crds.
*/}}
{{- define "cm.appName" -}}
{{- $ctx := index . 0 -}}{{- $component := index . 1 -}}
{{- if eq $component "webhook" -}}{{ include "webhook.name" $ctx }}
{{- else if eq $component "cainjector" -}}{{ include "cainjector.name" $ctx }}
{{- else -}}{{ include "cert-manager.name" $ctx }}
{{- end -}}
{{- end -}}

{{/* Labels that select a component's Pods (Deployment selectors: never change these). */}}
{{- define "cm.selectorLabels" -}}
{{- $ctx := index . 0 -}}{{- $component := index . 1 -}}
app.kubernetes.io/name: {{ include "cm.appName" . }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ $component | quote }}
{{- end -}}

{{/* All labels of a component's resources. */}}
{{- define "cm.labels" -}}
{{- $ctx := index . 0 -}}
app: {{ include "cm.appName" . }}
{{ include "cm.selectorLabels" . }}
app.kubernetes.io/version: {{ $ctx.Chart.AppVersion | quote }}
{{- if eq $ctx.Values.creator "helm" }}
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $ctx.Chart.Name $ctx.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- with $ctx.Values.global.commonLabels }}
{{ include "cm.stringMap" . | trim }}
{{- end }}
{{- end -}}

{{/*
Image reference, with upstream's semantics:
  repository set:  [registry/]repository
  otherwise:       [registry/][imageRegistry/][imageNamespace/]name
then ":tag@digest", ":tag", "@digest", or ":<appVersion>" when neither is set.
`registry` is upstream's deprecated per-component prefix, kept so old values still work.
Usage: include "cm.image" (list <image values> <root context>)
*/}}
{{- define "cm.image" -}}
{{- $image := index . 0 -}}{{- $ctx := index . 1 -}}
{{- $repository := "" -}}
{{- if $image.repository -}}
{{- $repository = $image.repository -}}
{{- else -}}
{{- $repository = required "image.name must be set when image.repository is empty" $image.name -}}
{{- with $ctx.Values.imageNamespace }}{{ $repository = printf "%s/%s" . $repository }}{{ end -}}
{{- with $ctx.Values.imageRegistry }}{{ $repository = printf "%s/%s" . $repository }}{{ end -}}
{{- end -}}
{{- with $image.registry }}{{ $repository = printf "%s/%s" . $repository }}{{ end -}}
{{- $repository -}}
{{- if and $image.tag $image.digest -}}
:{{ $image.tag }}@{{ $image.digest }}
{{- else if $image.tag -}}
:{{ $image.tag }}
{{- else if $image.digest -}}
@{{ $image.digest }}
{{- else -}}
:{{ $ctx.Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/*
A component's versioned config file, with upstream's defaulting: apiVersion and kind are filled
in when unset, everything else is passed through untouched (the binaries reject unknown fields).
Usage: include "cm.configFile" (list <config values> <apiVersion> <kind>)
*/}}
{{- define "cm.configFile" -}}
{{- $config := deepCopy (index . 0) -}}
{{- $_ := set $config "apiVersion" (default (index . 1) $config.apiVersion) -}}
{{- $_ := set $config "kind" (default (index . 2) $config.kind) -}}
{{- toYaml $config -}}
{{- end -}}

{{/* Where each component's config file is mounted and how it is passed (as upstream). */}}
{{- define "cm.configDir" -}}/var/cert-manager/config{{- end -}}
{{- define "cm.configArg" -}}--config=/var/cert-manager/config/config.yaml{{- end -}}

{{/*
--v, unless global.logLevel is "" or null (0 is a valid level, so no plain `if`).
*/}}
{{- define "cm.logLevelArg" -}}
{{- if not (has (quote .Values.global.logLevel) (list "" (quote ""))) -}}
- --v={{ .Values.global.logLevel }}
{{- end -}}
{{- end -}}

{{/* Leader election flags shared by the controller and the cainjector. */}}
{{- define "cm.leaderElectionArgs" -}}
{{- with .Values.global.leaderElection -}}
- --leader-election-namespace={{ .namespace }}
{{- with .leaseDuration }}
- --leader-election-lease-duration={{ . }}
{{- end }}
{{- with .renewDeadline }}
- --leader-election-renew-deadline={{ . }}
{{- end }}
{{- with .retryPeriod }}
- --leader-election-retry-period={{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
revisionHistoryLimit, when global.revisionHistoryLimit is set (0 included).
*/}}
{{- define "cm.revisionHistoryLimit" -}}
{{- if not (has (quote .Values.global.revisionHistoryLimit) (list "" (quote ""))) -}}
revisionHistoryLimit: {{ .Values.global.revisionHistoryLimit }}
{{- end -}}
{{- end -}}

{{/*
Pod-level fields every component shares: pull secrets (when the chart does not create the
ServiceAccount that would carry them), service account, priority class, user namespaces.
Usage: include "cm.podCommon" (list <root> <component values> <serviceAccountName>)
*/}}
{{- define "cm.podCommon" -}}
{{- $ctx := index . 0 -}}{{- $v := index . 1 -}}{{- $sa := index . 2 -}}
{{- if not $v.serviceAccount.create }}
{{- with $ctx.Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
serviceAccountName: {{ $sa }}
{{- if hasKey $v "automountServiceAccountToken" }}
automountServiceAccountToken: {{ $v.automountServiceAccountToken }}
{{- end }}
enableServiceLinks: {{ $v.enableServiceLinks }}
{{- with $ctx.Values.global.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- if hasKey $ctx.Values.global "hostUsers" }}
hostUsers: {{ $ctx.Values.global.hostUsers }}
{{- end }}
{{- with $v.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
Scheduling fields every component shares. nodeSelector merges global.nodeSelector under the
component's own.
Usage: include "cm.podScheduling" (list <root> <component values>)
*/}}
{{- define "cm.podScheduling" -}}
{{- $ctx := index . 0 -}}{{- $v := index . 1 -}}
{{- $nodeSelector := merge (deepCopy ($v.nodeSelector | default dict)) (deepCopy ($ctx.Values.global.nodeSelector | default dict)) }}
{{- with $nodeSelector }}
nodeSelector:
  {{- range $key, $value := . }}
  {{ $key }}: {{ $value | quote }}
  {{- end }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $v.runtimeClassName }}
runtimeClassName: {{ $v.runtimeClassName | quote }}
{{- else if $ctx.Values.global.runtimeClassName }}
runtimeClassName: {{ $ctx.Values.global.runtimeClassName | quote }}
{{- end }}
{{- end -}}

{{/*
prometheus.io scrape annotations, added to the Pods when Prometheus is on but neither a
ServiceMonitor nor a PodMonitor is (as upstream).
*/}}
{{- define "cm.scrapeAnnotations" -}}
{{- $p := .Values.prometheus -}}
{{- if and $p.enabled (not (or $p.servicemonitor.enabled $p.podmonitor.enabled)) -}}
prometheus.io/path: "/metrics"
prometheus.io/scrape: "true"
prometheus.io/port: "9402"
{{- end -}}
{{- end -}}

{{/*
Pod annotations: the user's podAnnotations, the scrape annotations, and a checksum of the
component's config file so that Pods roll when it changes.
Usage: include "cm.podAnnotations" (list <root> <component values> <config apiVersion> <config kind>)
*/}}
{{- define "cm.podAnnotations" -}}
{{- $ctx := index . 0 -}}{{- $v := index . 1 -}}
{{- $annotations := deepCopy ($v.podAnnotations | default dict) -}}
{{- $annotations = merge $annotations (include "cm.scrapeAnnotations" $ctx | fromYaml) -}}
{{- if $v.config -}}
{{- $_ := set $annotations "checksum/config" (include "cm.configFile" (list $v.config (index . 2) (index . 3)) | sha256sum) -}}
{{- end -}}
{{- with $annotations -}}
annotations:
  {{- include "cm.stringMap" . | trim | nindent 2 }}
{{- end -}}
{{- end -}}

{{/*
A PodDisruptionBudget spec: minAvailable 1 unless minAvailable or maxUnavailable is given.
Usage: include "cm.pdbSpec" (list <root> <podDisruptionBudget values> <component>)
*/}}
{{- define "cm.pdbSpec" -}}
{{- $ctx := index . 0 -}}{{- $pdb := index . 1 -}}{{- $component := index . 2 -}}
selector:
  matchLabels:
    {{- include "cm.selectorLabels" (list $ctx $component) | nindent 4 }}
{{- if not (or (hasKey $pdb "minAvailable") (hasKey $pdb "maxUnavailable")) }}
minAvailable: 1
{{- end }}
{{- if hasKey $pdb "minAvailable" }}
minAvailable: {{ $pdb.minAvailable }}
{{- end }}
{{- if hasKey $pdb "maxUnavailable" }}
maxUnavailable: {{ $pdb.maxUnavailable }}
{{- end }}
{{- with $pdb.unhealthyPodEvictionPolicy }}
unhealthyPodEvictionPolicy: {{ . }}
{{- end }}
{{- end -}}

{{/*
Service account annotations: keys and values may be templates (as upstream).
Usage: include "cm.serviceAccountAnnotations" (list <root> <annotations>)
*/}}
{{- define "cm.serviceAccountAnnotations" -}}
{{- $ctx := index . 0 -}}
{{- with index . 1 }}
annotations:
  {{- range $k, $v := . }}
  {{ tpl $k $ctx }}: {{ tpl ($v | toString) $ctx | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
The probe scheme of a metrics listener: HTTPS when the component's config file enables metrics
TLS (the probe then skips certificate verification, as kubelet does).
Usage: include "cm.metricsScheme" <component config values>
*/}}
{{- define "cm.metricsScheme" -}}
{{- $tls := (. | default dict).metricsTLSConfig | default dict -}}
{{- if or $tls.dynamic $tls.filesystem -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{/*
installCRDs is the deprecated spelling of crds.enabled + crds.keep; refuse contradictions (as
upstream).
*/}}
{{- define "cm.crdCheck" -}}
{{- if and .Values.installCRDs .Values.crds.enabled -}}
{{- fail "the deprecated installCRDs cannot be set together with its replacement crds.enabled" -}}
{{- end -}}
{{- if and .Values.installCRDs (not .Values.crds.keep) -}}
{{- fail "crds.keep=false does not work with installCRDs; use crds.enabled and crds.keep instead" -}}
{{- end -}}
{{- end -}}

{{/*
Labels or annotations from values, one "key: value" line each, values always strings (a YAML
value like `y` or `1` would otherwise become a bool or number, which Kubernetes rejects).
*/}}
{{- define "cm.stringMap" -}}
{{- range $k, $v := . }}
{{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end -}}
