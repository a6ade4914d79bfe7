//! Leader election: only the replica holding `cert-manager-cainjector-leader-election` injects;
//! when it dies, another takes over.

use std::time::Duration;
use testkit::ClusterCleanup;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use testkit::ControlPlane;
use testkit::component;

use crate::support::*;

const LEASE: &str = "cert-manager-cainjector-leader-election";

async fn holder(client: &kube::Client, namespace: &str) -> Result<String, String> {
    let lease = Api::<Lease>::namespaced(client.clone(), namespace)
        .get_opt(LEASE)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no Lease yet")?;
    lease
        .spec
        .and_then(|s| s.holder_identity)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "no holder".to_owned())
}

#[tokio::test]
async fn only_the_leader_injects_and_a_successor_takes_over() -> anyhow::Result<()> {
    let _serial = serial().await;
    let cp = ControlPlane::shared().await?;
    cp.install_crds(&[&crds_dir()]).await?;
    let client = cp.client();
    let ns = cp.namespace("inject-leader").await?;
    let mut cleanup = ClusterCleanup::new(cp);
    let (ca1, ca2, ca3) = (new_ca("first"), new_ca("second"), new_ca("third"));
    put_ca_secret(&client, &ns, "source", &ca1).await?;
    let source = format!("{}/source", &*ns);
    let target = create_target(
        &client,
        &mut cleanup,
        Kind::Validating,
        &ns,
        &[(INJECT_CA_FROM_SECRET, &source)],
        None,
    )
    .await?;
    let lease_ns = format!("--leader-election-namespace={}", &*ns);
    let args = [
        "--leader-elect=true",
        lease_ns.as_str(),
        // Long enough that only a released Lease lets the successor in quickly.
        "--leader-election-lease-duration=60s",
        "--leader-election-renew-deadline=2s",
        "--leader-election-retry-period=500ms",
    ];

    let mut first = start_cainjector(cp, &args).await?;
    wait_for_bundle(&client, Kind::Validating, &target, &ders(&ca1)).await?;
    let first_holder = holder(&client, &ns).await.map_err(anyhow::Error::msg)?;
    assert!(
        first.process.stderr().contains("acquired leadership"),
        "{}",
        first.process.stderr()
    );

    let mut second = start_cainjector(cp, &args).await?;
    put_ca_secret(&client, &ns, "source", &ca2).await?;
    wait_for_bundle(&client, Kind::Validating, &target, &ders_of(&[&ca1, &ca2])).await?;
    assert_eq!(
        holder(&client, &ns).await.map_err(anyhow::Error::msg)?,
        first_holder
    );
    assert!(
        !second.process.stderr().contains("acquired leadership"),
        "the second replica waits:\n{}",
        second.process.stderr()
    );

    // SIGTERM: the leader stops injecting and releases the Lease on its way out.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &first.process.id().to_string()])
        .status()?;
    assert!(status.success());
    let exit = first.process.wait_for_exit(Duration::from_secs(20)).await?;
    assert!(exit.success(), "{exit}: {}", first.process.stderr());
    let after = holder(&client, &ns).await;
    assert_ne!(
        after.as_deref(),
        Ok(first_holder.as_str()),
        "the Lease was released"
    );
    let next = component::eventually("a new leader", Duration::from_secs(30), async || {
        let h = holder(&client, &ns).await?;
        if h == first_holder {
            Err(format!("still held by {h}"))
        } else {
            Ok(h)
        }
    })
    .await?;
    assert_ne!(next, first_holder);
    put_ca_secret(&client, &ns, "source", &ca3).await?;
    wait_for_bundle(
        &client,
        Kind::Validating,
        &target,
        &ders_of(&[&ca1, &ca2, &ca3]),
    )
    .await?;
    second.process.fail_if_exited()?;
    Ok(())
}
