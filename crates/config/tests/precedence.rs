//! Every field: the default with neither file nor flag, the file's value with only the file,
//! the flag's with only the flag, and the flag's (for lists: the file's items then the flag's,
//! as upstream) with both. Also: every flag is covered, and its help states its default.

mod common;

use clap::CommandFactory;
use serde_json::{Value, json};

use common::*;

struct Row {
    /// JSON pointer into the effective configuration's serialization.
    ptr: &'static str,
    /// The flag under test first; any others make the flag-only case valid.
    flags: &'static [&'static str],
    /// The file body (after apiVersion/kind).
    file: &'static str,
    default: Value,
    from_file: Value,
    from_flag: Value,
    both: Value,
}

macro_rules! row {
    ($ptr:literal, [$($f:literal),*], $file:literal, $d:expr, $fi:expr, $fl:expr) => {
        row!($ptr, [$($f),*], $file, $d, $fi, $fl, $fl)
    };
    ($ptr:literal, [$($f:literal),*], $file:literal, $d:expr, $fi:expr, $fl:expr, $both:expr) => {
        Row {
            ptr: $ptr,
            flags: &[$($f),*],
            file: $file,
            default: serde_json::to_value(&$d).unwrap(),
            from_file: serde_json::to_value(&$fi).unwrap(),
            from_flag: serde_json::to_value(&$fl).unwrap(),
            both: serde_json::to_value(&$both).unwrap(),
        }
    };
}

const NONE: () = ();
const EMPTY: [&str; 0] = [];

fn logging_rows() -> Vec<Row> {
    vec![
        row!(
            "/logging/format",
            ["--logging-format=text"],
            "logging: {format: json}",
            "text",
            "json",
            "text"
        ),
        row!(
            "/logging/verbosity",
            ["--v=4"],
            "logging: {verbosity: 3}",
            0,
            3,
            4
        ),
        row!(
            "/logging/flushFrequency",
            ["--log-flush-frequency=10s"],
            "logging: {flushFrequency: 7s}",
            "5s",
            "7s",
            "10s"
        ),
        row!(
            "/logging/vmodule",
            ["--vmodule=a=1"],
            "logging: {vmodule: [{filePattern: b, verbosity: 2}]}",
            EMPTY,
            json!([{"filePattern": "b", "verbosity": 2}]),
            json!([{"filePattern": "a", "verbosity": 1}]),
            json!([{"filePattern": "b", "verbosity": 2}, {"filePattern": "a", "verbosity": 1}])
        ),
    ]
}

fn metrics_tls_rows() -> Vec<Row> {
    vec![
        row!(
            "/metricsTLSConfig/filesystem/certFile",
            [
                "--metrics-tls-cert-file=/flag/tls.crt",
                "--metrics-tls-private-key-file=/k"
            ],
            "metricsTLSConfig: {filesystem: {certFile: /file/tls.crt, keyFile: /k}}",
            "",
            "/file/tls.crt",
            "/flag/tls.crt"
        ),
        row!(
            "/metricsTLSConfig/filesystem/keyFile",
            [
                "--metrics-tls-private-key-file=/flag/tls.key",
                "--metrics-tls-cert-file=/c"
            ],
            "metricsTLSConfig: {filesystem: {keyFile: /file/tls.key, certFile: /c}}",
            "",
            "/file/tls.key",
            "/flag/tls.key"
        ),
        row!(
            "/metricsTLSConfig/dynamic/leafDuration",
            ["--metrics-dynamic-serving-leaf-duration=24h"],
            "metricsTLSConfig: {dynamic: {leafDuration: 48h}}",
            "168h0m0s",
            "48h0m0s",
            "24h0m0s"
        ),
        row!(
            "/metricsTLSConfig/dynamic/secretNamespace",
            [
                "--metrics-dynamic-serving-ca-secret-namespace=flag-ns",
                "--metrics-dynamic-serving-ca-secret-name=ca",
                "--metrics-dynamic-serving-dns-names=metrics"
            ],
            "metricsTLSConfig: {dynamic: {secretNamespace: file-ns, secretName: ca, dnsNames: [metrics]}}",
            "",
            "file-ns",
            "flag-ns"
        ),
        row!(
            "/metricsTLSConfig/dynamic/secretName",
            [
                "--metrics-dynamic-serving-ca-secret-name=flag-ca",
                "--metrics-dynamic-serving-ca-secret-namespace=ns",
                "--metrics-dynamic-serving-dns-names=metrics"
            ],
            "metricsTLSConfig: {dynamic: {secretName: file-ca, secretNamespace: ns, dnsNames: [metrics]}}",
            "",
            "file-ca",
            "flag-ca"
        ),
        row!(
            "/metricsTLSConfig/dynamic/dnsNames",
            [
                "--metrics-dynamic-serving-dns-names=b,c",
                "--metrics-dynamic-serving-ca-secret-name=ca",
                "--metrics-dynamic-serving-ca-secret-namespace=ns"
            ],
            "metricsTLSConfig: {dynamic: {dnsNames: [a], secretName: ca, secretNamespace: ns}}",
            EMPTY,
            ["a"],
            ["b", "c"],
            ["a", "b", "c"]
        ),
        row!(
            "/metricsTLSConfig/cipherSuites",
            ["--metrics-tls-cipher-suites=TLS_AES_256_GCM_SHA384"],
            "metricsTLSConfig: {cipherSuites: [TLS_AES_128_GCM_SHA256]}",
            EMPTY,
            ["TLS_AES_128_GCM_SHA256"],
            ["TLS_AES_256_GCM_SHA384"],
            ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]
        ),
        row!(
            "/metricsTLSConfig/minTLSVersion",
            ["--metrics-tls-min-version=VersionTLS13"],
            "metricsTLSConfig: {minTLSVersion: VersionTLS12}",
            "",
            "VersionTLS12",
            "VersionTLS13"
        ),
    ]
}

