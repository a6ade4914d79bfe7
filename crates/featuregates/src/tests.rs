use super::certmanager::*;
use super::*;

const WATCH_LIST_CLIENT: &str = "WatchListClient";
const CLIENT: &[FeatureSpec] = &[FeatureSpec::beta(WATCH_LIST_CLIENT, true)];

fn gates(tables: &[&[FeatureSpec]]) -> FeatureGates {
    let mut g = FeatureGates::new();
    for t in tables {
        g.add(t).unwrap();
    }
    g
}

fn controller() -> FeatureGates {
    gates(&[CONTROLLER, CLIENT])
}

fn map(pairs: &[(&str, bool)]) -> BTreeMap<String, bool> {
    pairs.iter().map(|&(k, v)| (k.to_owned(), v)).collect()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

// ---- help text -------------------------------------------------------------------------------

#[test]
fn controller_help_is_inventory_block_plus_watch_list_client() {
    assert_eq!(
        controller().known_features(),
        [
            "ACMEHTTP01IngressPathTypeExact=true|false (BETA - default=true)",
            "ACMEUseARI=true|false (ALPHA - default=false)",
            "AllAlpha=true|false (ALPHA - default=false)",
            "AllBeta=true|false (BETA - default=false)",
            "ExperimentalCertificateSigningRequestControllers=true|false (ALPHA - default=false)",
            "ExperimentalGatewayAPISupport=true|false (BETA - default=true)",
            "ListenerSets=true|false (ALPHA - default=false)",
            "LiteralCertificateSubject=true|false (BETA - default=true)",
            "NameConstraints=true|false (BETA - default=true)",
            "OtherNames=true|false (BETA - default=true)",
            "SecretsFilteredCaching=true|false (BETA - default=true)",
            "ServerSideApply=true|false (ALPHA - default=false)",
            "StableCertificateRequestName=true|false (BETA - default=true)",
            "UseCertificateRequestBasicConstraints=true|false (ALPHA - default=false)",
            "ValidateCAA=true|false (ALPHA - default=false)",
            "WatchListClient=true|false (BETA - default=true)",
        ]
    );
}

#[test]
fn webhook_help() {
    assert_eq!(
        gates(&[WEBHOOK, CLIENT]).known_features(),
        [
            "AllAlpha=true|false (ALPHA - default=false)",
            "AllBeta=true|false (BETA - default=false)",
            "LiteralCertificateSubject=true|false (BETA - default=true)",
            "NameConstraints=true|false (BETA - default=true)",
            "OtherNames=true|false (BETA - default=true)",
            "WatchListClient=true|false (BETA - default=true)",
        ]
    );
}

#[test]
fn cainjector_help() {
    assert_eq!(
        gates(&[CAINJECTOR, CLIENT]).known_features(),
        [
            "AllAlpha=true|false (ALPHA - default=false)",
            "AllBeta=true|false (BETA - default=false)",
            "ServerSideApply=true|false (ALPHA - default=false)",
            "WatchListClient=true|false (BETA - default=true)",
        ]
    );
}

#[test]
fn help_hides_deprecated_and_sorts_whole_lines() {
    // Sorting lines (as Go does) puts "Foo1=" before "Foo=" because '1' < '='.
    let g = gates(&[&[
        FeatureSpec::alpha("Foo", false),
        FeatureSpec::alpha("Foo1", false),
        FeatureSpec::deprecated("Old", false),
    ]]);
    assert_eq!(
        g.known_features(),
        [
            "AllAlpha=true|false (ALPHA - default=false)",
            "AllBeta=true|false (BETA - default=false)",
            "Foo1=true|false (ALPHA - default=false)",
            "Foo=true|false (ALPHA - default=false)",
        ]
    );
}

#[test]
fn usage_text() {
    assert_eq!(
        gates(&[CAINJECTOR]).usage(),
        "A set of key=value pairs that describe feature gates for alpha/experimental features. \
         Options are:\n\
         AllAlpha=true|false (ALPHA - default=false)\n\
         AllBeta=true|false (BETA - default=false)\n\
         ServerSideApply=true|false (ALPHA - default=false)"
    );
}

// ---- registration ----------------------------------------------------------------------------

#[test]
fn add_identical_again_is_ok_but_different_spec_is_rejected_atomically() {
    let mut g = controller();
    g.add(CLIENT).unwrap();
    g.add(&[FeatureSpec::beta(ALL_BETA, false)]).unwrap();
    let err = g
        .add(&[
            FeatureSpec::alpha("Brand", false),
            FeatureSpec::beta(WATCH_LIST_CLIENT, false),
        ])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "feature gate \"WatchListClient\" with different spec already exists: \
         FeatureSpec { name: \"WatchListClient\", default: true, stage: Beta, lock_to_default: false }"
    );
    assert_eq!(g.source("Brand"), None, "failed add registers nothing");
}

