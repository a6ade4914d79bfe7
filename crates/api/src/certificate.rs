//! `Certificate` (`cert-manager.io/v1`): the desired X.509 certificate and the Secret it is
//! kept in.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::macros::string_enum;
use crate::meta::{ConditionStatus, IssuerReference, SecretKeySelector};

/// Shortest `spec.duration` the webhook accepts.
pub const MINIMUM_CERTIFICATE_DURATION: crate::GoDuration = crate::GoDuration::HOUR;
/// Lifetime requested when `spec.duration` is unset (90 days).
pub const DEFAULT_CERTIFICATE_DURATION: crate::GoDuration = crate::GoDuration::from_hours(24 * 90);
/// Shortest `spec.renewBefore` (or percentage-derived equivalent) the webhook accepts.
pub const MINIMUM_RENEW_BEFORE: crate::GoDuration =
    crate::GoDuration::from_nanos(5 * 60 * 1_000_000_000);

/// Spec of a Certificate: what to request, from which issuer, and where to store the result.
///
/// The issuer is free to honour or change any requested attribute. At least one of commonName,
/// literalSubject, dnsNames, uris, emailAddresses, ipAddresses or otherNames must be set.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "cert-manager.io",
    version = "v1",
    kind = "Certificate",
    namespaced,
    status = "CertificateStatus",
    shortname = "cert",
    shortname = "certs",
    category = "cert-manager",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type == \"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Secret","type":"string","jsonPath":".spec.secretName"}"#,
    printcolumn = r#"{"name":"Issuer","type":"string","jsonPath":".spec.issuerRef.name","priority":1}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type == \"Ready\")].message","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp","description":"CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."}"#,
    selectable = ".spec.issuerRef.group",
    selectable = ".spec.issuerRef.kind",
    selectable = ".spec.issuerRef.name",
    derive = "PartialEq",
    doc = "A Certificate keeps a signed, current X.509 certificate in the Secret named by `spec.secretName`, renewing it before it expires."
)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    /// Subject attributes other than the common name. Cannot be combined with `literalSubject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<X509Subject>,

    /// The whole subject as an RFC 4514 string (for example `CN=foo,DC=corp,DC=example,DC=com`),
    /// encoded in exactly this order. Cannot be combined with `subject` or `commonName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub literal_subject: Option<String>,

    /// Common name of the subject. TLS clients ignore it when any SAN is present; keep it to 64
    /// bytes or fewer. Cannot be combined with `literalSubject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,

    /// Requested lifetime as a Go duration (for example `2160h`). Defaults to 90 days; at least
    /// 1 hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,

    /// How long before expiry to renew, as a Go duration; at least 5 minutes and less than the
    /// lifetime. Defaults to a third of the issued certificate's actual lifetime. Cannot be
    /// combined with `renewBeforePercentage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_before: Option<Duration>,

    /// Like `renewBefore`, as a percentage (exclusive range 0 to 100) of the actual lifetime.
    /// The derived period must be at least 5 minutes. Cannot be combined with `renewBefore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_before_percentage: Option<i32>,

    /// Renewal policy and the time windows in which renewal may happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal: Option<CertificateRenewal>,

    /// DNS subject alternative names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub dns_names: Option<Vec<String>>,

    /// IP address subject alternative names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub ip_addresses: Option<Vec<String>>,

    /// URI subject alternative names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub uris: Option<Vec<String>>,

    /// otherName subject alternative names with UTF-8 string values, for example a UPN
    /// (`1.3.6.1.4.1.311.20.2.3`). The OID is not checked against the value type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub other_names: Option<Vec<OtherName>>,

    /// Email subject alternative names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub email_addresses: Option<Vec<String>>,

    /// Secret (in the Certificate's namespace) that receives the private key and certificate.
    /// cert-manager creates and manages it.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub secret_name: String,

    /// Labels and annotations copied onto the Secret, next to cert-manager's own annotations
    /// (which they cannot override).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_template: Option<CertificateSecretTemplate>,

    /// Extra keystore formats written to the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keystores: Option<CertificateKeystores>,

    /// Issuer that signs the certificate: a namespaced one in the same namespace, or a
    /// cluster-scoped one. `name` is required.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub issuer_ref: IssuerReference,

    /// Requests a CA certificate (basic constraints isCA); adds the `cert sign` usage.
    #[serde(rename = "isCA", default, skip_serializing_if = "Option::is_none")]
    pub is_ca: Option<bool>,

    /// Requested key usages and extended key usages. Defaults to `digital signature` and
    /// `key encipherment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub usages: Option<Vec<KeyUsage>>,

    /// Private key algorithm, size, encoding and rotation policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<CertificatePrivateKey>,

    /// Signature algorithm. RSA keys: SHA256WithRSA, SHA384WithRSA, SHA512WithRSA. ECDSA keys:
    /// ECDSAWithSHA256, ECDSAWithSHA384, ECDSAWithSHA512. Ed25519 keys: PureEd25519.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<SignatureAlgorithm>,

    /// Whether the CSR carries the KeyUsage and ExtKeyUsage extensions (default true). Disable
    /// only for issuers that reject them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encode_usages_in_request: Option<bool>,

    /// How many CertificateRequests to keep, oldest removed first. At least 1 when set; the
    /// controller keeps 1 when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<i32>,

    /// Extra encodings of the key and chain written to the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub additional_output_formats: Option<Vec<CertificateAdditionalOutputFormat>>,

    /// X.509 name constraints; only for CA certificates (`isCA: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_constraints: Option<NameConstraints>,
}

