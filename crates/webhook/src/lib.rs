//! The webhook's parts, as a library so tests and the fuzz target can drive them:
//! [`admission`] (decode, validate, mutate), [`approval`] (who may approve or deny a
//! CertificateRequest: discovery and SubjectAccessReviews), [`serving`] (where the serving
//! certificate comes from) and [`tls`] (hot-swappable certificate, TLS 1.2+ accept loop).

pub mod admission;
pub mod approval;
pub mod serving;
pub mod tls;
