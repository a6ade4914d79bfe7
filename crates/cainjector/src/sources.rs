//! Reading the CA a target asks for. Secret data is only ever read here, live, for a Secret
//! that is the source of some target; the caches hold no Secret data.

use std::borrow::Cow;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::api::Api;
use kube::core::NamespaceResourceScope;
use kubeclient::Store;
use serde::Deserialize;

use crate::annotations::{
    ALLOW_DIRECT_INJECTION, CA_KEY, CERTIFICATE_NAME, INJECT_CA_FROM, INJECT_CA_FROM_SECRET,
    NamespacedName, SourceRequest,
};

/// A cert-manager Certificate as the cainjector caches it: its name and `spec.secretName`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CertificateSource {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: CertificateSourceSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSourceSpec {
    #[serde(default)]
    pub secret_name: String,
}

impl Resource for CertificateSource {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;
    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("Certificate")
    }
    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("cert-manager.io")
    }
    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("v1")
    }
    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("certificates")
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}
kubeclient::cacheable!(CertificateSource);

/// The cache transform of Certificates: name, namespace and resourceVersion stay.
pub fn trim_certificate(cert: &mut CertificateSource) {
    let meta = &mut cert.metadata;
    *meta = ObjectMeta {
        name: meta.name.take(),
        namespace: meta.namespace.take(),
        resource_version: meta.resource_version.take(),
        ..ObjectMeta::default()
    };
}

/// Why a target cannot get its CA: reported as a Warning event on the target, which is left
/// unchanged. Retrying does not help; a change of the source (or target) triggers a new try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub reason: &'static str,
    pub message: String,
}

impl Problem {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// Reading a source failed.
#[derive(Debug)]
pub enum ReadError {
    /// Bad input: report it and wait for a change.
    Problem(Problem),
    /// The API server could not be asked: retry with backoff.
    Transient(kube::Error),
}

impl From<Problem> for ReadError {
    fn from(p: Problem) -> Self {
        Self::Problem(p)
    }
}

/// The CA sources and the scope the cainjector may read them in.
pub struct Sources {
    pub client: kube::Client,
    /// The Certificate cache; `None` when the Certificate data source is disabled.
    pub certificates: Option<Store<CertificateSource>>,
    /// The API server's CA (PEM) from the cainjector's own client configuration.
    pub apiserver_ca: Option<Vec<u8>>,
    /// `--namespace`: sources elsewhere are refused (empty: all namespaces).
    pub namespace: String,
    /// `--ignore-namespaces`: sources there are refused.
    pub ignore_namespaces: Vec<String>,
}

impl Sources {
    /// The validated CA bundle (PEM) for `request`.
    pub async fn read(&self, request: &SourceRequest) -> Result<Vec<u8>, ReadError> {
        let ca = match request {
            SourceRequest::Invalid { annotation, value } => {
                return Err(Problem::new(
                    "InvalidAnnotation",
                    format!(
                        "annotation {annotation}={value:?} is not of the form <namespace>/<name>"
                    ),
                )
                .into());
            }
            SourceRequest::ApiServer => self.apiserver_ca.clone().ok_or_else(|| {
                Problem::new(
                    "NoAPIServerCA",
                    "the cainjector's client configuration has no CA data for the API server",
                )
            })?,
            SourceRequest::Secret(name) => self.read_secret_source(name).await?,
            SourceRequest::Certificate(name) => self.read_certificate_source(name).await?,
        };
        validate_ca(&ca, request)?;
        Ok(ca)
    }

    /// Upstream refuses sources outside `--namespace` or inside `--ignore-namespaces`.
    fn check_scope(&self, kind: &str, name: &NamespacedName) -> Result<(), Problem> {
        let refused = if self.ignore_namespaces.contains(&name.namespace) {
            Some(format!("namespace {} is ignored", name.namespace))
        } else if !self.namespace.is_empty() && name.namespace != self.namespace {
            Some(format!(
                "the cainjector is scoped to namespace {}",
                self.namespace
            ))
        } else {
            None
        };
        match refused {
            Some(why) => Err(Problem::new(
                "SourceOutOfScope",
                format!("cannot read CA data from {kind} {name}: {why}"),
            )),
            None => Ok(()),
        }
    }

