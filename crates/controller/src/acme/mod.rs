//! The ACME issuer's controllers (cert-manager's `orders` and `challenges`): an Order places
//! one certificate order with the ACME server and creates a Challenge per authorization it
//! must solve; a Challenge is presented (DNS-01 record or HTTP-01 solver), self-checked,
//! accepted, and cleaned up. Accounts and their clients live in [`account`].

pub mod account;
pub mod challenges;
pub mod dns01;
pub mod http01;
pub mod order_name;
pub mod orders;
pub mod scheduler;
pub mod solver;

use api::order::State;

/// How an ACME error is handled by a controller (as cert-manager does).
#[derive(Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server no longer knows the account: register again, then retry.
    AccountGone,
    /// May succeed later unchanged (transport, 5xx, rate limit): retry with backoff.
    Transient,
    /// Any other 4xx answer: the resource worked on has failed for good.
    Final,
}

pub fn classify(e: &acme::Error) -> ErrorKind {
    if e.is_account_does_not_exist() {
        ErrorKind::AccountGone
    } else if e.is_transient() {
        ErrorKind::Transient
    } else if e.status().is_some_and(|s| (400..500).contains(&s)) {
        ErrorKind::Final
    } else {
        ErrorKind::Transient
    }
}

/// cert-manager's `IsFailureState`: invalid, expired, errored.
pub fn is_failure_state(s: Option<&State>) -> bool {
    matches!(s, Some(State::Invalid | State::Expired | State::Errored))
}

/// cert-manager's `IsFinalState`: valid or a failure state.
pub fn is_final_state(s: Option<&State>) -> bool {
    matches!(s, Some(State::Valid)) || is_failure_state(s)
}

/// An ACME status as an API state (unknown ones kept as they are).
pub fn state_of(s: acme::Status) -> State {
    State::from(s.as_str())
}