fn leader_election_rows() -> Vec<Row> {
    vec![
        row!(
            "/leaderElectionConfig/enabled",
            ["--leader-elect"],
            "leaderElectionConfig: {enabled: false}",
            true,
            false,
            true
        ),
        row!(
            "/leaderElectionConfig/namespace",
            ["--leader-election-namespace=flag-ns"],
            "leaderElectionConfig: {namespace: file-ns}",
            "kube-system",
            "file-ns",
            "flag-ns"
        ),
        row!(
            "/leaderElectionConfig/leaseDuration",
            ["--leader-election-lease-duration=2m"],
            "leaderElectionConfig: {leaseDuration: 3m}",
            "1m0s",
            "3m0s",
            "2m0s"
        ),
        row!(
            "/leaderElectionConfig/renewDeadline",
            ["--leader-election-renew-deadline=30s"],
            "leaderElectionConfig: {renewDeadline: 35s}",
            "40s",
            "35s",
            "30s"
        ),
        row!(
            "/leaderElectionConfig/retryPeriod",
            ["--leader-election-retry-period=10s"],
            "leaderElectionConfig: {retryPeriod: 12s}",
            "15s",
            "12s",
            "10s"
        ),
    ]
}

fn controller_rows() -> Vec<Row> {
    let mut rows = vec![
        row!(
            "/kubeConfig",
            ["--kubeconfig=/flag/kubeconfig"],
            "kubeConfig: /file/kubeconfig",
            NONE,
            "/file/kubeconfig",
            "/flag/kubeconfig"
        ),
        row!(
            "/apiServerHost",
            ["--master=https://flag:6443"],
            "apiServerHost: https://file:6443",
            "",
            "https://file:6443",
            "https://flag:6443"
        ),
        row!(
            "/kubernetesAPIQPS",
            ["--kube-api-qps=30"],
            "kubernetesAPIQPS: 25.5",
            20.0,
            25.5,
            30.0
        ),
        row!(
            "/kubernetesAPIBurst",
            ["--kube-api-burst=70"],
            "kubernetesAPIBurst: 60",
            50,
            60,
            70
        ),
        row!(
            "/namespace",
            ["--namespace=flag-ns"],
            "namespace: file-ns",
            "",
            "file-ns",
            "flag-ns"
        ),
        row!(
            "/clusterResourceNamespace",
            ["--cluster-resource-namespace=flag-ns"],
            "clusterResourceNamespace: file-ns",
            "kube-system",
            "file-ns",
            "flag-ns"
        ),
        row!(
            "/leaderElectionConfig/healthzTimeout",
            ["--internal-healthz-leader-election-timeout=30s"],
            "leaderElectionConfig: {healthzTimeout: 25s}",
            "20s",
            "25s",
            "30s"
        ),
        row!(
            "/controllers",
            ["--controllers=issuers"],
            "controllers: [orders]",
            ["*"],
            ["orders"],
            ["issuers"],
            ["orders", "issuers"]
        ),
        row!(
            "/acmeHTTP01Config/solverImage",
            ["--acme-http01-solver-image=flag/solver:1"],
            "acmeHTTP01Config: {solverImage: file/solver:1}",
            "quay.io/jetstack/cert-manager-acmesolver:v1.21.1",
            "file/solver:1",
            "flag/solver:1"
        ),
        row!(
            "/acmeHTTP01Config/solverResourceRequestCPU",
            ["--acme-http01-solver-resource-request-cpu=30m"],
            "acmeHTTP01Config: {solverResourceRequestCPU: 20m}",
            "10m",
            "20m",
            "30m"
        ),
        row!(
            "/acmeHTTP01Config/solverResourceRequestMemory",
            ["--acme-http01-solver-resource-request-memory=96Mi"],
            "acmeHTTP01Config: {solverResourceRequestMemory: 80Mi}",
            "64Mi",
            "80Mi",
            "96Mi"
        ),
        row!(
            "/acmeHTTP01Config/solverResourceLimitsCPU",
            ["--acme-http01-solver-resource-limits-cpu=300m"],
            "acmeHTTP01Config: {solverResourceLimitsCPU: 200m}",
            "100m",
            "200m",
            "300m"
        ),
        row!(
            "/acmeHTTP01Config/solverResourceLimitsMemory",
            ["--acme-http01-solver-resource-limits-memory=256Mi"],
            "acmeHTTP01Config: {solverResourceLimitsMemory: 128Mi}",
            "64Mi",
            "128Mi",
            "256Mi"
        ),
        row!(
            "/acmeHTTP01Config/solverRunAsNonRoot",
            ["--acme-http01-solver-run-as-non-root=true"],
            "acmeHTTP01Config: {solverRunAsNonRoot: false}",
            true,
            false,
            true
        ),
        row!(
            "/acmeHTTP01Config/solverNameservers",
            ["--acme-http01-solver-nameservers=8.8.8.8:53"],
            "acmeHTTP01Config: {solverNameservers: ['1.1.1.1:53']}",
            EMPTY,
            ["1.1.1.1:53"],
            ["8.8.8.8:53"],
            ["1.1.1.1:53", "8.8.8.8:53"]
        ),
        row!(
            "/acmeHTTP01Config/solverExtraLabels",
            ["--acme-http01-solver-extra-labels=team=flag,tier=edge"],
            "acmeHTTP01Config: {solverExtraLabels: {team: file, cost: shared}}",
            json!({}),
            json!({"team": "file", "cost": "shared"}),
            json!({"team": "flag", "tier": "edge"}),
            json!({"team": "flag", "tier": "edge", "cost": "shared"})
        ),
        row!(
            "/acmeHTTP01Config/solverRuntimeClassName",
            ["--acme-http01-solver-runtime-class-name=gvisor"],
            "acmeHTTP01Config: {solverRuntimeClassName: kata}",
            "",
            "kata",
            "gvisor"
        ),
        row!(
            "/clusterIssuerAmbientCredentials",
            ["--cluster-issuer-ambient-credentials=True"],
            "clusterIssuerAmbientCredentials: false",
            true,
            false,
            true
        ),
        row!(
            "/issuerAmbientCredentials",
            ["--issuer-ambient-credentials=0"],
            "issuerAmbientCredentials: true",
            false,
            true,
            false
        ),
        row!(
            "/ingressShimConfig/defaultAutoCertificateAnnotations",
            ["--auto-certificate-annotations=flag.example/tls"],
            "ingressShimConfig: {defaultAutoCertificateAnnotations: [file.example/tls]}",
            ["kubernetes.io/tls-acme"],
            ["file.example/tls"],
            ["flag.example/tls"],
            ["file.example/tls", "flag.example/tls"]
        ),
        row!(
            "/ingressShimConfig/extraCertificateAnnotations",
            ["--extra-certificate-annotations=venafi.cert-manager.io/custom-fields"],
            "ingressShimConfig: {extraCertificateAnnotations: [a.example/x]}",
            EMPTY,
            ["a.example/x"],
            ["venafi.cert-manager.io/custom-fields"],
            ["a.example/x", "venafi.cert-manager.io/custom-fields"]
        ),
        row!(
            "/ingressShimConfig/defaultIssuerName",
            ["--default-issuer-name=flag-issuer"],
            "ingressShimConfig: {defaultIssuerName: file-issuer}",
            "",
            "file-issuer",
            "flag-issuer"
        ),
        row!(
            "/ingressShimConfig/defaultIssuerKind",
            ["--default-issuer-kind=ClusterIssuer"],
            "ingressShimConfig: {defaultIssuerKind: AWSPCAClusterIssuer}",
            "Issuer",
            "AWSPCAClusterIssuer",
            "ClusterIssuer"
        ),
        row!(
            "/ingressShimConfig/defaultIssuerGroup",
            ["--default-issuer-group=flag.example"],
            "ingressShimConfig: {defaultIssuerGroup: file.example}",
            "cert-manager.io",
            "file.example",
            "flag.example"
        ),
        row!(
            "/acmeDNS01Config/recursiveNameservers",
            ["--dns01-recursive-nameservers=https://1.1.1.1/dns-query"],
            "acmeDNS01Config: {recursiveNameservers: ['8.8.8.8:53']}",
            EMPTY,
            ["8.8.8.8:53"],
            ["https://1.1.1.1/dns-query"],
            ["8.8.8.8:53", "https://1.1.1.1/dns-query"]
        ),
        row!(
            "/acmeDNS01Config/recursiveNameserversOnly",
            ["--dns01-recursive-nameservers-only=false"],
            "acmeDNS01Config: {recursiveNameserversOnly: true}",
            false,
            true,
            false
        ),
        row!(
            "/acmeDNS01Config/checkRetryPeriod",
            ["--dns01-check-retry-period=30s"],
            "acmeDNS01Config: {checkRetryPeriod: 20s}",
            "10s",
            "20s",
            "30s"
        ),
        row!(
            "/enableCertificateOwnerRef",
            ["--enable-certificate-owner-ref=false"],
            "enableCertificateOwnerRef: true",
            false,
            true,
            false
        ),
        row!(
            "/gatewayAPI/enabled",
            ["--enable-gateway-api=f"],
            "gatewayAPI: {enabled: true}",
            false,
            true,
            false
        ),
        row!(
            "/gatewayAPI/enableListenerSet",
            ["--enable-gateway-api-listenerset=FALSE"],
            "gatewayAPI: {enableListenerSet: true}",
            false,
            true,
            false
        ),
        row!(
            "/gatewayAPI/extraProtocols",
            ["--gateway-api-extra-protocols=DTLS"],
            "gatewayAPI: {extraProtocols: [QUIC]}",
            EMPTY,
            ["QUIC"],
            ["DTLS"],
            ["QUIC", "DTLS"]
        ),
        row!(
            "/copiedAnnotationPrefixes",
            ["--copied-annotation-prefixes=*,-flag.example/"],
            "copiedAnnotationPrefixes: ['*', '-file.example/']",
            [
                "*",
                "-kubectl.kubernetes.io/",
                "-fluxcd.io/",
                "-argocd.argoproj.io/"
            ],
            ["*", "-file.example/"],
            ["*", "-flag.example/"],
            ["*", "-file.example/", "*", "-flag.example/"]
        ),
        row!(
            "/numberOfConcurrentWorkers",
            ["--concurrent-workers=200"],
            "numberOfConcurrentWorkers: 100",
            5,
            100,
            200
        ),
        row!(
            "/maxConcurrentChallenges",
            ["--max-concurrent-challenges=90"],
            "maxConcurrentChallenges: 80",
            60,
            80,
            90
        ),
        row!(
            "/metricsListenAddress",
            ["--metrics-listen-address=127.0.0.1:9000"],
            "metricsListenAddress: 127.0.0.1:8000",
            "0.0.0.0:9402",
            "127.0.0.1:8000",
            "127.0.0.1:9000"
        ),
        row!(
            "/healthzListenAddress",
            ["--internal-healthz-listen-address=127.0.0.1:9004"],
            "healthzListenAddress: 127.0.0.1:9003",
            "0.0.0.0:9403",
            "127.0.0.1:9003",
            "127.0.0.1:9004"
        ),
        row!(
            "/enablePprof",
            ["--enable-profiling=false"],
            "enablePprof: true",
            false,
            true,
            false
        ),
        row!(
            "/pprofAddress",
            ["--profiler-address=localhost:7070"],
            "pprofAddress: localhost:6070",
            "localhost:6060",
            "localhost:6070",
            "localhost:7070"
        ),
        row!(
            "/pemSizeLimitsConfig/maxCertificateSize",
            ["--max-certificate-size=50000"],
            "pemSizeLimitsConfig: {maxCertificateSize: 40000}",
            36500,
            40000,
            50000
        ),
        row!(
            "/pemSizeLimitsConfig/maxPrivateKeySize",
            ["--max-private-key-size=20000"],
            "pemSizeLimitsConfig: {maxPrivateKeySize: 15000}",
            13000,
            15000,
            20000
        ),
        row!(
            "/pemSizeLimitsConfig/maxChainLength",
            ["--max-certificate-chain-length=120000"],
            "pemSizeLimitsConfig: {maxChainLength: 100000}",
            95000,
            100000,
            120000
        ),
        row!(
            "/pemSizeLimitsConfig/maxBundleSize",
            ["--max-certificate-bundle-size=500000"],
            "pemSizeLimitsConfig: {maxBundleSize: 400000}",
            330000,
            400000,
            500000
        ),
        row!(
            "/certificateRequestMinimumBackoffDuration",
            ["--certificate-request-minimum-backoff-duration=2h"],
            "certificateRequestMinimumBackoffDuration: 3h",
            "1h0m0s",
            "3h0m0s",
            "2h0m0s"
        ),
        row!(
            "/certificateRequestMaximumBackoffDuration",
            ["--certificate-request-maximum-backoff-duration=40h"],
            "certificateRequestMaximumBackoffDuration: 50h",
            "32h0m0s",
            "50h0m0s",
            "40h0m0s"
        ),
    ];
    rows.extend(leader_election_rows());
    rows.extend(metrics_tls_rows());
    rows.extend(logging_rows());
    rows
}

