//! The RFC 2136 provider, zone discovery and the self check against a real BIND 9 on
//! loopback (started by `testkit::bind9`; needs Debian's `bind9`).

use std::net::SocketAddr;
use std::time::Duration;

use api::acme::dns01::{AcmeIssuerDns01ProviderRfc2136, Rfc2136UpdateProtocol};
use dns01::{Error, Protocol, Rfc2136, SelfCheck, Tsig, TsigAlgorithm};
use testkit::bind9::{Bind9, Options};

const FQDN: &str = "_acme-challenge.www.example.com.";

fn spec(dns: &Bind9, key: &str, algorithm: &str) -> AcmeIssuerDns01ProviderRfc2136 {
    AcmeIssuerDns01ProviderRfc2136 {
        nameserver: dns.addr().to_string(),
        tsig_key_name: Some(key.into()),
        tsig_algorithm: Some(algorithm.into()),
        ..Default::default()
    }
}

/// The provider as the controller builds it: hmac-sha256 key, secret as a Secret holds it.
async fn provider(dns: &Bind9) -> Rfc2136 {
    Rfc2136::from_spec(
        &spec(dns, dns.tsig_key_name(), "HMACSHA256"),
        Some(dns.tsig_secret().as_bytes()),
    )
    .await
    .unwrap()
}

/// What the server serves at `fqdn`, asked directly (sorted).
async fn txt(dns: &Bind9, fqdn: &str) -> Vec<String> {
    let mut v = dns01::lookup_txt(fqdn, &[dns.addr()], Duration::from_secs(5))
        .await
        .unwrap();
    v.sort();
    v
}

fn recursive_only(dns: &Bind9) -> SelfCheck {
    SelfCheck::new(vec![dns.addr()], true)
}

#[tokio::test]
async fn present_then_cleanup_removes_only_our_value() {
    let dns = Bind9::start().await.unwrap();
    let p = provider(&dns).await;
    let check = recursive_only(&dns);

    assert!(txt(&dns, FQDN).await.is_empty());
    assert!(!check.is_propagated(FQDN, "ours").await.unwrap());

    p.present(FQDN, "ours").await.unwrap();
    p.present(FQDN, "another-order").await.unwrap();
    // Presenting again is harmless (RFC 2136 ignores a duplicate RR).
    p.present(FQDN, "ours").await.unwrap();
    assert_eq!(txt(&dns, FQDN).await, ["another-order", "ours"]);
    assert!(check.is_propagated(FQDN, "ours").await.unwrap());
    assert!(check.is_propagated(FQDN, "another-order").await.unwrap());
    assert!(!check.is_propagated(FQDN, "other").await.unwrap());

    p.cleanup(FQDN, "ours").await.unwrap();
    assert_eq!(txt(&dns, FQDN).await, ["another-order"]);
    assert!(!check.is_propagated(FQDN, "ours").await.unwrap());
    assert!(check.is_propagated(FQDN, "another-order").await.unwrap());
    // Cleaning up a value that is gone is not an error.
    p.cleanup(FQDN, "ours").await.unwrap();
    p.cleanup(FQDN, "another-order").await.unwrap();
    assert!(txt(&dns, FQDN).await.is_empty());
}

#[tokio::test]
async fn every_supported_algorithm_signs_and_verifies() {
    let dns = Bind9::start().await.unwrap();
    for (spec_name, bind_name) in [
        ("HMACMD5", "hmac-md5"),
        ("hmacsha1", "hmac-sha1"),
        ("HMACSHA256", "hmac-sha256"),
        ("HMACSHA512", "hmac-sha512"),
    ] {
        let key = dns.tsig_key(bind_name).unwrap();
        let p = Rfc2136::from_spec(
            &spec(&dns, &key.name, spec_name),
            Some(key.secret.as_bytes()),
        )
        .await
        .unwrap();
        let value = format!("signed-with-{bind_name}");
        // A NOERROR answer to a signed update is only accepted with a valid response TSIG.
        p.present(FQDN, &value).await.unwrap();
        assert_eq!(txt(&dns, FQDN).await, vec![value.clone()], "{spec_name}");
        p.cleanup(FQDN, &value).await.unwrap();
        assert!(txt(&dns, FQDN).await.is_empty(), "{spec_name}");
    }
}

