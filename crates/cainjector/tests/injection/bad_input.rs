//! Bad input never crashes the cainjector: the target keeps its bundle and a Warning event on
//! it says why; fixing the source injects it.

use testkit::ClusterCleanup;
use testkit::ControlPlane;

use crate::support::*;

#[tokio::test]
async fn bad_sources_leave_targets_unchanged_with_an_event() -> anyhow::Result<()> {
    let _serial = serial().await;
    let cp = ControlPlane::shared().await?;
    cp.install_crds(&[&crds_dir()]).await?;
    let client = cp.client();
    let ns = cp.namespace("inject-bad").await?;
    let mut cleanup = ClusterCleanup::new(cp);
    let (ca0, ca1) = (new_ca("initial"), new_ca("valid"));
    let n = |s: &str| format!("{}/{s}", &*ns);

    put_secret(
        &client,
        &ns,
        "no-ca",
        &[(ALLOW_DIRECT_INJECTION, "true")],
        &[("tls.crt", &ca1)],
    )
    .await?;
    put_secret(
        &client,
        &ns,
        "garbage",
        &[(ALLOW_DIRECT_INJECTION, "true")],
        &[(
            "ca.crt",
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )],
    )
    .await?;
    put_secret(&client, &ns, "not-allowed", &[], &[("ca.crt", &ca1)]).await?;
    put_certificate(&client, &ns, "unowned", "unowned-tls").await?;
    put_certificate_secret(&client, &ns, "unowned-tls", "someone-else", &ca1).await?;

    // (target kind, annotation, value, expected reason, a word of the message)
    let cases = [
        (
            Kind::Validating,
            INJECT_CA_FROM_SECRET,
            n("missing"),
            "SecretNotFound",
            "missing",
        ),
        (
            Kind::Mutating,
            INJECT_CA_FROM_SECRET,
            n("no-ca"),
            "MissingCAData",
            "ca.crt",
        ),
        (
            Kind::Crd,
            INJECT_CA_FROM_SECRET,
            n("garbage"),
            "InvalidCAData",
            "garbage",
        ),
        (
            Kind::ApiService,
            INJECT_CA_FROM_SECRET,
            n("not-allowed"),
            "SecretNotAllowed",
            ALLOW_DIRECT_INJECTION,
        ),
        (
            Kind::Validating,
            INJECT_CA_FROM,
            n("no-such-cert"),
            "CertificateNotFound",
            "no-such-cert",
        ),
        (
            Kind::Mutating,
            INJECT_CA_FROM,
            n("unowned"),
            "SecretNotOwned",
            "someone-else",
        ),
        (
            Kind::ApiService,
            INJECT_CA_FROM_SECRET,
            "no-namespace".to_owned(),
            "InvalidAnnotation",
            "no-namespace",
        ),
    ];
    let mut targets = Vec::new();
    for (i, (kind, annotation, value, reason, word)) in cases.iter().enumerate() {
        let base = format!("{}-{i}", &*ns);
        let name = create_target(
            &client,
            &mut cleanup,
            *kind,
            &base,
            &[(annotation, value)],
            Some(&ca0),
        )
        .await?;
        targets.push((*kind, name, *reason, *word));
    }

    let mut c = start_cainjector(cp, &[]).await?;
    for (kind, name, reason, word) in &targets {
        let message = wait_for_event(&client, *kind, name, reason).await?;
        assert!(message.contains(word), "{reason} on {name}: {message}");
        let fields = target_certs(&client, *kind, name).await?;
        assert!(
            fields.iter().all(|f| f == &ders(&ca0)),
            "{kind:?} {name} keeps its bundle after {reason}"
        );
    }
    // One event per problem, however often the target is reconciled.
    let (kind, name, reason, _) = &targets[0];
    let count = |events: Vec<k8s_openapi::api::core::v1::Event>| {
        events
            .iter()
            .filter(|e| e.reason.as_deref() == Some(*reason))
            .count()
    };
    assert_eq!(count(target_events(&client, *kind, name).await?), 1);
    c.process.fail_if_exited()?;

    // Fixing a source injects its CA.
    put_ca_secret(&client, &ns, "missing", &ca1).await?;
    wait_for_bundle(&client, *kind, name, &ders_of(&[&ca0, &ca1])).await?;
    put_ca_secret(&client, &ns, "garbage", &ca1).await?;
    wait_for_bundle(&client, Kind::Crd, &targets[2].1, &ders_of(&[&ca0, &ca1])).await?;
    c.process.fail_if_exited()?;
    Ok(())
}

/// `--namespace` scopes the sources: a source elsewhere is refused with an event.
#[tokio::test]
async fn sources_outside_the_namespace_are_refused() -> anyhow::Result<()> {
    let _serial = serial().await;
    let cp = ControlPlane::shared().await?;
    cp.install_crds(&[&crds_dir()]).await?;
    let client = cp.client();
    let (inside, outside) = (
        cp.namespace("inject-scope-in").await?,
        cp.namespace("inject-scope-out").await?,
    );
    let mut cleanup = ClusterCleanup::new(cp);
    let (ca0, ca1) = (new_ca("initial"), new_ca("valid"));
    put_ca_secret(&client, &inside, "source", &ca1).await?;
    put_ca_secret(&client, &outside, "source", &ca1).await?;
    let good = create_target(
        &client,
        &mut cleanup,
        Kind::Validating,
        &inside,
        &[(INJECT_CA_FROM_SECRET, &format!("{}/source", &*inside))],
        Some(&ca0),
    )
    .await?;
    let refused = create_target(
        &client,
        &mut cleanup,
        Kind::Validating,
        &outside,
        &[(INJECT_CA_FROM_SECRET, &format!("{}/source", &*outside))],
        Some(&ca0),
    )
    .await?;
    let _c = start_cainjector(cp, &[&format!("--namespace={}", &*inside)]).await?;
    wait_for_bundle(&client, Kind::Validating, &good, &ders_of(&[&ca0, &ca1])).await?;
    let message = wait_for_event(&client, Kind::Validating, &refused, "SourceOutOfScope").await?;
    assert!(message.contains(&*inside), "{message}");
    let fields = target_certs(&client, Kind::Validating, &refused).await?;
    assert!(fields.iter().all(|f| f == &ders(&ca0)));
    Ok(())
}