fn webhook_rows() -> Vec<Row> {
    let mut rows = vec![
        row!(
            "/securePort",
            ["--secure-port=10250"],
            "securePort: 10260",
            6443,
            10260,
            10250
        ),
        row!(
            "/healthzPort",
            ["--healthz-port=6081"],
            "healthzPort: 6082",
            6080,
            6082,
            6081
        ),
        row!(
            "/bindAddress",
            ["--bind-address=127.0.0.1"],
            "",
            "0.0.0.0",
            "0.0.0.0",
            "127.0.0.1"
        ),
        row!(
            "/tlsConfig/filesystem/certFile",
            ["--tls-cert-file=/flag/tls.crt", "--tls-private-key-file=/k"],
            "tlsConfig: {filesystem: {certFile: /file/tls.crt, keyFile: /k}}",
            "",
            "/file/tls.crt",
            "/flag/tls.crt"
        ),
        row!(
            "/tlsConfig/filesystem/keyFile",
            ["--tls-private-key-file=/flag/tls.key", "--tls-cert-file=/c"],
            "tlsConfig: {filesystem: {keyFile: /file/tls.key, certFile: /c}}",
            "",
            "/file/tls.key",
            "/flag/tls.key"
        ),
        row!(
            "/tlsConfig/dynamic/leafDuration",
            ["--dynamic-serving-leaf-duration=24h"],
            "tlsConfig: {dynamic: {leafDuration: 48h}}",
            "168h0m0s",
            "48h0m0s",
            "24h0m0s"
        ),
        row!(
            "/tlsConfig/dynamic/secretNamespace",
            [
                "--dynamic-serving-ca-secret-namespace=flag-ns",
                "--dynamic-serving-ca-secret-name=ca",
                "--dynamic-serving-dns-names=webhook"
            ],
            "tlsConfig: {dynamic: {secretNamespace: file-ns, secretName: ca, dnsNames: [webhook]}}",
            "",
            "file-ns",
            "flag-ns"
        ),
        row!(
            "/tlsConfig/dynamic/secretName",
            [
                "--dynamic-serving-ca-secret-name=flag-ca",
                "--dynamic-serving-ca-secret-namespace=ns",
                "--dynamic-serving-dns-names=webhook"
            ],
            "tlsConfig: {dynamic: {secretName: file-ca, secretNamespace: ns, dnsNames: [webhook]}}",
            "",
            "file-ca",
            "flag-ca"
        ),
        row!(
            "/tlsConfig/dynamic/dnsNames",
            [
                "--dynamic-serving-dns-names=cert-manager-webhook,cert-manager-webhook.cert-manager",
                "--dynamic-serving-ca-secret-name=ca",
                "--dynamic-serving-ca-secret-namespace=ns"
            ],
            "tlsConfig: {dynamic: {dnsNames: [file-name], secretName: ca, secretNamespace: ns}}",
            EMPTY,
            ["file-name"],
            ["cert-manager-webhook", "cert-manager-webhook.cert-manager"],
            [
                "file-name",
                "cert-manager-webhook",
                "cert-manager-webhook.cert-manager"
            ]
        ),
        row!(
            "/tlsConfig/cipherSuites",
            ["--tls-cipher-suites=TLS_AES_256_GCM_SHA384"],
            "tlsConfig: {cipherSuites: [TLS_AES_128_GCM_SHA256]}",
            EMPTY,
            ["TLS_AES_128_GCM_SHA256"],
            ["TLS_AES_256_GCM_SHA384"],
            ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]
        ),
        row!(
            "/tlsConfig/minTLSVersion",
            ["--tls-min-version=VersionTLS13"],
            "tlsConfig: {minTLSVersion: VersionTLS12}",
            "",
            "VersionTLS12",
            "VersionTLS13"
        ),
        row!(
            "/kubeConfig",
            ["--kubeconfig=/flag/kubeconfig"],
            "kubeConfig: /file/kubeconfig",
            NONE,
            "/file/kubeconfig",
            "/flag/kubeconfig"
        ),
        row!(
            "/apiServerHost",
            ["--api-server-host=https://flag:6443"],
            "apiServerHost: https://file:6443",
            "",
            "https://file:6443",
            "https://flag:6443"
        ),
        row!(
            "/enablePprof",
            ["--enable-profiling=false"],
            "enablePprof: true",
            false,
            true,
            false
        ),
        row!(
            "/pprofAddress",
            ["--profiler-address=localhost:7070"],
            "pprofAddress: localhost:6070",
            "localhost:6060",
            "localhost:6070",
            "localhost:7070"
        ),
        row!(
            "/enableClientVerification",
            ["--enable-client-verification=false"],
            "enableClientVerification: true",
            false,
            true,
            false
        ),
        row!(
            "/clientCAPath",
            ["--client-ca-path=/flag/ca.crt"],
            "clientCAPath: /file/ca.crt",
            "",
            "/file/ca.crt",
            "/flag/ca.crt"
        ),
        row!(
            "/clientCertificateSubjects",
            ["--client-subject-names=kube-apiserver"],
            "clientCertificateSubjects: [apiserver-a]",
            EMPTY,
            ["apiserver-a"],
            ["kube-apiserver"],
            ["apiserver-a", "kube-apiserver"]
        ),
        row!(
            "/metricsListenAddress",
            ["--metrics-listen-address=0"],
            "metricsListenAddress: 127.0.0.1:8000",
            "0.0.0.0:9402",
            "127.0.0.1:8000",
            "0"
        ),
    ];
    rows.extend(metrics_tls_rows());
    rows.extend(logging_rows());
    rows
}

