//! Issuer readiness (`issuers`, `clusterissuers`), as cert-manager's issuers controller runs each
//! issuer type's `Setup`: SelfSigned issuers are always ready; CA issuers are ready when their
//! Secret holds a CA certificate and a private key; Vault issuers when their configuration is
//! complete and Vault accepts the login (see [`vault`]); ACME issuers when their account is
//! registered (see [`acme`]). Venafi issuers are not implemented by cert-manager-rs: their
//! status is left as it is (see [`setup`]).

pub mod acme;
pub mod conditions;
pub mod controller;
pub mod lookup;
pub mod setup;
pub mod vault;
