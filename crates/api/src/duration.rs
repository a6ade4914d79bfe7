//! Go `time.Duration` as carried by `metav1.Duration` fields (`duration`, `renewBefore`, ...).
//!
//! The wire form is a Go duration string such as `2160h` or `1h30m`. [`Duration`] keeps the
//! text exactly as written, so reading and writing an object never rewrites the value, and
//! parses on demand with Go's rules ([`GoDuration`]), so the error text matches cert-manager's.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A duration field value, stored as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Duration(String);

impl Duration {
    /// Wraps a duration string without checking it.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The Go string form of `d` (`1h0m0s`), as Go's JSON encoder writes it.
    pub fn from_go(d: GoDuration) -> Self {
        Self(d.to_string())
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses with Go's `time.ParseDuration` rules.
    pub fn parse(&self) -> Result<GoDuration, DurationError> {
        GoDuration::parse(&self.0)
    }
}

impl From<GoDuration> for Duration {
    fn from(d: GoDuration) -> Self {
        Self::from_go(d)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

/// Why a duration string did not parse; the text is Go's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(String);

/// A signed nanosecond count with Go's parsing and formatting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(i64);

impl GoDuration {
    pub const ZERO: Self = Self(0);
    pub const NANOSECOND: Self = Self(1);
    pub const MICROSECOND: Self = Self(1_000);
    pub const MILLISECOND: Self = Self(1_000_000);
    pub const SECOND: Self = Self(1_000_000_000);
    pub const MINUTE: Self = Self(60 * 1_000_000_000);
    pub const HOUR: Self = Self(3600 * 1_000_000_000);

    pub const fn from_nanos(n: i64) -> Self {
        Self(n)
    }

    pub const fn from_secs(s: i64) -> Self {
        Self(s.saturating_mul(1_000_000_000))
    }

    pub const fn from_hours(h: i64) -> Self {
        Self(h.saturating_mul(3600 * 1_000_000_000))
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The value as a `std::time::Duration`, `None` when negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.0)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// Go's `time.ParseDuration`.
    pub fn parse(orig: &str) -> Result<Self, DurationError> {
        const MAX: u64 = 1 << 63;
        let invalid = || DurationError(format!("time: invalid duration {}", quote(orig)));
        let mut s = orig.as_bytes();
        let mut neg = false;
        if let Some(&c) = s.first()
            && (c == b'-' || c == b'+')
        {
            neg = c == b'-';
            s = &s[1..];
        }
        if s == b"0" {
            return Ok(Self(0));
        }
        if s.is_empty() {
            return Err(invalid());
        }
        let mut d: u64 = 0;
        while !s.is_empty() {
            if !(s[0] == b'.' || s[0].is_ascii_digit()) {
                return Err(invalid());
            }
            // Integer part.
            let start = s.len();
            let mut v: u64 = 0;
            let mut i = 0;
            while i < s.len() && s[i].is_ascii_digit() {
                if v > MAX / 10 {
                    return Err(invalid());
                }
                v = v * 10 + u64::from(s[i] - b'0');
                if v > MAX {
                    return Err(invalid());
                }
                i += 1;
            }
            s = &s[i..];
            let pre = start != s.len();
            // Fraction part.
            let (mut f, mut scale, mut post) = (0u64, 1f64, false);
            if s.first() == Some(&b'.') {
                s = &s[1..];
                let mut i = 0;
                let mut overflow = false;
                while i < s.len() && s[i].is_ascii_digit() {
                    if !overflow {
                        if f > (MAX - 1) / 10 {
                            overflow = true;
                        } else {
                            let y = f * 10 + u64::from(s[i] - b'0');
                            if y > MAX {
                                overflow = true;
                            } else {
                                f = y;
                                scale *= 10.0;
                            }
                        }
                    }
                    i += 1;
                }
                post = i > 0;
                s = &s[i..];
            }
            if !pre && !post {
                return Err(invalid());
            }
            // Unit.
            let mut i = 0;
            while i < s.len() && !(s[i] == b'.' || s[i].is_ascii_digit()) {
                i += 1;
            }
            if i == 0 {
                return Err(DurationError(format!(
                    "time: missing unit in duration {}",
                    quote(orig)
                )));
            }
            let unit_bytes = &s[..i];
            s = &s[i..];
            let unit: u64 = match unit_bytes {
                b"ns" => 1,
                b"us" | [0xC2, 0xB5, b's'] | [0xCE, 0xBC, b's'] => 1_000,
                b"ms" => 1_000_000,
                b"s" => 1_000_000_000,
                b"m" => 60_000_000_000,
                b"h" => 3_600_000_000_000,
                _ => {
                    return Err(DurationError(format!(
                        "time: unknown unit {} in duration {}",
                        quote(&String::from_utf8_lossy(unit_bytes)),
                        quote(orig)
                    )));
                }
            };
            if v > MAX / unit {
                return Err(invalid());
            }
            v *= unit;
            if f > 0 {
                // Go does this in float64 too: nanosecond accurate up to hours.
                v += (f as f64 * (unit as f64 / scale)) as u64;
                if v > MAX {
                    return Err(invalid());
                }
            }
            d += v;
            if d > MAX {
                return Err(invalid());
            }
        }
        if neg {
            // d <= 2^63 here, so the negation fits.
            return Ok(Self((d as i128).wrapping_neg() as i64));
        }
        if d > MAX - 1 {
            return Err(invalid());
        }
        Ok(Self(d as i64))
    }
}

impl fmt::Display for GoDuration {
    /// Go's `Duration.String`: `72h3m0.5s`, `1.5ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let mut u = self.0.unsigned_abs();
        let mut out = String::new();
        if u < 1_000_000_000 {
            let (prec, unit) = match u {
                0 => return f.write_str("0s"),
                1..=999 => (0, "ns"),
                1_000..=999_999 => (3, "µs"),
                _ => (6, "ms"),
            };
            let (frac, rest) = fmt_frac(u, prec);
            out.push_str(&rest.to_string());
            out.push_str(&frac);
            out.push_str(unit);
        } else {
            let (frac, secs) = fmt_frac(u, 9);
            u = secs;
            let s = u % 60;
            u /= 60;
            let mut tail = format!("{s}{frac}s");
            if u > 0 {
                tail = format!("{}m{tail}", u % 60);
                u /= 60;
                if u > 0 {
                    tail = format!("{u}h{tail}");
                }
            }
            out.push_str(&tail);
        }
        if neg {
            f.write_str("-")?;
        }
        f.write_str(&out)
    }
}

/// Splits `v` into the integer part and the `.ddd` fraction of `prec` digits, trailing zeros
/// (and the dot) dropped, as Go's `fmtFrac`.
fn fmt_frac(mut v: u64, prec: u32) -> (String, u64) {
    let mut digits = Vec::new();
    let mut printed = false;
    for _ in 0..prec {
        let d = (v % 10) as u8;
        printed = printed || d != 0;
        if printed {
            digits.push(b'0' + d);
        }
        v /= 10;
    }
    if !printed {
        return (String::new(), v);
    }
    digits.push(b'.');
    digits.reverse();
    (String::from_utf8(digits).unwrap_or_default(), v)
}

/// Go's `time.quote`: double quotes, `\"` and `\\` escaped, non-printables as `\x..`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        let ok = [
            ("0", 0),
            ("1h", 3_600_000_000_000),
            ("2160h", 2160 * 3_600_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("-30s", -30_000_000_000),
            ("+5m", 300_000_000_000),
            ("300ms", 300_000_000),
            ("1µs", 1_000),
            ("1us", 1_000),
            ("10ns", 10),
            (".5s", 500_000_000),
            ("5.s", 5_000_000_000),
        ];
        for (s, n) in ok {
            assert_eq!(GoDuration::parse(s), Ok(GoDuration(n)), "{s}");
        }
        let bad = [
            ("", "time: invalid duration \"\""),
            ("abc", "time: invalid duration \"abc\""),
            ("5", "time: missing unit in duration \"5\""),
            ("5d", "time: unknown unit \"d\" in duration \"5d\""),
            (".s", "time: invalid duration \".s\""),
            (
                "9999999999999h",
                "time: invalid duration \"9999999999999h\"",
            ),
        ];
        for (s, e) in bad {
            assert_eq!(GoDuration::parse(s).unwrap_err().to_string(), e, "{s}");
        }
    }

    #[test]
    fn formats_like_go() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (3_600_000_000_000, "1h0m0s"),
            (4 * 60_000_000_000 + 5_000_000_000, "4m5s"),
            (2160 * 3_600_000_000_000, "2160h0m0s"),
            (-90_000_000_000, "-1m30s"),
            (300_000_000_000, "5m0s"),
        ];
        for (n, s) in cases {
            assert_eq!(GoDuration(n).to_string(), s);
        }
    }
}