fn cainjector_rows() -> Vec<Row> {
    let mut rows = vec![
        row!(
            "/kubeConfig",
            ["--kubeconfig=/flag/kubeconfig"],
            "kubeConfig: /file/kubeconfig",
            NONE,
            "/file/kubeconfig",
            "/flag/kubeconfig"
        ),
        row!(
            "/namespace",
            ["--namespace=flag-ns"],
            "namespace: file-ns",
            "",
            "file-ns",
            "flag-ns"
        ),
        row!(
            "/ignoreNamespaces",
            ["--ignore-namespaces=flag-a,flag-b"],
            "ignoreNamespaces: [file-a]",
            EMPTY,
            ["file-a"],
            ["flag-a", "flag-b"],
            ["file-a", "flag-a", "flag-b"]
        ),
        row!(
            "/enableDataSourceConfig/certificates",
            ["--enable-certificates-data-source=true"],
            "enableDataSourceConfig: {certificates: false}",
            true,
            false,
            true
        ),
        row!(
            "/enableInjectableConfig/validatingWebhookConfigurations",
            ["--enable-validatingwebhookconfigurations-injectable"],
            "enableInjectableConfig: {validatingWebhookConfigurations: false}",
            true,
            false,
            true
        ),
        row!(
            "/enableInjectableConfig/mutatingWebhookConfigurations",
            ["--enable-mutatingwebhookconfigurations-injectable=t"],
            "enableInjectableConfig: {mutatingWebhookConfigurations: false}",
            true,
            false,
            true
        ),
        row!(
            "/enableInjectableConfig/customResourceDefinitions",
            ["--enable-customresourcedefinitions-injectable=1"],
            "enableInjectableConfig: {customResourceDefinitions: false}",
            true,
            false,
            true
        ),
        row!(
            "/enableInjectableConfig/apiServices",
            ["--enable-apiservices-injectable=TRUE"],
            "enableInjectableConfig: {apiServices: false}",
            true,
            false,
            true
        ),
        row!(
            "/enablePprof",
            ["--enable-profiling=false"],
            "enablePprof: true",
            false,
            true,
            false
        ),
        row!(
            "/pprofAddress",
            ["--profiler-address=localhost:7070"],
            "pprofAddress: localhost:6070",
            "localhost:6060",
            "localhost:6070",
            "localhost:7070"
        ),
        row!(
            "/metricsListenAddress",
            ["--metrics-listen-address=0"],
            "metricsListenAddress: 127.0.0.1:8000",
            "0.0.0.0:9402",
            "127.0.0.1:8000",
            "0"
        ),
    ];
    rows.extend(leader_election_rows());
    rows.extend(metrics_tls_rows());
    rows.extend(logging_rows());
    rows
}

