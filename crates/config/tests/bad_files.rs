//! Bad configuration is refused with a message naming the file (or flag) and the field.

mod common;

use std::path::{Path, PathBuf};

use config::{ConfigError, cainjector as ca, controller as c, webhook as w};

use common::*;

fn controller_file(dir: &Path, body: &str) -> PathBuf {
    write(dir, "controller.yaml", &doc(c::API_VERSION, c::KIND, body))
}

fn controller_err(body: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = controller_file(dir.path(), body);
    let e = controller(&[], Some(&file)).expect_err(body);
    (e.to_string(), file.display().to_string())
}

#[test]
fn unknown_fields_are_refused_with_their_path() {
    let (e, p) = controller_err("kubernetesApiQps: 5");
    assert!(e.starts_with(&format!("config file {p}: ")), "{e}");
    assert!(e.contains("unknown field `kubernetesApiQps`"), "{e}");
    assert!(e.contains("line 3"), "{e}");

    let (e, _) =
        controller_err("leaderElectionConfig:\n  enabled: true\n  leaseDurationSeconds: 60");
    assert!(
        e.contains("leaderElectionConfig: unknown field `leaseDurationSeconds`"),
        "{e}"
    );

    let (e, _) = controller_err("metricsTLSConfig: {dynamic: {secretNames: [x]}}");
    assert!(
        e.contains("metricsTLSConfig.dynamic: unknown field `secretNames`"),
        "{e}"
    );

    let (e, _) = controller_err("logging: {format: json, level: 3}");
    assert!(e.contains("logging: unknown field `level`"), "{e}");
}

#[test]
fn wrong_api_version_or_kind_says_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.yaml",
        "apiVersion: v1\nkind: ConfigMap\ndata: {}\n",
    );
    let e = controller(&[], Some(&file)).unwrap_err();
    assert!(matches!(e, ConfigError::TypeMeta { .. }));
    assert_eq!(
        e.to_string(),
        format!(
            "config file {}: expected apiVersion \"controller.config.cert-manager.io/v1alpha1\" and kind \
             \"ControllerConfiguration\", got apiVersion \"v1\" and kind \"ConfigMap\"",
            file.display()
        )
    );

    let file = write(
        dir.path(),
        "c.yaml",
        &doc(w::API_VERSION, w::KIND, "securePort: 10250"),
    );
    let e = controller(&[], Some(&file)).unwrap_err().to_string();
    assert!(e.contains("got apiVersion \"webhook.config.cert-manager.io/v1alpha1\" and kind \"WebhookConfiguration\""), "{e}");

    let file = write(dir.path(), "c.yaml", "kubernetesAPIQPS: 5\n");
    let e = controller(&[], Some(&file)).unwrap_err().to_string();
    assert!(e.ends_with("got apiVersion (none) and kind (none)"), "{e}");

    let file = write(
        dir.path(),
        "c.yaml",
        "apiVersion: controller.config.cert-manager.io/v1beta1\nkind: ControllerConfiguration\n",
    );
    let e = controller(&[], Some(&file)).unwrap_err().to_string();
    assert!(
        e.contains("got apiVersion \"controller.config.cert-manager.io/v1beta1\""),
        "{e}"
    );
}

#[test]
fn wrong_types_name_the_field() {
    let (e, p) = controller_err("kubernetesAPIBurst: \"50\"");
    assert!(
        e.starts_with(&format!(
            "config file {p}: kubernetesAPIBurst: invalid type: string \"50\", expected i32"
        )),
        "{e}"
    );
    let (e, _) = controller_err("numberOfConcurrentWorkers: 1.5");
    assert!(
        e.contains("numberOfConcurrentWorkers: invalid type: floating point `1.5`, expected i32"),
        "{e}"
    );
    let (e, _) = controller_err("controllers: issuers");
    assert!(
        e.contains("controllers: invalid type: string \"issuers\", expected a sequence"),
        "{e}"
    );
    let (e, _) = controller_err("leaderElectionConfig: {enabled: yes}");
    assert!(
        e.contains(
            "leaderElectionConfig.enabled: invalid type: string \"yes\", expected a boolean"
        ),
        "{e}"
    );
    let (e, _) = controller_err("ingressShimConfig: nil");
    assert!(e.contains("ingressShimConfig: invalid type"), "{e}");
    let (e, _) = controller_err("featureGates: {ServerSideApply: maybe}");
    assert!(
        e.contains("featureGates.ServerSideApply: invalid type"),
        "{e}"
    );
    let (e, _) = controller_err("pemSizeLimitsConfig: {maxBundleSize: 3000000000}");
    assert!(
        e.contains(
            "pemSizeLimitsConfig.maxBundleSize: invalid value: integer `3000000000`, expected i32"
        ),
        "{e}"
    );
}

