//! Any byte string sent to /validate or /mutate yields a response or a 400, never a panic;
//! neither does deciding whether a request needs the approval check.
#![no_main]

use axum::body::Bytes;
use libfuzzer_sys::fuzz_target;
use webhook::admission::{Endpoint, Policy, decode, review};
use webhook::approval::pending;

fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
        let _ = review(&body, Policy::default(), endpoint);
    }
    if let Ok(req) = decode(&body) {
        let _ = pending(&req);
    }
});
