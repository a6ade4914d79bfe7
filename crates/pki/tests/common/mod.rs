//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use pki::{
    CertificateTemplate, CsrSpec, EcCurve, IssuedCertificate, KeyType, PrivateKey,
    RequestOverrides, Subject, Usage,
};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Whether `tool` can be run; tests that need it return early otherwise.
pub fn have(tool: &str) -> bool {
    let arg = if tool == "keytool" {
        "-help"
    } else {
        "version"
    };
    let ok = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        eprintln!("skipping: {tool} is not installed");
    }
    ok
}

pub struct Scratch(tempfile::TempDir);

impl Scratch {
    pub fn new() -> Self {
        Scratch(tempfile::tempdir().unwrap())
    }

    pub fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, data).unwrap();
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// Runs a command and returns its output, panicking with stderr on failure.
pub fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(program: &str, args: &[&str]) -> String {
    String::from_utf8(run(program, args).stdout).unwrap()
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub fn ec_key() -> PrivateKey {
    PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap()
}

pub fn leaf_spec(cn: &str) -> CsrSpec {
    CsrSpec {
        subject: Subject {
            common_name: cn.into(),
            ..Default::default()
        },
        dns_names: vec![cn.into()],
        ..Default::default()
    }
}

/// A self-signed CA for `key`.
pub fn self_signed_ca(cn: &str, key: &PrivateKey) -> IssuedCertificate {
    let overrides = RequestOverrides::new(std::time::Duration::from_secs(3600), true, &[]);
    let template =
        CertificateTemplate::from_spec(&leaf_spec(cn), key.public_key().clone(), &overrides)
            .unwrap();
    pki::self_sign(&template, key).unwrap()
}

pub fn server_overrides() -> RequestOverrides {
    RequestOverrides::new(
        std::time::Duration::from_secs(3600),
        false,
        &[
            Usage::DigitalSignature,
            Usage::KeyEncipherment,
            Usage::ServerAuth,
        ],
    )
}