#[test]
fn bad_durations_name_the_field_and_quote_go() {
    let (e, p) = controller_err("leaderElectionConfig: {leaseDuration: 7d}");
    assert!(
        e.starts_with(&format!(
            "config file {p}: leaderElectionConfig.leaseDuration: time: unknown unit \"d\" in duration \"7d\""
        )),
        "{e}"
    );
    let (e, _) = controller_err("certificateRequestMinimumBackoffDuration: 1 hour");
    assert!(
        e.contains("certificateRequestMinimumBackoffDuration: time: unknown unit \" hour\""),
        "{e}"
    );
    let (e, _) = controller_err("acmeDNS01Config: {checkRetryPeriod: true}");
    assert!(
        e.contains("acmeDNS01Config.checkRetryPeriod: invalid type: boolean `true`"),
        "{e}"
    );
}

#[test]
fn invalid_values_read_like_upstream() {
    let cases: &[(&str, &str)] = &[
        (
            "kubernetesAPIQPS: -2",
            "kubernetesAPIQPS: Invalid value: -2: must be greater than or equal to -1",
        ),
        (
            "kubernetesAPIBurst: -2",
            "kubernetesAPIBurst: Invalid value: -2: must be greater than or equal to -1; \
             config file {p}: kubernetesAPIBurst: Invalid value: -2: must be higher or equal to kubernetesAPIQPS",
        ),
        (
            "kubernetesAPIQPS: 100",
            "kubernetesAPIBurst: Invalid value: 50: must be higher or equal to kubernetesAPIQPS",
        ),
        (
            "controllers: ['*', -nope]",
            r#"controllers[1]: Invalid value: "nope": is not in the list of known controllers"#,
        ),
        (
            "acmeHTTP01Config: {solverNameservers: ['8.8.8.8']}",
            r#"acmeHTTP01Config.solverNameservers[0]: Invalid value: "8.8.8.8": must be in the format <ip address>:<port>"#,
        ),
        (
            "acmeDNS01Config: {recursiveNameservers: ['https://']}",
            r#"acmeDNS01Config.recursiveNameservers[0]: Invalid value: "https://": must be in the format https://<DoH RFC 8484 server address>"#,
        ),
        (
            "acmeHTTP01Config: {solverResourceLimitsMemory: 64MB}",
            r#"acmeHTTP01Config.solverResourceLimitsMemory: Invalid value: "64MB": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"#,
        ),
        (
            "pemSizeLimitsConfig: {maxCertificateSize: -1}",
            "pemSizeLimitsConfig.maxCertificateSize: Invalid value: -1: must be greater than 0",
        ),
        (
            "pemSizeLimitsConfig: {maxChainLength: 400000}",
            "pemSizeLimitsConfig.maxChainLength: Invalid value: 400000: must not exceed maxBundleSize",
        ),
        (
            "pemSizeLimitsConfig: {maxCertificateSize: 400000}",
            "pemSizeLimitsConfig.maxCertificateSize: Invalid value: 400000: must not be larger than maxBundleSize",
        ),
        (
            "certificateRequestMinimumBackoffDuration: -1h",
            r#"certificateRequestMinimumBackoffDuration: Invalid value: "-1h0m0s": must not be negative"#,
        ),
        (
            "certificateRequestMaximumBackoffDuration: 30m",
            r#"certificateRequestMaximumBackoffDuration: Invalid value: "30m0s": must be greater than or equal to certificateRequestMinimumBackoffDuration"#,
        ),
        (
            "leaderElectionConfig: {leaseDuration: -5s}",
            r#"leaderElectionConfig.leaseDuration: Invalid value: "-5s": must be greater than 0"#,
        ),
        (
            "leaderElectionConfig: {healthzTimeout: -1s}",
            r#"leaderElectionConfig.healthzTimeout: Invalid value: "-1s": must be greater than 0"#,
        ),
        (
            "leaderElectionConfig: {leaseDuration: 30s}",
            r#"leaderElectionConfig.leaseDuration: Invalid value: "30s": must be greater than renewDeadline (40s)"#,
        ),
        (
            "leaderElectionConfig: {renewDeadline: 60s}",
            r#"leaderElectionConfig.leaseDuration: Invalid value: "1m0s": must be greater than renewDeadline (1m0s)"#,
        ),
        (
            "leaderElectionConfig: {retryPeriod: 35s}",
            r#"leaderElectionConfig.renewDeadline: Invalid value: "40s": must be greater than retryPeriod*JitterFactor (42s)"#,
        ),
        (
            "metricsTLSConfig: {filesystem: {certFile: /tls.crt}}",
            "metricsTLSConfig.filesystem.keyFile: Required value: must be specified when using filesystem based TLS config",
        ),
        (
            "metricsTLSConfig: {dynamic: {secretName: ca}}",
            "metricsTLSConfig.dynamic.secretNamespace: Required value: must be specified when using dynamic TLS config; \
             config file {p}: metricsTLSConfig.dynamic.dnsNames: Required value: must be specified when using dynamic TLS config",
        ),
        (
            "logging: {format: xml}",
            r#"logging.format: Invalid value: "xml": Unsupported log format"#,
        ),
        (
            "logging: {flushFrequency: -1s}",
            r#"logging.flushFrequency: Invalid value: "-1s": Must be greater than zero"#,
        ),
        (
            "logging: {format: json, vmodule: [{filePattern: foo, verbosity: 4}]}",
            "logging.vmodule: Forbidden: Only supported for text log format",
        ),
        (
            "logging: {vmodule: [{filePattern: 'a=b', verbosity: 1}]}",
            r#"logging.vmodule[0]: Invalid value: "a=b": File pattern must not contain equal sign or comma"#,
        ),
        (
            "logging: {options: {json: {splitStream: true}}}",
            "logging.options.json.splitStream: Forbidden: Feature LoggingAlphaOptions is disabled",
        ),
        (
            "logging: {options: {text: {infoBufferSize: 1Mi}}}",
            "logging.options.text.infoBufferSize: Forbidden: Feature LoggingAlphaOptions is disabled",
        ),
        (
            "featureGates: {Nope: true}",
            "featureGates.Nope: Invalid value: true: unrecognized feature gate: Nope",
        ),
        (
            "ingressShimConfig: {defaultIssuerKind: ''}\nkubernetesAPIQPS: -3",
            "kubernetesAPIQPS: Invalid value: -3: must be greater than or equal to -1",
        ),
    ];
    for (body, want) in cases {
        let (e, p) = controller_err(body);
        let want = format!("config file {p}: {}", want.replace("{p}", &p));
        assert_eq!(e, want, "{body}");
    }
}