/// An otherName SAN with a UTF-8 string value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtherName {
    /// Object identifier in dotted form, for example `1.2.840.113556.1.4.221`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,

    /// The UTF-8 string value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utf8_value: Option<String>,
}

/// Private key options.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificatePrivateKey {
    /// `Always` (the default since cert-manager 1.18) generates a new key on every issuance;
    /// `Never` reuses the key in the Secret and only warns if it no longer matches the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_policy: Option<PrivateKeyRotationPolicy>,

    /// PEM encoding of the key: `PKCS1` (default) or `PKCS8`. Ed25519 keys are always PKCS#8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<PrivateKeyEncoding>,

    /// Key algorithm: `RSA` (default), `ECDSA` or `Ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<PrivateKeyAlgorithm>,

    /// Key size in bits. RSA: 2048 (default) to 8192. ECDSA: 256 (default), 384 or 521.
    /// Ignored for Ed25519.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::integer")]
    pub size: Option<i64>,
}

string_enum! {
    /// Private key algorithm.
    pub enum PrivateKeyAlgorithm (enum) {
        Rsa = "RSA",
        Ecdsa = "ECDSA",
        Ed25519 = "Ed25519",
    }
}

string_enum! {
    /// PEM encoding of the private key.
    pub enum PrivateKeyEncoding (enum) {
        Pkcs1 = "PKCS1",
        Pkcs8 = "PKCS8",
    }
}

string_enum! {
    /// Signature algorithm of the issued certificate.
    pub enum SignatureAlgorithm (enum) {
        Sha256WithRsa = "SHA256WithRSA",
        Sha384WithRsa = "SHA384WithRSA",
        Sha512WithRsa = "SHA512WithRSA",
        EcdsaWithSha256 = "ECDSAWithSHA256",
        EcdsaWithSha384 = "ECDSAWithSHA384",
        EcdsaWithSha512 = "ECDSAWithSHA512",
        PureEd25519 = "PureEd25519",
    }
}

string_enum! {
    /// When a new private key is generated.
    pub enum PrivateKeyRotationPolicy (enum) {
        Never = "Never",
        Always = "Always",
    }
}

string_enum! {
    /// Additional output format: `DER` writes `key.der`, `CombinedPEM` writes `tls-combined.pem`
    /// (key, newline, chain).
    pub enum CertificateOutputFormatType (enum) {
        Der = "DER",
        CombinedPem = "CombinedPEM",
    }
}

string_enum! {
    /// Algorithms used to encrypt and MAC a PKCS#12 keystore.
    pub enum Pkcs12Profile (enum) {
        LegacyRc2 = "LegacyRC2",
        LegacyDes = "LegacyDES",
        Modern2023 = "Modern2023",
        Modern2026 = "Modern2026",
    }
}

