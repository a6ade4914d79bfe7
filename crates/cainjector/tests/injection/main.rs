//! The cainjector binary injecting CA bundles on a real API server (testkit's local control
//! plane): every target kind from every source kind, rotation, CAInjectorMerging on and off,
//! bad input, disabled injectables, the webhook's own CA end to end, and (ignored by default)
//! peak RSS with 100 unrelated 1 MiB Secrets.

mod bad_input;
mod leader;
mod rss;
mod sources;
mod support;
mod webhook;