#[test]
fn effective_lists_every_gate_including_ga() {
    let mut g = gates(&[CAINJECTOR]);
    g.set("CAInjectorMerging=false").unwrap();
    assert_eq!(
        g.effective(),
        BTreeMap::from([
            (ALL_ALPHA, false),
            (ALL_BETA, false),
            (CA_INJECTOR_MERGING, false),
            (SERVER_SIDE_APPLY, false),
        ])
    );
    assert_eq!(controller().effective().len(), 17 + 1 + 2);
}

// ---- errors ----------------------------------------------------------------------------------

#[test]
fn unknown_gate() {
    let mut g = controller();
    let err = g.set("NoSuchGate=true").unwrap_err();
    assert_eq!(err.to_string(), "unrecognized feature gate: NoSuchGate");
    // Another component's gate is unknown here too.
    let err = gates(&[WEBHOOK])
        .set("SecretsFilteredCaching=false")
        .unwrap_err();
    assert_eq!(err, Error::Unrecognized("SecretsFilteredCaching".into()));
}

#[test]
fn rejected_map_records_nothing() {
    let mut g = controller();
    assert!(g.set("ACMEUseARI=true,Zzz=true").is_err());
    assert!(!g.enabled(ACME_USE_ARI));
    assert_eq!(g.source(ACME_USE_ARI), Some(Source::Default));
}

#[test]
fn locked_gate() {
    let mut g = gates(&[&[FeatureSpec::ga("InOrderInformers", true).locked()]]);
    let err = g.set("InOrderInformers=false").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set feature gate InOrderInformers to false, feature is locked to true"
    );
    // Setting it to its default is accepted (with the GA warning).
    let w = g.set("InOrderInformers=true").unwrap();
    assert_eq!(w.len(), 1);
    assert!(g.enabled("InOrderInformers"));

    // Via the environment: same error.
    let err = g
        .set_from_env(
            env(&[("KUBE_FEATURE_InOrderInformers", "false")]),
            &["InOrderInformers"],
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set feature gate InOrderInformers to false, feature is locked to true"
    );
}

#[test]
fn flag_syntax_errors() {
    let err = parse_map("A=true, B").unwrap_err();
    assert_eq!(err.to_string(), "missing bool value for B");
    let err = parse_map(" A = yes ").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid value of A=yes, err: strconv.ParseBool: parsing "yes": invalid syntax"#
    );
    let err = parse_map("A=").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid value of A=, err: strconv.ParseBool: parsing "": invalid syntax"#
    );
    // set() reports the same and records nothing.
    let mut g = controller();
    assert_eq!(
        g.set("ACMEUseARI"),
        Err(Error::MissingValue("ACMEUseARI".into()))
    );
}

#[test]
fn bad_env_value() {
    let mut g = controller();
    let err = g
        .set_from_env(
            env(&[("KUBE_FEATURE_WatchListClient", "maybe")]),
            &[WATCH_LIST_CLIENT],
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid value of environment variable KUBE_FEATURE_WatchListClient="maybe": strconv.ParseBool: parsing "maybe": invalid syntax"#
    );
    assert!(g.enabled(WATCH_LIST_CLIENT));
}

// ---- parsing ---------------------------------------------------------------------------------

#[test]
fn parse_map_edge_cases() {
    assert_eq!(parse_map("").unwrap(), map(&[]));
    assert_eq!(parse_map(" , ,").unwrap(), map(&[]));
    assert_eq!(
        parse_map(" A = true ,B=false,").unwrap(),
        map(&[("A", true), ("B", false)])
    );
    assert_eq!(parse_map("A=true,A=0").unwrap(), map(&[("A", false)]));
    // Only the first '=' separates; the rest is the value.
    assert!(parse_map("A=true=false").is_err());
}