string_enum! {
    /// Whether the controller renews at all.
    pub enum CertificateRenewalPolicy (enum) {
        RenewBefore = "RenewBefore",
        Disabled = "Disabled",
    }
}

string_enum! {
    /// A key usage or extended key usage.
    pub enum KeyUsage (enum) {
        Signing = "signing",
        DigitalSignature = "digital signature",
        ContentCommitment = "content commitment",
        KeyEncipherment = "key encipherment",
        KeyAgreement = "key agreement",
        DataEncipherment = "data encipherment",
        CertSign = "cert sign",
        CrlSign = "crl sign",
        EncipherOnly = "encipher only",
        DecipherOnly = "decipher only",
        Any = "any",
        ServerAuth = "server auth",
        ClientAuth = "client auth",
        CodeSigning = "code signing",
        EmailProtection = "email protection",
        SMime = "s/mime",
        IpsecEndSystem = "ipsec end system",
        IpsecTunnel = "ipsec tunnel",
        IpsecUser = "ipsec user",
        Timestamping = "timestamping",
        OcspSigning = "ocsp signing",
        MicrosoftSgc = "microsoft sgc",
        NetscapeSgc = "netscape sgc",
    }
}

impl KeyUsage {
    /// Usages requested when none are listed.
    pub fn defaults() -> Vec<KeyUsage> {
        vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]
    }
}

/// One additional output format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAdditionalOutputFormat {
    /// The format to write.
    #[serde(rename = "type", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub format_type: CertificateOutputFormatType,
}

/// Subject attributes other than the common name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct X509Subject {
    /// Organizations (O).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub organizations: Option<Vec<String>>,
    /// Countries (C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub countries: Option<Vec<String>>,
    /// Organizational units (OU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub organizational_units: Option<Vec<String>>,
    /// Localities or cities (L).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub localities: Option<Vec<String>>,
    /// States or provinces (ST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub provinces: Option<Vec<String>>,
    /// Street addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub street_addresses: Option<Vec<String>>,
    /// Postal codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub postal_codes: Option<Vec<String>>,
    /// Serial number attribute of the subject (not the certificate serial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
}

impl X509Subject {
    /// Whether any attribute is set (what the literalSubject exclusivity rule looks at).
    pub fn has_any(&self) -> bool {
        let non_empty = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
        non_empty(&self.organizations)
            || non_empty(&self.countries)
            || non_empty(&self.organizational_units)
            || non_empty(&self.localities)
            || non_empty(&self.provinces)
            || non_empty(&self.street_addresses)
            || non_empty(&self.postal_codes)
            || self.serial_number.as_ref().is_some_and(|s| !s.is_empty())
    }
}

/// Keystores written next to the PEM files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateKeystores {
    /// Java KeyStore output (`keystore.jks`, `truststore.jks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jks: Option<JksKeystore>,
    /// PKCS#12 output (`keystore.p12`, `truststore.p12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12: Option<Pkcs12Keystore>,
}

/// JKS keystore options. Exactly one of `password` and `passwordSecretRef` gives the password.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JksKeystore {
    /// Write `keystore.jks` (and `truststore.jks` when the issuer returns a CA) to the Secret.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub create: bool,

    /// Alias of the key entry; `certificate` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,

    /// Secret key holding the keystore password. Exclusive with `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret_ref: Option<SecretKeySelector>,

    /// The keystore password itself (non-empty). Exclusive with `passwordSecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// PKCS#12 keystore options. Exactly one of `password` and `passwordSecretRef` gives the
/// password.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pkcs12Keystore {
    /// Write `keystore.p12` (and `truststore.p12` when the issuer returns a CA) to the Secret.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub create: bool,

    /// Encryption profile. `LegacyRC2` (default, unreadable by OpenSSL 3 and Java 20 by
    /// default), `LegacyDES` (most compatible), `Modern2023` (AES-256-CBC, PBKDF2) or
    /// `Modern2026` (PBES2/AES-256-CBC with a PBMAC1 MAC; needs OpenSSL 3.4 or Java 26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Pkcs12Profile>,

    /// Secret key holding the keystore password. Exclusive with `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret_ref: Option<SecretKeySelector>,

    /// The keystore password itself (non-empty). Exclusive with `passwordSecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Renewal configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRenewal {
    /// `RenewBefore` honours `renewBefore`/`renewBeforePercentage`; `Disabled` never renews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificateRenewalPolicy>,

    /// Time windows in which renewal may start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub windows: Option<Vec<CertificateRenewalWindow>>,
}

