"""The values matrix that every rendering test runs over.

Each case is (id, values). tests/test_render.py validates every case's output with
kubernetes-validate and yamllint and checks the invariants (security contexts, RBAC) on it;
the other test modules pick the cases they assert on by id.
"""

from conftest import TESTS

UPSTREAM_VALUES = TESTS / "values" / "upstream-compatible.yaml"

CASES: dict[str, dict] = {
    "defaults": {},
    "crds-enabled": {"crds": {"enabled": True}},
    "crds-enabled-no-keep": {"crds": {"enabled": True, "keep": False}},
    "install-crds-legacy": {"installCRDs": True},
    "controller-gates": {"featureGates": "WatchListClient=false"},
    "webhook-gates": {"webhook": {"featureGates": "WatchListClient=false"}},
    "cainjector-gates": {"cainjector": {"featureGates": "WatchListClient=false,ServerSideApply=true"}},
    "all-gates": {
        "featureGates": "WatchListClient=false,ServerSideApply=true",
        "webhook": {"featureGates": "OtherNames=false"},
        "cainjector": {"featureGates": "AllAlpha=true"},
    },
    "gates-explicitly-on": {
        "featureGates": "WatchListClient=true",
        "webhook": {"featureGates": "WatchListClient=true"},
        "cainjector": {"featureGates": "WatchListClient=true"},
    },
    "kube-feature-env": {
        "extraEnv": [{"name": "KUBE_FEATURE_WatchListClient", "value": "false"}],
    },
    "kube-feature-env-all": {
        "extraEnv": [{"name": "KUBE_FEATURE_WatchListClient", "value": "false"}],
        "webhook": {"extraEnv": [{"name": "KUBE_FEATURE_WatchListClient", "value": "true"}]},
        "cainjector": {"extraEnv": [{"name": "KUBE_FEATURE_WatchListClient", "value": "false"}]},
    },
    "servicemonitor": {"prometheus": {"servicemonitor": {"enabled": True, "labels": {"release": "prom"}}}},
    "servicemonitor-other-namespace": {
        "prometheus": {"servicemonitor": {"enabled": True, "namespace": "monitoring", "endpointAdditionalProperties": {"scheme": "http"}}}
    },
    "podmonitor": {"prometheus": {"podmonitor": {"enabled": True}}},
    "prometheus-disabled": {"prometheus": {"enabled": False}},
    "cainjector-disabled": {"cainjector": {"enabled": False}},
    "configs": {
        "config": {"kubernetesAPIQPS": 9000, "kubernetesAPIBurst": 9000, "featureGates": {"WatchListClient": False}},
        "webhook": {"config": {"logging": {"format": "json"}}},
        "cainjector": {"config": {"enableDataSourceConfig": {"certificates": False}}},
    },
    "configs-pinned-apiversion": {
        "config": {"apiVersion": "controller.config.cert-manager.io/v1alpha1", "kind": "ControllerConfiguration", "numberOfConcurrentWorkers": 10},
    },
    "webhook-config-tls": {
        "webhook": {
            "config": {
                "securePort": 6443,
                "healthzPort": 8080,
                "tlsConfig": {"filesystem": {"certFile": "/tls/tls.crt", "keyFile": "/tls/tls.key"}},
            },
            "volumes": [{"name": "tls", "secret": {"secretName": "webhook-tls"}}],
            "volumeMounts": [{"name": "tls", "mountPath": "/tls", "readOnly": True}],
        }
    },
    "metrics-dynamic-tls": {
        "webhook": {"config": {"metricsTLSConfig": {"dynamic": {"secretNamespace": "cert-manager", "secretName": "cert-manager-metrics-ca", "dnsNames": ["cert-manager-metrics"]}}}},
        "cainjector": {"config": {"metricsTLSConfig": {"dynamic": {"secretNamespace": "cert-manager", "secretName": "cert-manager-metrics-ca", "dnsNames": ["cert-manager-metrics"]}}}},
    },
    "everything-on": {
        "global": {
            "commonLabels": {"team": "platform"},
            "imagePullSecrets": [{"name": "pull"}],
            "priorityClassName": "system-cluster-critical",
            "revisionHistoryLimit": 1,
            "nodeSelector": {"pool": "system"},
            "leaderElection": {"namespace": "cert-manager", "leaseDuration": "30s", "renewDeadline": "20s", "retryPeriod": "5s"},
            "logLevel": 4,
        },
        "replicaCount": 3,
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
        "networkPolicy": {"enabled": True},
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
        "clusterResourceNamespace": "issuer-secrets",
        "ingressShim": {"defaultIssuerName": "le", "defaultIssuerKind": "ClusterIssuer", "defaultIssuerGroup": "cert-manager.io"},
        "dns01RecursiveNameservers": "8.8.8.8:53,1.1.1.1:53",
        "dns01RecursiveNameserversOnly": True,
        "enableCertificateOwnerRef": True,
        "maxConcurrentChallenges": 120,
        "approveSignerNames": ["issuers.cert-manager.io/*", "clusterissuers.cert-manager.io/*", "example.com/*"],
        "http_proxy": "http://proxy:8080",
        "https_proxy": "http://proxy:8080",
        "no_proxy": "127.0.0.1,localhost",
        "podDnsPolicy": "None",
        "podDnsConfig": {"nameservers": ["1.1.1.1"]},
        "hostAliases": [{"ip": "127.0.0.1", "hostnames": ["foo.local"]}],
        "deploymentAnnotations": {"a": "b"},
        "podAnnotations": {"c": "d"},
        "serviceAccount": {"annotations": {"iam/role": "{{ .Release.Name }}-role"}, "labels": {"x": "y"}},
        "acmesolver": {"runtimeClassName": "gvisor", "image": {"tag": "9.9.9"}},
        "image": {"digest": "sha256:0e072dddd1f7f8fc8909a2ca6f65e76c5f0d2fcfb8be47935ae3457e8bbceb20"},
        "extraObjects": [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: '{{ template \"cert-manager.fullname\" . }}-extra'\n  namespace: '{{ .Release.Namespace }}'\n",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{{ .Release.Name }}-extra-map", "namespace": "cert-manager"}},
        ],
        "webhook": {
            "replicaCount": 3,
            "hostNetwork": True,
            "securePort": 10260,
            "url": {"host": "webhook.example.com"},
            "podDisruptionBudget": {"enabled": True},
            "networkPolicy": {"enabled": True},
            "enableClientVerification": True,
            "clientCAFile": "/ca/ca.crt",
            "apiserverClientCertSubjects": "kube-apiserver",
            "mutatingWebhookConfigurationAnnotations": {"m": "1"},
            "validatingWebhookConfigurationAnnotations": {"v": "1"},
            "serviceType": "LoadBalancer",
            "timeoutSeconds": 10,
        },
        "cainjector": {"replicaCount": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": "50%"}, "networkPolicy": {"enabled": True}},
    },
    "disable-auto-approval": {"disableAutoApproval": True},
    "approve-any-signer": {"approveSignerNames": []},
    "existing-service-accounts": {
        "global": {"imagePullSecrets": [{"name": "pull"}]},
        "serviceAccount": {"create": False, "name": "cm"},
        "webhook": {"serviceAccount": {"create": False, "name": "cm-webhook"}},
        "cainjector": {"serviceAccount": {"create": False}},
    },
    "rbac-disabled": {"global": {"rbac": {"create": False}}},
    "no-aggregate-roles": {"global": {"rbac": {"aggregateClusterRoles": False}}},
    "namespace-and-name-overrides": {"namespace": "security", "fullnameOverride": "cm-rs"},
    "probes-off": {"livenessProbe": {"enabled": False}, "readinessProbe": {"enabled": False}, "cainjector": {"readinessProbe": {"enabled": False}}},
    "static-creator": {"creator": "static"},
}
