//! `string_enum!`: the Rust face of cert-manager's Go "string enum" types.
//!
//! Go models these fields as plain strings, so an object may carry a value this version does not
//! know (written by a newer cert-manager, or invalid). Decoding must not fail on such a value:
//! validation reports it with a field path instead, and round-tripping keeps it verbatim. Each
//! generated enum therefore has the known variants plus `Other(String)`.

/// Declares a string-backed enum.
///
/// `schema: enum` puts the known values into the CRD schema as `enum:` (upstream has a
/// `+kubebuilder:validation:Enum` marker); `schema: string` leaves it a plain `type: string`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($schema:ident) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know (or the empty string), kept verbatim.
            Other(String),
        }

        impl $name {
            /// The values cert-manager v1.21 defines, in its order.
            pub const KNOWN: &'static [&'static str] = &[$($value),+];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Other(s) => s.as_str(),
                }
            }

            /// Whether this is one of [`Self::KNOWN`].
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl Default for $name {
            /// Go's zero value: the empty string.
            fn default() -> Self {
                Self::Other(String::new())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $value => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match Self::from(s.as_str()) {
                    Self::Other(_) => Self::Other(s),
                    known => known,
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::from(<String as serde::Deserialize>::deserialize(d)?))
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                string_enum!(@schema $schema [$($value),+])
            }
        }
    };
    (@schema enum [$($value:literal),+]) => {
        schemars::json_schema!({ "type": "string", "enum": [$($value),+] })
    };
    (@schema string [$($value:literal),+]) => {
        schemars::json_schema!({ "type": "string" })
    };
}

pub(crate) use string_enum;
