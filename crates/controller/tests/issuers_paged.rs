//! The issuers suite (tests/suite/issuers.rs) again with `--feature-gates=WatchListClient=false`:
//! every cache fills by paged LIST then WATCH, and everything must behave the same.

/// Flags every controller of the suite starts with.
const SUITE_ARGS: &[&str] = &["--feature-gates=WatchListClient=false"];

mod common;

#[path = "suite/issuers.rs"]
mod suite;
