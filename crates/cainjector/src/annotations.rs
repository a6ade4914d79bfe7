//! The annotations that ask for injection (on targets) and allow it (on Secrets), and which
//! source a target asks for.

use std::collections::BTreeMap;
use std::fmt;

/// On a target: `<namespace>/<certificate>`, inject the `ca.crt` of that Certificate's Secret.
pub const INJECT_CA_FROM: &str = "cert-manager.io/inject-ca-from";
/// On a target: `<namespace>/<secret>`, inject the `ca.crt` of that Secret.
pub const INJECT_CA_FROM_SECRET: &str = "cert-manager.io/inject-ca-from-secret";
/// On a target: `"true"`, inject the API server's CA (from the cainjector's kubeconfig).
pub const INJECT_APISERVER_CA: &str = "cert-manager.io/inject-apiserver-ca";
/// On a Secret: `"true"` allows `inject-ca-from-secret` to read it.
pub const ALLOW_DIRECT_INJECTION: &str = "cert-manager.io/allow-direct-injection";
/// On a Certificate's Secret: the name of the Certificate that wrote it.
pub const CERTIFICATE_NAME: &str = "cert-manager.io/certificate-name";
/// The Secret key holding the CA bundle.
pub const CA_KEY: &str = "ca.crt";

/// The three annotations a target keeps in the cache; every other one is dropped.
pub const TARGET_ANNOTATIONS: [&str; 3] =
    [INJECT_CA_FROM, INJECT_CA_FROM_SECRET, INJECT_APISERVER_CA];

/// A namespaced object named by an annotation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamespacedName {
    pub namespace: String,
    pub name: String,
}

impl NamespacedName {
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    /// `<namespace>/<name>`; `None` without a namespace (upstream ignores such values).
    pub fn parse(value: &str) -> Option<Self> {
        let (namespace, name) = value.split_once('/')?;
        if namespace.is_empty() || name.is_empty() {
            return None;
        }
        Some(Self::new(namespace, name))
    }
}

impl fmt::Display for NamespacedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Where a target wants its CA from. Upstream's order decides when several annotations are set:
/// a Secret, then a Certificate, then the API server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SourceRequest {
    Secret(NamespacedName),
    Certificate(NamespacedName),
    ApiServer,
    /// The annotation is there but its value is not `<namespace>/<name>`.
    Invalid {
        annotation: &'static str,
        value: String,
    },
}

/// The source `annotations` ask for, if any. `certificates` is false when the Certificate data
/// source is disabled (`--enable-certificates-data-source=false`): `inject-ca-from` is then
/// not an injection request at all, as upstream.
pub fn requested_source(
    annotations: Option<&BTreeMap<String, String>>,
    certificates: bool,
) -> Option<SourceRequest> {
    let annotations = annotations?;
    if let Some(value) = annotations.get(INJECT_CA_FROM_SECRET) {
        return Some(match NamespacedName::parse(value) {
            Some(n) => SourceRequest::Secret(n),
            None => SourceRequest::Invalid {
                annotation: INJECT_CA_FROM_SECRET,
                value: value.clone(),
            },
        });
    }
    if certificates && let Some(value) = annotations.get(INJECT_CA_FROM) {
        return Some(match NamespacedName::parse(value) {
            Some(n) => SourceRequest::Certificate(n),
            None => SourceRequest::Invalid {
                annotation: INJECT_CA_FROM,
                value: value.clone(),
            },
        });
    }
    if annotations.get(INJECT_APISERVER_CA).map(String::as_str) == Some("true") {
        return Some(SourceRequest::ApiServer);
    }
    None
}

/// Keeps only the annotations in `keep`, dropping the map when nothing is left.
pub fn retain_annotations(annotations: &mut Option<BTreeMap<String, String>>, keep: &[&str]) {
    if let Some(map) = annotations {
        map.retain(|k, _| keep.contains(&k.as_str()));
        if map.is_empty() {
            *annotations = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn secret_beats_certificate_beats_apiserver() {
        let all = map(&[
            (INJECT_CA_FROM_SECRET, "ns/s"),
            (INJECT_CA_FROM, "ns/c"),
            (INJECT_APISERVER_CA, "true"),
        ]);
        assert_eq!(
            requested_source(Some(&all), true),
            Some(SourceRequest::Secret(NamespacedName::new("ns", "s")))
        );
        let cert = map(&[(INJECT_CA_FROM, "ns/c"), (INJECT_APISERVER_CA, "true")]);
        assert_eq!(
            requested_source(Some(&cert), true),
            Some(SourceRequest::Certificate(NamespacedName::new("ns", "c")))
        );
        assert_eq!(
            requested_source(Some(&cert), false),
            Some(SourceRequest::ApiServer),
            "without the Certificate data source inject-ca-from is not a request"
        );
        let api = map(&[(INJECT_APISERVER_CA, "false")]);
        assert_eq!(requested_source(Some(&api), true), None);
        assert_eq!(requested_source(None, true), None);
    }

    #[test]
    fn values_without_namespace_are_invalid() {
        for value in ["just-a-name", "/name", "ns/", ""] {
            let a = map(&[(INJECT_CA_FROM_SECRET, value)]);
            assert_eq!(
                requested_source(Some(&a), true),
                Some(SourceRequest::Invalid {
                    annotation: INJECT_CA_FROM_SECRET,
                    value: value.into()
                }),
                "{value:?}"
            );
        }
    }

    #[test]
    fn retain_drops_other_annotations_and_empty_maps() {
        let mut a = Some(map(&[(INJECT_CA_FROM, "ns/c"), ("other", "big")]));
        retain_annotations(&mut a, &TARGET_ANNOTATIONS);
        assert_eq!(a, Some(map(&[(INJECT_CA_FROM, "ns/c")])));
        let mut b = Some(map(&[("other", "big")]));
        retain_annotations(&mut b, &TARGET_ANNOTATIONS);
        assert_eq!(b, None);
    }
}