/// Runs the four cases of every row against one component.
fn check_rows<C: serde::Serialize, E: std::fmt::Display>(
    rows: &[Row],
    api_version: &str,
    kind: &str,
    load: impl Fn(&[&str], Option<&std::path::Path>) -> Result<C, E>,
) {
    let dir = tempfile::tempdir().unwrap();
    let get = |args: &[&str], body: Option<&str>, ptr: &str| -> Value {
        let file = body.map(|b| write(dir.path(), "config.yaml", &doc(api_version, kind, b)));
        let cfg = load(args, file.as_deref())
            .unwrap_or_else(|e| panic!("{ptr}: args {args:?}, file {body:?}: {e}"));
        let v = serde_json::to_value(&cfg).unwrap();
        v.pointer(ptr)
            .unwrap_or_else(|| panic!("{ptr} not in {v}"))
            .clone()
    };
    for r in rows {
        assert_eq!(get(&[], None, r.ptr), r.default, "{}: default", r.ptr);
        assert_eq!(
            get(&[], Some(r.file), r.ptr),
            r.from_file,
            "{}: file only",
            r.ptr
        );
        assert_eq!(
            get(r.flags, None, r.ptr),
            r.from_flag,
            "{}: flag only",
            r.ptr
        );
        assert_eq!(
            get(r.flags, Some(r.file), r.ptr),
            r.both,
            "{}: flag and file",
            r.ptr
        );
    }
}

