//! The cert-manager v1.21 API (`cert-manager.io/v1`, `acme.cert-manager.io/v1`) for
//! cert-manager-rs: types that read and write the same objects as cert-manager, the CRDs
//! generated from them, and the admission-time defaulting and validation rules.
//!
//! Layout:
//! - types: [`certificate`], [`certificaterequest`], [`issuer`] (with [`vault`] and the ACME
//!   issuer in [`acme`]), [`order`], [`challenge`], shared pieces in [`meta`] and
//!   [`duration`];
//! - [`crds`]: the CustomResourceDefinitions (`crdgen` writes them to the Helm chart);
//! - [`defaults`] and [`validation`], reporting errors as Kubernetes field errors ([`field`]).

mod macros;
mod schema;

pub mod acme;
pub mod certificate;
pub mod certificaterequest;
pub mod challenge;
pub mod crds;
pub mod decode;
pub mod defaults;
pub mod duration;
pub mod field;
pub mod issuer;
pub mod meta;
pub mod order;
pub mod validation;
pub mod vault;

pub use certificate::{Certificate, CertificateSpec, CertificateStatus, KeyUsage};
pub use certificaterequest::{
    CertificateRequest, CertificateRequestSpec, CertificateRequestStatus,
};
pub use challenge::{Challenge, ChallengeSpec, ChallengeStatus};
pub use duration::{Duration, GoDuration};
pub use issuer::{
    ClusterIssuer, ClusterIssuerSpec, GenericIssuer, Issuer, IssuerConfig, IssuerSpec, IssuerStatus,
};
pub use meta::{ConditionStatus, IssuerReference, LocalObjectReference, SecretKeySelector};
pub use order::{Order, OrderSpec, OrderStatus};