/// A recurring time window in which renewal is allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRenewalWindow {
    /// IANA time zone of `cron`, for example `America/Denver`; UTC when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub timezone: Option<String>,

    /// How long each window stays open after it starts, as a Go duration in s, m or h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(s|m|h))+$"), extend("x-cert-manager-rs-required" = true))]
    pub window_duration: Option<Duration>,

    /// Five-field cron expression (minute, hour, day of month, month, day of week) or a
    /// descriptor such as `@daily`, giving the start of each window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), extend("x-cert-manager-rs-required" = true))]
    pub cron: Option<String>,
}

/// Observed state of a Certificate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateStatus {
    /// Conditions; known types are `Ready` and `Issuing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Option<Vec<CertificateCondition>>,

    /// Time of the latest failed issuance; cleared on success. The next attempt waits
    /// 1h * 2^(failedIssuanceAttempts - 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_time: Option<Time>,

    /// Start of validity of the certificate in the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Time>,

    /// Expiry of the certificate in the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<Time>,

    /// When the next renewal is scheduled; unset when none is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_time: Option<Time>,

    /// Revision of the issued certificate. A new CertificateRequest carries this plus one in
    /// its `cert-manager.io/certificate-revision` annotation, and the value is copied back
    /// here on issuance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::integer")]
    pub revision: Option<i64>,

    /// Secret holding the private key for the next issuance; set while `Issuing` is True.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_private_key_secret_name: Option<String>,

    /// Consecutive failed issuances; removed after a success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::integer")]
    pub failed_issuance_attempts: Option<i64>,

    /// Information fetched from the ACME server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme: Option<CertificateAcmeStatus>,
}

/// A Certificate condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateCondition {
    /// Condition type, `Ready` or `Issuing`.
    #[serde(rename = "type", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub condition_type: CertificateConditionType,

    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub status: ConditionStatus,

    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,

    /// Machine-readable reason for the last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,

    /// Human-readable details of the last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// `metadata.generation` the condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

string_enum! {
    /// Certificate condition type.
    pub enum CertificateConditionType (string) {
        /// The Secret holds a valid, current key pair matching the spec.
        Ready = "Ready",
        /// An issuance is in progress (or was requested).
        Issuing = "Issuing",
    }
}

/// Labels and annotations for the Certificate's Secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSecretTemplate {
    /// Annotations to set on the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,

    /// Labels to set on the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// X.509 name constraints extension.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NameConstraints {
    /// Mark the extension critical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<bool>,

    /// Names must fall within these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted: Option<NameConstraintItem>,

    /// Names matching these are rejected, whatever `permitted` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded: Option<NameConstraintItem>,
}

/// One side (permitted or excluded) of the name constraints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NameConstraintItem {
    /// DNS domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub dns_domains: Option<Vec<String>>,

    /// IP ranges in CIDR notation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub ip_ranges: Option<Vec<String>>,

    /// Email addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub email_addresses: Option<Vec<String>>,

    /// URI domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub uri_domains: Option<Vec<String>>,
}

/// ACME-specific status of a Certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAcmeStatus {
    /// ACME Renewal Information (RFC 9773); only with the ACME ARI feature gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ari: Option<CertificateAcmeAriStatus>,
}

/// ACME Renewal Information for the current certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAcmeAriStatus {
    /// Renewal window the server suggests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_window: Option<AcmeRenewalWindow>,

    /// Human-readable page explaining the suggested window.
    #[serde(
        rename = "explanationURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub explanation_url: Option<String>,

    /// When renewal information was last fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checked: Option<Time>,

    /// When renewal information will next be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check: Option<Time>,

    /// Last error from fetching renewal information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A suggested renewal window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeRenewalWindow {
    /// Window start.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub start: Option<Time>,

    /// Window end.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub end: Option<Time>,
}