#[test]
fn webhook_and_cainjector_validation() {
    let dir = tempfile::tempdir().unwrap();
    let wf = |body: &str| write(dir.path(), "w.yaml", &doc(w::API_VERSION, w::KIND, body));
    let file = wf("securePort: 70000");
    let e = webhook(&[], Some(&file)).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "config file {}: securePort: Invalid value: 70000: must be a valid port number",
            file.display()
        )
    );
    let file = wf("healthzPort: -1");
    let e = webhook(&[], Some(&file)).unwrap_err().to_string();
    assert!(
        e.ends_with("healthzPort: Invalid value: -1: must be a valid port number"),
        "{e}"
    );
    let file =
        wf("tlsConfig: {filesystem: {certFile: /c, keyFile: /k}, dynamic: {secretName: ca}}");
    let e = webhook(&[], Some(&file)).unwrap_err().to_string();
    assert!(e.contains("tlsConfig: Invalid value: {"), "{e}");
    assert!(
        e.ends_with(": cannot specify both filesystem based and dynamic TLS configuration"),
        "{e}"
    );
    // Like upstream, the webhook does not validate its metrics TLS block.
    let file = wf("metricsTLSConfig: {filesystem: {certFile: /c}}");
    assert!(webhook(&[], Some(&file)).is_ok());
    let e = webhook(&["--bind-address=localhost"], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        r#"flag --bind-address: bindAddress: Invalid value: "localhost": must be an IP address"#
    );

    let cf = write(
        dir.path(),
        "ca.yaml",
        &doc(
            ca::API_VERSION,
            ca::KIND,
            "namespace: cert-manager\nignoreNamespaces: [kube-system]",
        ),
    );
    let e = cainjector(&[], Some(&cf)).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "config file {}: ignoreNamespaces: Forbidden: should not be used with --namespace.",
            cf.display()
        )
    );
    let cf = write(
        dir.path(),
        "ca.yaml",
        &doc(
            ca::API_VERSION,
            ca::KIND,
            "enableInjectableConfig: {apiservices: false}",
        ),
    );
    let e = cainjector(&[], Some(&cf)).unwrap_err().to_string();
    assert!(
        e.contains("enableInjectableConfig: unknown field `apiservices`"),
        "{e}"
    );
    let cf = write(
        dir.path(),
        "ca.yaml",
        &doc(
            ca::API_VERSION,
            ca::KIND,
            "featureGates: {SecretsFilteredCaching: true}",
        ),
    );
    let e = cainjector(&[], Some(&cf)).unwrap_err().to_string();
    assert!(
        e.ends_with("featureGates.SecretsFilteredCaching: Invalid value: true: unrecognized feature gate: SecretsFilteredCaching"),
        "{e}"
    );
}