#[tokio::test]
async fn wrong_secret_is_badsig_and_changes_nothing() {
    let dns = Bind9::start().await.unwrap();
    let good = provider(&dns).await;
    good.present(FQDN, "existing").await.unwrap();

    let mut wrong = good.clone();
    wrong.tsig.as_mut().unwrap().secret = b"0123456789abcdef0123456789abcdef".to_vec();
    let err = wrong.present(FQDN, "intruder").await.unwrap_err();
    match &err {
        Error::Rcode {
            rcode,
            tsig_error,
            server,
            ..
        } => {
            assert_eq!(rcode, "NOTAUTH", "{err}");
            assert_eq!(tsig_error.as_deref(), Some("BADSIG"), "{err}");
            assert_eq!(*server, dns.addr());
        }
        other => panic!("want an RCODE error, got {other}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("NOTAUTH (TSIG error BADSIG)"), "{msg}");
    assert!(
        msg.contains(FQDN) && msg.contains(&dns.addr().to_string()),
        "{msg}"
    );
    let err = wrong.cleanup(FQDN, "existing").await.unwrap_err();
    assert!(err.to_string().contains("BADSIG"), "{err}");
    assert_eq!(txt(&dns, FQDN).await, ["existing"]);

    // A key the server does not know.
    let unknown = Rfc2136 {
        tsig: Some(Tsig {
            key_name: "not-a-key".into(),
            ..good.tsig.clone().unwrap()
        }),
        ..good.clone()
    };
    let err = unknown.present(FQDN, "intruder").await.unwrap_err();
    assert!(
        err.to_string().contains("NOTAUTH (TSIG error BADKEY)"),
        "{err}"
    );
    assert_eq!(txt(&dns, FQDN).await, ["existing"]);
}

#[tokio::test]
async fn unsigned_update_is_refused() {
    let dns = Bind9::start().await.unwrap();
    let spec = AcmeIssuerDns01ProviderRfc2136 {
        nameserver: dns.addr().to_string(),
        ..Default::default()
    };
    let p = Rfc2136::from_spec(&spec, None).await.unwrap();
    assert!(p.tsig.is_none());
    let err = p.present(FQDN, "unsigned").await.unwrap_err();
    assert!(
        matches!(&err, Error::Rcode { rcode, tsig_error: None, .. } if rcode == "REFUSED"),
        "{err}"
    );
    assert!(err.to_string().contains("replied REFUSED"), "{err}");
    assert!(txt(&dns, FQDN).await.is_empty());
}

#[tokio::test]
async fn updates_over_tcp() {
    let dns = Bind9::start().await.unwrap();
    let mut s = spec(&dns, dns.tsig_key_name(), "HMACSHA256");
    s.protocol = Some(Rfc2136UpdateProtocol::Tcp);
    let p = Rfc2136::from_spec(&s, Some(dns.tsig_secret().as_bytes()))
        .await
        .unwrap();
    assert_eq!(p.protocol, Protocol::Tcp);
    p.present(FQDN, "over-tcp").await.unwrap();
    assert_eq!(txt(&dns, FQDN).await, ["over-tcp"]);
    p.cleanup(FQDN, "over-tcp").await.unwrap();
    assert!(txt(&dns, FQDN).await.is_empty());
}

#[tokio::test]
async fn zones_of_deep_names_and_child_zones() {
    let dns = Bind9::start_with(Options {
        child_zones: vec!["sub".into()],
        records: vec!["www IN A 127.0.0.1".into()],
        ..Options::default()
    })
    .await
    .unwrap();
    let ns = [dns.addr()];
    for (fqdn, zone) in [
        ("_acme-challenge.a.b.c.www.example.com.", "example.com."),
        // An existing name (NOERROR, no SOA in the answer) is climbed past too.
        ("www.example.com.", "example.com."),
        ("example.com.", "example.com."),
        ("_acme-challenge.x.y.sub.example.com.", "sub.example.com."),
        ("sub.example.com", "sub.example.com."),
    ] {
        assert_eq!(
            dns01::find_zone_by_fqdn(fqdn, &ns).await.unwrap(),
            zone,
            "{fqdn}"
        );
    }
    // Not served here: the authoritative-only server refuses, and the error says so.
    let err = dns01::find_zone_by_fqdn("_acme-challenge.example.org.", &ns)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("REFUSED"), "{err}");

    // present() finds the child zone on its own and updates it.
    let p = provider(&dns).await;
    let deep = "_acme-challenge.x.y.sub.example.com.";
    p.present(deep, "child").await.unwrap();
    assert_eq!(txt(&dns, deep).await, ["child"]);
    p.cleanup(deep, "child").await.unwrap();
    assert!(txt(&dns, deep).await.is_empty());

    // A zone the server does not serve: its NOTAUTH (no TSIG error: the key was fine).
    let err = p
        .present_in_zone("example.net.", "_acme-challenge.example.net.", "v")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Rcode { rcode, tsig_error: None, .. } if rcode == "NOTAUTH"),
        "{err}"
    );
}

