//! Order update rules: the request and the values the ACME server assigned never change once
//! set.

use crate::field::{Error, ErrorList, Path};
use crate::order::{Order, OrderStatus};

const IMMUTABLE: &str = "field is immutable once set";

pub(super) fn validate_update(old: &Order, new: &Order) -> ErrorList {
    let mut el = ErrorList::new();
    if !old.spec.request.0.is_empty() && old.spec.request != new.spec.request {
        el.push(Error::forbidden(
            &Path::new("spec").child("request"),
            IMMUTABLE,
        ));
    }
    let empty = OrderStatus::default();
    el.append(validate_status_update(
        old.status.as_ref().unwrap_or(&empty),
        new.status.as_ref().unwrap_or(&empty),
        &Path::new("status"),
    ));
    el
}

fn validate_status_update(old: &OrderStatus, new: &OrderStatus, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let changed = |o: &Option<String>, n: &Option<String>| {
        let o = o.as_deref().unwrap_or("");
        !o.is_empty() && o != n.as_deref().unwrap_or("")
    };
    if changed(&old.url, &new.url) {
        el.push(Error::forbidden(&path.child("url"), IMMUTABLE));
    }
    if changed(&old.finalize_url, &new.finalize_url) {
        el.push(Error::forbidden(&path.child("finalizeURL"), IMMUTABLE));
    }
    let old_cert = old.certificate.as_ref().map_or(&[][..], |c| &c.0[..]);
    let new_cert = new.certificate.as_ref().map_or(&[][..], |c| &c.0[..]);
    if !old_cert.is_empty() && old_cert != new_cert {
        el.push(Error::forbidden(&path.child("certificate"), IMMUTABLE));
    }

    let old_authzs = old.authorizations.as_deref().unwrap_or(&[]);
    let new_authzs = new.authorizations.as_deref().unwrap_or(&[]);
    if old_authzs.is_empty() {
        return el;
    }
    let ap = path.child("authorizations");
    // Once authorizations exist none may be added or removed, and their fields only go from
    // unset to set.
    if old_authzs.len() != new_authzs.len() {
        el.push(Error::forbidden(&ap, IMMUTABLE));
    }
    for (i, (o, n)) in old_authzs.iter().zip(new_authzs).enumerate() {
        let p = ap.index(i);
        if !o.url.is_empty() && o.url != n.url {
            el.push(Error::forbidden(&p.child("url"), IMMUTABLE));
        }
        if changed(&o.identifier, &n.identifier) {
            el.push(Error::forbidden(&p.child("identifier"), IMMUTABLE));
        }
        if o.wildcard.is_some() && o.wildcard != n.wildcard {
            el.push(Error::forbidden(&p.child("wildcard"), IMMUTABLE));
        }
        let state =
            |s: &Option<crate::order::State>| s.as_ref().map_or("", |s| s.as_str()).to_owned();
        if !state(&o.initial_state).is_empty() && state(&o.initial_state) != state(&n.initial_state)
        {
            el.push(Error::forbidden(&p.child("initialState"), IMMUTABLE));
        }
        let old_chs = o.challenges.as_deref().unwrap_or(&[]);
        let new_chs = n.challenges.as_deref().unwrap_or(&[]);
        if old_chs.is_empty() {
            continue;
        }
        let cp = p.child("challenges");
        if old_chs.len() != new_chs.len() {
            el.push(Error::forbidden(&cp, IMMUTABLE));
        }
        for (j, (oc, nc)) in old_chs.iter().zip(new_chs).enumerate() {
            let p = cp.index(j);
            if !oc.url.is_empty() && oc.url != nc.url {
                el.push(Error::forbidden(&p.child("url"), IMMUTABLE));
            }
            if !oc.challenge_type.is_empty() && oc.challenge_type != nc.challenge_type {
                el.push(Error::forbidden(&p.child("type"), IMMUTABLE));
            }
            if !oc.token.is_empty() && oc.token != nc.token {
                el.push(Error::forbidden(&p.child("token"), IMMUTABLE));
            }
        }
    }
    el
}