#[test]
fn invalid_flag_values_name_the_flag() {
    let e = controller(&["--kube-api-qps=-5"], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "flag --kube-api-qps: kubernetesAPIQPS: Invalid value: -5: must be greater than or equal to -1"
    );
    let e = webhook(&["--secure-port=70000"], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "flag --secure-port: securePort: Invalid value: 70000: must be a valid port number"
    );
    let e = controller(&["--controllers=*,nope"], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        r#"flag --controllers: controllers[1]: Invalid value: "nope": is not in the list of known controllers"#
    );
    let e = controller(&["--leader-election-renew-deadline=2m"], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        r#"leaderElectionConfig.leaseDuration: Invalid value: "1m0s": must be greater than renewDeadline (2m0s)"#
    );
    let e = controller(&["--leader-election-lease-duration=0s"], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        r#"flag --leader-election-lease-duration: leaderElectionConfig.leaseDuration: Invalid value: "0s": must be greater than 0"#
    );
    let e = controller(&["--default-issuer-kind="], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "flag --default-issuer-kind: ingressShimConfig.defaultIssuerKind: Required value: must not be empty"
    );
    let e = cainjector(&["--namespace=a", "--ignore-namespaces=b"], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "flag --ignore-namespaces: ignoreNamespaces: Forbidden: should not be used with --namespace."
    );

    // With a file, the flag is blamed for its own items and the file for the rest.
    let dir = tempfile::tempdir().unwrap();
    let file = controller_file(dir.path(), "controllers: [bogus]");
    let e = controller(&["--controllers=nope"], Some(&file))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "config file {}: controllers[0]: Invalid value: \"bogus\": is not in the list of known controllers; \
             flag --controllers: controllers[1]: Invalid value: \"nope\": is not in the list of known controllers",
            file.display()
        )
    );
    // A flag fixes what the file got wrong, as upstream validates the merged result.
    let file = controller_file(dir.path(), "kubernetesAPIQPS: -5");
    assert_eq!(
        controller(&["--kube-api-qps=5"], Some(&file))
            .unwrap()
            .kubernetes_api_qps,
        5.0
    );
}

#[test]
fn unreadable_empty_and_malformed_files() {
    let e = controller(&[], Some(Path::new("/nonexistent/config.yaml"))).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }));
    assert_eq!(
        e.to_string(),
        "config file /nonexistent/config.yaml: failed to read: No such file or directory (os error 2)"
    );

    let dir = tempfile::tempdir().unwrap();
    let e = controller(&[], Some(dir.path())).unwrap_err().to_string();
    assert!(
        e.contains("failed to read: Is a directory (os error 21)"),
        "{e}"
    );

    let file = write(dir.path(), "empty.yaml", "");
    let e = controller(&[], Some(&file)).unwrap_err().to_string();
    assert_eq!(e, format!("config file {} was empty", file.display()));

    let file = write(dir.path(), "list.yaml", "- a\n- b\n");
    let e = controller(&[], Some(&file)).unwrap_err().to_string();
    assert!(e.contains("expected a YAML or JSON object"), "{e}");

    let file = write(dir.path(), "broken.yaml", "apiVersion: [\nkind: x\n");
    let e = controller(&[], Some(&file)).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("config file {}: ", file.display())) && e.contains("line"),
        "{e}"
    );

    let file = write(
        dir.path(),
        "dup.yaml",
        &doc(c::API_VERSION, c::KIND, "namespace: a\nnamespace: b"),
    );
    let e = controller(&[], Some(&file)).unwrap_err().to_string();
    assert!(e.contains("duplicate"), "{e}");

    let file = write(
        dir.path(),
        "c.json",
        r#"{"apiVersion": "controller.config.cert-manager.io/v1alpha1", "kind": "ControllerConfiguration", "kubernetesAPIQps": 1}"#,
    );
    let e = controller(&[], Some(&file)).unwrap_err().to_string();
    assert!(e.contains("unknown field `kubernetesAPIQps`"), "{e}");
}

#[test]
fn several_errors_are_all_reported() {
    let (e, p) =
        controller_err("kubernetesAPIBurst: -2\nnumberOfConcurrentWorkers: 5\ncontrollers: [x]");
    assert_eq!(
        e,
        format!(
            "config file {p}: kubernetesAPIBurst: Invalid value: -2: must be greater than or equal to -1; \
             config file {p}: kubernetesAPIBurst: Invalid value: -2: must be higher or equal to kubernetesAPIQPS; \
             config file {p}: controllers[0]: Invalid value: \"x\": is not in the list of known controllers"
        )
    );
}