#[test]
fn go_bool_spellings() {
    for t in ["1", "t", "T", "TRUE", "true", "True"] {
        assert_eq!(
            parse_map(&format!("A={t}")).unwrap(),
            map(&[("A", true)]),
            "{t}"
        );
    }
    for f in ["0", "f", "F", "FALSE", "false", "False"] {
        assert_eq!(
            parse_map(&format!("A={f}")).unwrap(),
            map(&[("A", false)]),
            "{f}"
        );
    }
    for bad in ["yes", "on", "tRUE", "2"] {
        assert!(parse_map(&format!("A={bad}")).is_err(), "{bad}");
    }
}

// ---- AllAlpha / AllBeta ----------------------------------------------------------------------

#[test]
fn all_alpha_vs_explicit_in_one_map_either_order() {
    for flag in [
        "AllAlpha=true,ACMEUseARI=false",
        "ACMEUseARI=false,AllAlpha=true",
    ] {
        let mut g = controller();
        g.set(flag).unwrap();
        assert!(!g.enabled(ACME_USE_ARI), "{flag}");
        assert!(g.enabled(LISTENER_SETS), "{flag}");
        assert!(g.enabled(ALL_ALPHA), "{flag}");
        // Beta and GA gates are untouched.
        assert!(g.enabled(SECRETS_FILTERED_CACHING), "{flag}");
        assert!(g.enabled(USE_DOMAIN_QUALIFIED_FINALIZER), "{flag}");
    }
}

#[test]
fn all_beta_vs_explicit_across_calls_either_order() {
    let mut a = controller();
    a.set("AllBeta=false").unwrap();
    a.set("NameConstraints=true").unwrap();
    let mut b = controller();
    b.set("NameConstraints=true").unwrap();
    b.set("AllBeta=false").unwrap();
    for g in [a, b] {
        assert!(g.enabled(NAME_CONSTRAINTS));
        assert!(!g.enabled(OTHER_NAMES));
        assert!(!g.enabled(WATCH_LIST_CLIENT));
        assert_eq!(g.source(OTHER_NAMES), Some(Source::Flag));
        assert!(!g.enabled(ACME_USE_ARI), "alpha untouched");
        assert!(
            g.enabled(DISALLOW_INSECURE_CSR_USAGE_DEFINITION),
            "GA untouched"
        );
    }
}

#[test]
fn explicit_value_from_any_source_beats_all_beta() {
    let mut g = controller();
    g.set_from_env(
        env(&[("KUBE_FEATURE_WatchListClient", "true")]),
        &[WATCH_LIST_CLIENT],
    )
    .unwrap();
    g.set("AllBeta=false").unwrap();
    assert!(g.enabled(WATCH_LIST_CLIENT));
    assert_eq!(g.source(WATCH_LIST_CLIENT), Some(Source::Env));
}

#[test]
fn all_alpha_follows_source_precedence_and_skips_locked_gates() {
    let mut g = gates(&[CONTROLLER, &[FeatureSpec::alpha("Pinned", false).locked()]]);
    g.set_from_map(&map(&[(ALL_ALPHA, true)]), Source::ConfigFile)
        .unwrap();
    g.set("AllAlpha=false").unwrap();
    assert!(!g.enabled(ACME_USE_ARI));
    assert_eq!(g.source(ACME_USE_ARI), Some(Source::Flag));

    let mut g = gates(&[CONTROLLER, &[FeatureSpec::alpha("Pinned", false).locked()]]);
    g.set("AllAlpha=true").unwrap();
    assert!(g.enabled(ACME_USE_ARI));
    assert!(!g.enabled("Pinned"));
}

#[test]
fn env_ignores_all_alpha_other_gates_and_foreign_vars() {
    let mut g = controller();
    let w = g
        .set_from_env(
            env(&[
                ("KUBE_FEATURE_AllAlpha", "true"),
                ("KUBE_FEATURE_AllBeta", "nonsense"),
                ("KUBE_FEATURE_ACMEUseARI", "true"),
                ("KUBE_FEATURE_watchlistclient", "false"),
                ("PATH", "/bin"),
            ]),
            &[WATCH_LIST_CLIENT, ALL_ALPHA],
        )
        .unwrap();
    assert!(w.is_empty());
    assert!(!g.enabled(ALL_ALPHA));
    assert!(!g.enabled(ACME_USE_ARI));
    assert!(g.enabled(WATCH_LIST_CLIENT));
    assert_eq!(g.source(WATCH_LIST_CLIENT), Some(Source::Default));
}

