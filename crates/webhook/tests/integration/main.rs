//! The real `webhook` binary against a real API server (testkit's local control plane): the
//! API server calls it through a Service, as cert-manager's chart wires it.
//!
//! Under nextest (the project's runner) every test is its own process with its own control
//! plane; under `cargo test` the tests share one and take turns (`support::Deployment`).

mod admission;
mod approval;
mod bodies;
mod burst;
mod rotation;
mod support;