#[tokio::test]
async fn self_check_via_authoritative_nameservers() {
    let dns = Bind9::start().await.unwrap();
    let check = SelfCheck {
        authoritative_port: dns.addr().port(),
        ..SelfCheck::new(vec![dns.addr()], false)
    };
    // ns1.example.com. A 127.0.0.1, looked up through the recursive nameserver.
    assert_eq!(
        check.authoritative_addresses(FQDN).await.unwrap(),
        vec![dns.addr()]
    );
    assert!(!check.is_propagated(FQDN, "v").await.unwrap());
    provider(&dns).await.present(FQDN, "v").await.unwrap();
    assert!(check.is_propagated(FQDN, "v").await.unwrap());
    assert!(!check.is_propagated(FQDN, "w").await.unwrap());
}

#[tokio::test]
async fn cname_strategy_follow() {
    let dns = Bind9::start_with(Options {
        records: vec![
            "_acme-challenge.alias IN CNAME _acme-challenge.target".into(),
            "_acme-challenge.hop IN CNAME _acme-challenge.alias".into(),
            "_acme-challenge.loop1 IN CNAME _acme-challenge.loop2".into(),
            "_acme-challenge.loop2 IN CNAME _acme-challenge.loop1".into(),
        ],
        ..Options::default()
    })
    .await
    .unwrap();
    let ns = [dns.addr()];
    let target = "_acme-challenge.target.example.com.";
    assert_eq!(
        dns01::challenge_fqdn("hop.example.com", true, &ns)
            .await
            .unwrap(),
        target
    );
    assert_eq!(
        dns01::challenge_fqdn("*.alias.example.com", true, &ns)
            .await
            .unwrap(),
        target
    );
    // cnameStrategy None: the name as is.
    assert_eq!(
        dns01::challenge_fqdn("alias.example.com", false, &ns)
            .await
            .unwrap(),
        "_acme-challenge.alias.example.com."
    );
    // No CNAME: the name itself.
    assert_eq!(
        dns01::challenge_fqdn("www.example.com", true, &ns)
            .await
            .unwrap(),
        FQDN
    );
    let err = dns01::challenge_fqdn("loop1.example.com", true, &ns)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CnameLoop { .. }), "{err}");

    // The record goes to the CNAME target; the self check follows the alias to it.
    let check = recursive_only(&dns);
    let alias = "_acme-challenge.alias.example.com.";
    assert!(!check.is_propagated(alias, "v").await.unwrap());
    provider(&dns).await.present(target, "v").await.unwrap();
    assert!(check.is_propagated(alias, "v").await.unwrap());
}

#[tokio::test]
async fn silent_server_times_out_naming_it() {
    // A UDP socket that never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = silent.local_addr().unwrap();
    let p = Rfc2136 {
        timeout: Duration::from_millis(300),
        ..Rfc2136::new(
            addr,
            Some(Tsig {
                key_name: "k".into(),
                algorithm: TsigAlgorithm::HmacSha256,
                secret: vec![7; 32],
            }),
        )
    };
    let err = p
        .present_in_zone("example.com.", FQDN, "v")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { server, .. } if server == addr),
        "{err}"
    );
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}
