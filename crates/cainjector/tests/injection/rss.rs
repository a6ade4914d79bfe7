//! Peak RSS (VmHWM) of the cainjector with 100 unrelated Secrets of 1 MiB in the cluster, with
//! WatchListClient on and off, while it also injects one target. Ignored by default (it is a
//! measurement, not a check); run it with a release build:
//!
//! ```text
//! cargo build --release -p cainjector
//! CAINJECTOR_BIN=target/release/cainjector cargo nextest run -p cainjector --run-ignored only \
//!     --no-capture rss
//! ```

use testkit::ClusterCleanup;
use testkit::ControlPlane;
use testkit::component;

use crate::support::*;

const SECRETS: usize = 100;
const SECRET_SIZE: usize = 1024 * 1024;

fn field_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| anyhow::anyhow!("no {field} in /proc/{pid}/status"))?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("no value for {field}"))?
        .parse()?)
}

#[tokio::test]
#[ignore = "measurement: run explicitly, preferably with CAINJECTOR_BIN set to a release build"]
async fn rss_with_100_unrelated_1mib_secrets() -> anyhow::Result<()> {
    let _serial = serial().await;
    let cp = ControlPlane::shared().await?;
    cp.install_crds(&[&crds_dir()]).await?;
    let client = cp.client();
    let ns = cp.namespace("rss").await?;
    for i in 0..SECRETS {
        component::create_secret(client.clone(), &ns, &format!("blob-{i}"), &[], SECRET_SIZE)
            .await?;
    }
    let mut cleanup = ClusterCleanup::new(cp);
    let ca = new_ca("rss");
    put_ca_secret(&client, &ns, "source", &ca).await?;
    let source = format!("{}/source", &*ns);
    let mut report = Vec::new();
    for (i, watch_list) in [true, false].into_iter().enumerate() {
        let base = format!("{}-{i}", &*ns);
        let target = create_target(
            &client,
            &mut cleanup,
            Kind::Validating,
            &base,
            &[(INJECT_CA_FROM_SECRET, &source)],
            None,
        )
        .await?;
        let gate = format!("--feature-gates=WatchListClient={watch_list}");
        let c = start_cainjector(cp, &[&gate]).await?;
        wait_for_bundle(&client, Kind::Validating, &target, &ders(&ca)).await?;
        let pid = c.process.id();
        let mib =
            |field: &str| -> anyhow::Result<f64> { Ok(field_kib(pid, field)? as f64 / 1024.0) };
        report.push(format!(
            "cainjector WatchListClient={watch_list}: VmHWM {:.1} MiB, VmRSS {:.1} MiB (anon {:.1}, file {:.1}) ({})",
            mib("VmHWM:")?,
            mib("VmRSS:")?,
            mib("RssAnon:")?,
            mib("RssFile:")?,
            cainjector_bin().display()
        ));
    }
    for line in &report {
        println!("{line}");
    }
    Ok(())
}
