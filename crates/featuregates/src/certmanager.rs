//! cert-manager v1.21.1's feature gates, one table per component.
//!
//! Each binary registers only its own table (upstream issue #6011: sharing one list made every
//! component accept, and list, gates it ignores). Gates that upstream has removed or promoted are
//! still registered, because an unknown name in `--feature-gates` or the config file is a fatal
//! error and old configurations must keep working. The client layer's gates (e.g.
//! `WatchListClient`) live with the client and are added on top with [`FeatureGates::add`].
//!
//! [`FeatureGates::add`]: crate::FeatureGates::add

use crate::FeatureSpec;

pub const ACME_HTTP01_INGRESS_PATH_TYPE_EXACT: &str = "ACMEHTTP01IngressPathTypeExact";
pub const ACME_USE_ARI: &str = "ACMEUseARI";
pub const ADDITIONAL_CERTIFICATE_OUTPUT_FORMATS: &str = "AdditionalCertificateOutputFormats";
pub const CA_INJECTOR_MERGING: &str = "CAInjectorMerging";
pub const DEFAULT_PRIVATE_KEY_ROTATION_POLICY_ALWAYS: &str =
    "DefaultPrivateKeyRotationPolicyAlways";
pub const DISALLOW_INSECURE_CSR_USAGE_DEFINITION: &str = "DisallowInsecureCSRUsageDefinition";
pub const EXPERIMENTAL_CERTIFICATE_SIGNING_REQUEST_CONTROLLERS: &str =
    "ExperimentalCertificateSigningRequestControllers";
pub const EXPERIMENTAL_GATEWAY_API_SUPPORT: &str = "ExperimentalGatewayAPISupport";
pub const LISTENER_SETS: &str = "ListenerSets";
pub const LITERAL_CERTIFICATE_SUBJECT: &str = "LiteralCertificateSubject";
pub const NAME_CONSTRAINTS: &str = "NameConstraints";
pub const OTHER_NAMES: &str = "OtherNames";
pub const SECRETS_FILTERED_CACHING: &str = "SecretsFilteredCaching";
pub const SERVER_SIDE_APPLY: &str = "ServerSideApply";
pub const STABLE_CERTIFICATE_REQUEST_NAME: &str = "StableCertificateRequestName";
pub const USE_CERTIFICATE_REQUEST_BASIC_CONSTRAINTS: &str = "UseCertificateRequestBasicConstraints";
pub const USE_DOMAIN_QUALIFIED_FINALIZER: &str = "UseDomainQualifiedFinalizer";
pub const VALIDATE_CAA: &str = "ValidateCAA";

/// The controller's gates (inventory §2.1). The GA gates are no-ops now but, as upstream, stay
/// registered and unlocked, so setting them (even to `false`) only warns.
pub const CONTROLLER: &[FeatureSpec] = &[
    FeatureSpec::beta(ACME_HTTP01_INGRESS_PATH_TYPE_EXACT, true),
    FeatureSpec::alpha(ACME_USE_ARI, false),
    FeatureSpec::ga(ADDITIONAL_CERTIFICATE_OUTPUT_FORMATS, true),
    FeatureSpec::ga(DEFAULT_PRIVATE_KEY_ROTATION_POLICY_ALWAYS, true),
    FeatureSpec::ga(DISALLOW_INSECURE_CSR_USAGE_DEFINITION, true),
    FeatureSpec::alpha(EXPERIMENTAL_CERTIFICATE_SIGNING_REQUEST_CONTROLLERS, false),
    FeatureSpec::beta(EXPERIMENTAL_GATEWAY_API_SUPPORT, true),
    FeatureSpec::alpha(LISTENER_SETS, false),
    FeatureSpec::beta(LITERAL_CERTIFICATE_SUBJECT, true),
    FeatureSpec::beta(NAME_CONSTRAINTS, true),
    FeatureSpec::beta(OTHER_NAMES, true),
    FeatureSpec::beta(SECRETS_FILTERED_CACHING, true),
    FeatureSpec::alpha(SERVER_SIDE_APPLY, false),
    FeatureSpec::beta(STABLE_CERTIFICATE_REQUEST_NAME, true),
    FeatureSpec::alpha(USE_CERTIFICATE_REQUEST_BASIC_CONSTRAINTS, false),
    FeatureSpec::ga(USE_DOMAIN_QUALIFIED_FINALIZER, true),
    // The feature was removed; the gate is kept so configs that still set it do not crash.
    FeatureSpec::alpha(VALIDATE_CAA, false),
];

/// The webhook's gates (inventory §2.2).
pub const WEBHOOK: &[FeatureSpec] = &[
    FeatureSpec::ga(ADDITIONAL_CERTIFICATE_OUTPUT_FORMATS, true),
    FeatureSpec::ga(DISALLOW_INSECURE_CSR_USAGE_DEFINITION, true),
    FeatureSpec::beta(LITERAL_CERTIFICATE_SUBJECT, true),
    FeatureSpec::beta(NAME_CONSTRAINTS, true),
    FeatureSpec::beta(OTHER_NAMES, true),
];

/// The cainjector's gates (inventory §2.3).
pub const CAINJECTOR: &[FeatureSpec] = &[
    // GA but, unlike the controller's GA gates, still consulted by the code.
    FeatureSpec::ga(CA_INJECTOR_MERGING, true),
    // Deprecated upstream and without effect; kept as ALPHA so old configs do not fail.
    FeatureSpec::alpha(SERVER_SIDE_APPLY, false),
];