#[test]
fn controller_flag_beats_file_beats_default() {
    check_rows(
        &controller_rows(),
        config::controller::API_VERSION,
        config::controller::KIND,
        controller,
    );
}

#[test]
fn webhook_flag_beats_file_beats_default() {
    check_rows(
        &webhook_rows(),
        config::webhook::API_VERSION,
        config::webhook::KIND,
        webhook,
    );
}

#[test]
fn cainjector_flag_beats_file_beats_default() {
    check_rows(
        &cainjector_rows(),
        config::cainjector::API_VERSION,
        config::cainjector::KIND,
        cainjector,
    );
}

/// The long name of a row's flag under test.
fn flag_name(r: &Row) -> &'static str {
    let f = r.flags[0].trim_start_matches('-');
    f.split('=').next().unwrap()
}

/// Every flag of the command is in the table, and its help states its non-zero default the
/// way pflag prints it.
fn check_flags(cmd: clap::Command, rows: &[Row]) {
    let tested: Vec<&str> = rows.iter().map(flag_name).collect();
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if ["help", "config", "feature-gates"].contains(&long) {
            continue;
        }
        assert!(tested.contains(&long), "--{long} has no precedence row");
    }
    for r in rows {
        let name = flag_name(r);
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(name))
            .unwrap_or_else(|| panic!("--{name} is not a flag"));
        let value_name = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_default();
        let shown = match &r.default {
            Value::Null | Value::Bool(false) => continue,
            Value::String(s) if s.is_empty() => continue,
            Value::Array(a) if a.is_empty() => continue,
            Value::Object(o) if o.is_empty() => continue,
            Value::String(s) if value_name == "duration" || value_name == "Level" => s.clone(),
            Value::String(s) => format!("{s:?}"),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 => format!("{}", f as i64),
                _ => n.to_string(),
            },
            Value::Array(a) => format!(
                "[{}]",
                a.iter()
                    .map(|v| v.as_str().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            other => other.to_string(),
        };
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        assert!(
            help.contains(&format!("(default {shown})")),
            "--{name}: help lacks (default {shown}): {help}"
        );
    }
}