// ---- precedence ------------------------------------------------------------------------------

#[test]
fn precedence_flag_over_config_over_env_over_default() {
    let wlc_env = |v: &str| env(&[("KUBE_FEATURE_WatchListClient", v)]);
    let config = |g: &mut FeatureGates, v| {
        g.set_from_map(&map(&[(WATCH_LIST_CLIENT, v)]), Source::ConfigFile)
            .unwrap()
    };

    let mut g = controller();
    assert_eq!(
        (g.enabled(WATCH_LIST_CLIENT), g.source(WATCH_LIST_CLIENT)),
        (true, Some(Source::Default))
    );
    g.set_from_env(wlc_env("false"), &[WATCH_LIST_CLIENT])
        .unwrap();
    assert_eq!(
        (g.enabled(WATCH_LIST_CLIENT), g.source(WATCH_LIST_CLIENT)),
        (false, Some(Source::Env))
    );
    config(&mut g, true);
    assert_eq!(
        (g.enabled(WATCH_LIST_CLIENT), g.source(WATCH_LIST_CLIENT)),
        (true, Some(Source::ConfigFile))
    );
    g.set("WatchListClient=false").unwrap();
    assert_eq!(
        (g.enabled(WATCH_LIST_CLIENT), g.source(WATCH_LIST_CLIENT)),
        (false, Some(Source::Flag))
    );

    // Reverse application order: same outcome.
    let mut g = controller();
    g.set("WatchListClient=false").unwrap();
    config(&mut g, true);
    g.set_from_env(wlc_env("true"), &[WATCH_LIST_CLIENT])
        .unwrap();
    assert!(!g.enabled(WATCH_LIST_CLIENT));
    assert_eq!(g.source(WATCH_LIST_CLIENT), Some(Source::Flag));

    // Config beats env regardless of order.
    let mut g = controller();
    config(&mut g, true);
    g.set_from_env(wlc_env("false"), &[WATCH_LIST_CLIENT])
        .unwrap();
    assert!(g.enabled(WATCH_LIST_CLIENT));
    assert_eq!(g.source(WATCH_LIST_CLIENT), Some(Source::ConfigFile));
}

#[test]
fn source_default_overrides_the_default_only() {
    let mut g = controller();
    g.set_from_map(&map(&[(ACME_USE_ARI, true)]), Source::Default)
        .unwrap();
    assert!(g.enabled(ACME_USE_ARI));
    g.set("AllAlpha=false").unwrap();
    assert!(
        !g.enabled(ACME_USE_ARI),
        "AllAlpha beats an overridden default"
    );
    assert_eq!(g.source(ACME_USE_ARI), Some(Source::Flag));
}

// ---- warnings --------------------------------------------------------------------------------

#[test]
fn ga_and_deprecated_gates_warn() {
    let mut g = gates(&[CONTROLLER, &[FeatureSpec::deprecated("Old", true)]]);
    let w = g
        .set("DefaultPrivateKeyRotationPolicyAlways=false,Old=false,ACMEUseARI=true")
        .unwrap();
    assert_eq!(
        w,
        [
            Warning {
                gate: DEFAULT_PRIVATE_KEY_ROTATION_POLICY_ALWAYS.into(),
                message: "Setting GA feature gate DefaultPrivateKeyRotationPolicyAlways=false. \
                          It will be removed in a future release."
                    .into(),
            },
            Warning {
                gate: "Old".into(),
                message: "Setting deprecated feature gate Old=false. \
                          It will be removed in a future release."
                    .into(),
            },
        ]
    );
    assert_eq!(w[1].to_string(), w[1].message);
    // Unlocked GA gates really take the value (upstream cert-manager's GA gates are unlocked).
    assert!(!g.enabled(DEFAULT_PRIVATE_KEY_ROTATION_POLICY_ALWAYS));
}