    async fn read_secret_source(&self, name: &NamespacedName) -> Result<Vec<u8>, ReadError> {
        self.check_scope("Secret", name)?;
        let secret = self.get_secret(name, INJECT_CA_FROM_SECRET).await?;
        let allowed = secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ALLOW_DIRECT_INJECTION))
            .is_some_and(|v| v == "true");
        if !allowed {
            return Err(Problem::new(
                "SecretNotAllowed",
                format!(
                    "Secret {name} does not allow direct injection: it needs the annotation {ALLOW_DIRECT_INJECTION}: \"true\""
                ),
            )
            .into());
        }
        ca_data(secret, name)
    }

    async fn read_certificate_source(&self, cert: &NamespacedName) -> Result<Vec<u8>, ReadError> {
        self.check_scope("Certificate", cert)?;
        let Some(store) = &self.certificates else {
            // Not reached: without the data source inject-ca-from is no request.
            return Err(
                Problem::new("CertificateNotFound", "Certificate data source disabled").into(),
            );
        };
        let certificate = store
            .get_by_name(Some(&cert.namespace), &cert.name)
            .ok_or_else(|| {
                Problem::new(
                    "CertificateNotFound",
                    format!("Certificate {cert} named by {INJECT_CA_FROM} not found"),
                )
            })?;
        let secret_name = NamespacedName::new(&cert.namespace, &certificate.spec.secret_name);
        let secret = self.get_secret(&secret_name, INJECT_CA_FROM).await?;
        // Only a Secret written for this Certificate is a source (not an ownerReference:
        // cert-manager marks its Secrets with the Certificate's name).
        let owner = secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(CERTIFICATE_NAME));
        if owner != Some(&cert.name) {
            return Err(Problem::new(
                "SecretNotOwned",
                format!(
                    "refusing Secret {secret_name} of Certificate {cert}: its annotation {CERTIFICATE_NAME} is {owner:?}, not {:?}",
                    cert.name
                ),
            )
            .into());
        }
        ca_data(secret, &secret_name)
    }

    async fn get_secret(&self, name: &NamespacedName, via: &str) -> Result<Secret, ReadError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &name.namespace);
        match api.get_opt(&name.name).await {
            Ok(Some(secret)) => Ok(secret),
            Ok(None) => Err(Problem::new(
                "SecretNotFound",
                format!("Secret {name} (from {via}) not found"),
            )
            .into()),
            Err(kube::Error::Api(status)) if status.code == 403 => Err(Problem::new(
                "SourceForbidden",
                format!("not allowed to read Secret {name}: {}", status.message),
            )
            .into()),
            Err(e) => Err(ReadError::Transient(e)),
        }
    }
}

/// The `ca.crt` of `secret`, moved out of it.
fn ca_data(mut secret: Secret, name: &NamespacedName) -> Result<Vec<u8>, ReadError> {
    secret
        .data
        .as_mut()
        .and_then(|d| d.remove(CA_KEY))
        .map(|b| b.0)
        .ok_or_else(|| {
            Problem::new(
                "MissingCAData",
                format!("Secret {name} has no {CA_KEY} key"),
            )
            .into()
        })
}

/// Only PEM certificates are injected: anything else would make the API server reject the
/// target or distrust the webhook.
fn validate_ca(ca: &[u8], request: &SourceRequest) -> Result<(), Problem> {
    let from = match request {
        SourceRequest::Secret(n) => format!("Secret {n}"),
        SourceRequest::Certificate(n) => format!("the Secret of Certificate {n}"),
        _ => "the API server CA".to_owned(),
    };
    if ca.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::new(
            "InvalidCAData",
            format!("{CA_KEY} of {from} is empty"),
        ));
    }
    pki::decode_certificate_set(ca).map(drop).map_err(|e| {
        Problem::new(
            "InvalidCAData",
            format!("{CA_KEY} of {from} is not a PEM certificate bundle: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_ca_rejects_garbage_and_empty() {
        let req = SourceRequest::Secret(NamespacedName::new("ns", "s"));
        let p = validate_ca(b"not a certificate", &req).unwrap_err();
        assert_eq!(p.reason, "InvalidCAData");
        assert!(p.message.contains("Secret ns/s"), "{}", p.message);
        let p = validate_ca(b"\n", &req).unwrap_err();
        assert!(p.message.contains("empty"), "{}", p.message);
        let p = validate_ca(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            &req,
        )
        .unwrap_err();
        assert_eq!(p.reason, "InvalidCAData");
    }
}