#[test]
fn every_flag_is_covered_and_documents_its_default() {
    check_flags(ControllerCli::command(), &controller_rows());
    check_flags(WebhookCli::command(), &webhook_rows());
    check_flags(CAInjectorCli::command(), &cainjector_rows());
}

#[test]
fn internal_flags_stay_hidden() {
    let cmd = ControllerCli::command();
    for name in [
        "internal-healthz-listen-address",
        "internal-healthz-leader-election-timeout",
    ] {
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(name))
            .unwrap();
        assert!(arg.is_hide_set(), "--{name} must be hidden");
    }
}

#[test]
fn feature_gates_from_the_file_are_returned_for_the_gate_resolver() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.yaml",
        &doc(
            config::controller::API_VERSION,
            config::controller::KIND,
            "featureGates: {ServerSideApply: true, SecretsFilteredCaching: false}",
        ),
    );
    let cli = <ControllerCli as clap::Parser>::try_parse_from([
        "controller",
        &format!("--config={}", file.display()),
        "--feature-gates=ServerSideApply=false",
    ])
    .unwrap();
    let cfg = config::controller::load(&cli.flags, &cli.common).unwrap();
    assert_eq!(
        cfg.feature_gates,
        [
            ("SecretsFilteredCaching".to_owned(), false),
            ("ServerSideApply".to_owned(), true)
        ]
        .into()
    );
    let gates = componentbase::gates::resolve(
        featuregates::certmanager::CONTROLLER,
        cli.common.feature_gates.as_deref(),
        Some(&cfg.feature_gates),
        Vec::new(),
    )
    .unwrap();
    assert!(!gates.enabled("ServerSideApply"), "the flag wins per gate");
    assert!(
        !gates.enabled("SecretsFilteredCaching"),
        "the file beats the default"
    );
}

#[test]
fn list_flags_repeat_and_replace_defaults_without_a_file() {
    let cfg = controller(
        &["--controllers=issuers", "--controllers=orders,challenges"],
        None,
    )
    .unwrap();
    assert_eq!(cfg.controllers, ["issuers", "orders", "challenges"]);
    // Upstream's re-parse after loading the file appends to the file's defaulted list.
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.yaml",
        &doc(
            config::controller::API_VERSION,
            config::controller::KIND,
            "",
        ),
    );
    let cfg = controller(&["--controllers=-issuers"], Some(&file)).unwrap();
    assert_eq!(cfg.controllers, ["*", "-issuers"]);
    let cfg = controller(&["--extra-certificate-annotations="], None).unwrap();
    assert!(cfg.ingress_shim.extra_certificate_annotations.is_empty());
}

#[test]
fn the_deprecated_gateway_switches_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let body = "enableGatewayAPI: true\nenableGatewayAPIListenerSet: true";
    let file = write(
        dir.path(),
        "c.yaml",
        &doc(
            config::controller::API_VERSION,
            config::controller::KIND,
            body,
        ),
    );
    let cfg = controller(&[], Some(&file)).unwrap();
    assert!(cfg.gateway_api.enabled && cfg.gateway_api.enable_listener_set);
    let body = "enableGatewayAPI: true\ngatewayAPI: {enabled: false}";
    let file = write(
        dir.path(),
        "c.yaml",
        &doc(
            config::controller::API_VERSION,
            config::controller::KIND,
            body,
        ),
    );
    assert!(
        !controller(&[], Some(&file)).unwrap().gateway_api.enabled,
        "gatewayAPI wins"
    );
}

