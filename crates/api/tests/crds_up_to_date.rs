//! The CRDs checked in under `charts/cert-manager-rs/crds` must be what the types generate.

use std::path::PathBuf;

const FIX: &str = "cargo run -p api --bin crdgen -- charts/cert-manager-rs/crds";

fn crd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../charts/cert-manager-rs/crds")
}

#[test]
fn checked_in_crds_match_the_types() {
    let dir = crd_dir();
    let generated = api::crds::files().expect("CRDs generate");
    let mut stale = Vec::new();
    for (name, yaml) in &generated {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(on_disk) if &on_disk == yaml => {}
            Ok(_) => stale.push(format!("{name} differs")),
            Err(e) => stale.push(format!("{name} cannot be read: {e}")),
        }
    }
    // No leftovers from renamed or removed CRDs either.
    let expected: Vec<&str> = generated.iter().map(|(n, _)| n.as_str()).collect();
    for entry in std::fs::read_dir(&dir)
        .expect("CRD directory exists")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && !expected.contains(&name.as_str()) {
            stale.push(format!("{name} is not generated any more"));
        }
    }
    assert!(
        stale.is_empty(),
        "the checked-in CRDs are out of date ({}); regenerate them with:\n    {FIX}",
        stale.join("; ")
    );
}

#[test]
fn there_are_six_crds_with_upstream_names() {
    let names: Vec<String> = api::crds::files()
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "certificates.cert-manager.io.yaml",
            "certificaterequests.cert-manager.io.yaml",
            "issuers.cert-manager.io.yaml",
            "clusterissuers.cert-manager.io.yaml",
            "orders.acme.cert-manager.io.yaml",
            "challenges.acme.cert-manager.io.yaml",
        ]
    );
}
