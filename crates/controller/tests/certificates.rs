//! The certificates suite (tests/suite/certificates.rs) with the default feature gates: every cache
//! fills by a streaming list (WatchListClient on).

/// Flags every controller of the suite starts with.
const SUITE_ARGS: &[&str] = &[];

mod common;

#[path = "suite/certificates.rs"]
mod suite;