#[test]
fn zero_and_empty_file_values_take_the_default_as_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let body = "clusterResourceNamespace: ''\ncontrollers: []\nleaderElectionConfig: {leaseDuration: 0s}\nkubernetesAPIQPS: 0\nkubernetesAPIBurst: 0";
    let file = write(
        dir.path(),
        "c.yaml",
        &doc(
            config::controller::API_VERSION,
            config::controller::KIND,
            body,
        ),
    );
    let cfg = controller(&[], Some(&file)).unwrap();
    assert_eq!(cfg.cluster_resource_namespace, "kube-system");
    assert_eq!(cfg.controllers, ["*"]);
    assert_eq!(
        cfg.leader_election.base.lease_duration,
        config::Duration::from_secs(60)
    );
    // Pointers upstream: an explicit 0 is kept (client-go then uses its own defaults).
    assert_eq!((cfg.kubernetes_api_qps, cfg.kubernetes_api_burst), (0.0, 0));
}

#[test]
fn relative_paths_in_the_file_are_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("etc");
    std::fs::create_dir(&sub).unwrap();
    let body = "kubeConfig: kube/config\ntlsConfig: {filesystem: {certFile: tls/tls.crt, keyFile: ./tls/tls.key}}\n\
                metricsTLSConfig: {filesystem: {certFile: m.crt, keyFile: /abs/m.key}}\nclientCAPath: ca.crt";
    let file = write(
        &sub,
        "webhook.yaml",
        &doc(config::webhook::API_VERSION, config::webhook::KIND, body),
    );
    let cfg = webhook(&[], Some(&file)).unwrap();
    let d = sub.to_string_lossy();
    assert_eq!(
        cfg.kube_config.unwrap().to_string_lossy(),
        format!("{d}/kube/config")
    );
    assert_eq!(cfg.tls.filesystem.cert_file, format!("{d}/tls/tls.crt"));
    assert_eq!(cfg.tls.filesystem.key_file, format!("{d}/tls/tls.key"));
    assert_eq!(cfg.metrics_tls.filesystem.cert_file, format!("{d}/m.crt"));
    assert_eq!(cfg.metrics_tls.filesystem.key_file, "/abs/m.key");
    assert_eq!(
        cfg.client_ca_path, "ca.crt",
        "upstream leaves clientCAPath alone"
    );
    // Flags are relative to the working directory, as given.
    let cfg = webhook(
        &["--tls-cert-file=x.crt", "--tls-private-key-file=x.key"],
        Some(&file),
    )
    .unwrap();
    assert_eq!(cfg.tls.filesystem.cert_file, "x.crt");

    // The controller resolves only kubeConfig.
    let body = "kubeConfig: kc\nmetricsTLSConfig: {filesystem: {certFile: m.crt, keyFile: m.key}}";
    let file = write(
        &sub,
        "controller.yaml",
        &doc(
            config::controller::API_VERSION,
            config::controller::KIND,
            body,
        ),
    );
    let cfg = controller(&[], Some(&file)).unwrap();
    assert_eq!(
        cfg.kube_config.unwrap().to_string_lossy(),
        format!("{d}/kc")
    );
    assert_eq!(cfg.metrics_tls.filesystem.cert_file, "m.crt");
}

#[test]
fn pflag_boolean_syntax() {
    assert!(
        !controller(&["--leader-elect=false"], None)
            .unwrap()
            .leader_election
            .base
            .enabled
    );
    assert!(
        controller(&["--leader-elect"], None)
            .unwrap()
            .leader_election
            .base
            .enabled
    );
    let e = <ControllerCli as clap::Parser>::try_parse_from(["controller", "--leader-elect=yes"])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains(r#"strconv.ParseBool: parsing "yes": invalid syntax"#),
        "{e}"
    );
    let e = <ControllerCli as clap::Parser>::try_parse_from(["controller", "--kube-api-burst=x"])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains(r#"strconv.ParseInt: parsing "x": invalid syntax"#),
        "{e}"
    );
    let e = <ControllerCli as clap::Parser>::try_parse_from([
        "controller",
        "--leader-election-lease-duration=60",
    ])
    .unwrap_err();
    assert!(
        e.to_string()
            .contains(r#"time: missing unit in duration "60""#),
        "{e}"
    );
}

#[test]
fn summary_is_one_line_of_json_with_upstream_names() {
    let s = config::ControllerConfig::default().summary();
    assert!(!s.contains('\n'));
    let v: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["leaderElectionConfig"]["leaseDuration"], "1m0s");
    assert_eq!(v["kubernetesAPIQPS"], 20.0);
    let s = config::WebhookConfig::default().summary();
    assert!(s.contains("\"securePort\":6443"), "{s}");
    let s = config::CAInjectorConfig::default().summary();
    assert!(s.contains("\"enableInjectableConfig\""), "{s}");
}
