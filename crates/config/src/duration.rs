//! Go's `time.Duration`: the text form used by every duration flag and config field
//! (`"60s"`, `"1h30m"`, `"1.5ms"`), parsed and printed exactly as Go does, so values
//! round-trip with upstream's config files and `--help` defaults read the same.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000 * NANOSECOND;
const MILLISECOND: u64 = 1_000 * MICROSECOND;
const SECOND: u64 = 1_000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// A signed span of nanoseconds, like Go's `time.Duration`. Signed because upstream accepts
/// negative values and rejects them in validation, naming the field.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(i64);

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_nanos(nanos: i64) -> Self {
        Duration(nanos)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Duration(secs * SECOND as i64)
    }

    pub const fn from_mins(mins: i64) -> Self {
        Duration(mins * MINUTE as i64)
    }

    pub const fn from_hours(hours: i64) -> Self {
        Duration(hours * HOUR as i64)
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The std form, for timers; `None` for negative spans (validation rejects those).
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.0)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// `self * factor`, truncated toward zero as Go's `time.Duration(f * float64(d))`.
    pub(crate) fn mul_f64(self, factor: f64) -> Duration {
        Duration((self.0 as f64 * factor) as i64)
    }
}

impl From<std::time::Duration> for Duration {
    /// Saturates at Go's maximum (about 292 years).
    fn from(d: std::time::Duration) -> Self {
        Duration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}

/// A duration string Go would reject; the message is Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseDurationError(String);

fn invalid(orig: &str) -> ParseDurationError {
    ParseDurationError(format!("time: invalid duration {orig:?}"))
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => NANOSECOND,
        // Go accepts both the micro sign (U+00B5) and the Greek letter mu (U+03BC).
        "us" | "\u{00b5}s" | "\u{03bc}s" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" => MINUTE,
        "h" => HOUR,
        _ => return None,
    })
}

/// Go's `time.ParseDuration`: a signed sequence of decimal numbers, each with an optional
/// fraction and a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`); `"0"` alone needs no unit.
pub fn parse(orig: &str) -> Result<Duration, ParseDurationError> {
    const LIMIT: u64 = 1 << 63;
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some((&c, rest)) = s.split_first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = rest;
    }
    if s == b"0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(invalid(orig));
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid(orig));
        }
        // Integer part; overflow is an error, as in Go.
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &s[..digits] {
            if v > LIMIT / 10 {
                return Err(invalid(orig));
            }
            v = v * 10 + u64::from(c - b'0');
            if v > LIMIT {
                return Err(invalid(orig));
            }
        }
        let pre = digits > 0;
        s = &s[digits..];
        // Fraction part: digits past what fits are dropped, as in Go.
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for &c in &s[..digits] {
                if overflow {
                    continue;
                }
                if f > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(c - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = digits > 0;
            s = &s[digits..];
        }
        if !pre && !post {
            return Err(invalid(orig));
        }
        let unit_len = s
            .iter()
            .take_while(|&&c| !(c == b'.' || c.is_ascii_digit()))
            .count();
        if unit_len == 0 {
            return Err(ParseDurationError(format!(
                "time: missing unit in duration {orig:?}"
            )));
        }
        // The unit ends at an ASCII byte, so this slice is on a char boundary.
        let unit = std::str::from_utf8(&s[..unit_len]).map_err(|_| invalid(orig))?;
        s = &s[unit_len..];
        let Some(unit_ns) = unit_nanos(unit) else {
            return Err(ParseDurationError(format!(
                "time: unknown unit {unit:?} in duration {orig:?}"
            )));
        };
        if v > LIMIT / unit_ns {
            return Err(invalid(orig));
        }
        v *= unit_ns;
        if f > 0 {
            v += (f as f64 * (unit_ns as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid(orig));
            }
        }
        total += v;
        if total > LIMIT {
            return Err(invalid(orig));
        }
    }
    if neg {
        // -(1<<63) is representable; anything bigger was rejected above.
        return Ok(Duration((total as i64).wrapping_neg()));
    }
    i64::try_from(total)
        .map(Duration)
        .map_err(|_| invalid(orig))
}

impl FromStr for Duration {
    type Err = ParseDurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// `v / 10^prec` as `.ddd` with trailing zeros (and the dot) dropped; returns the integer part.
fn frac(out: &mut String, v: u64, prec: u32) -> u64 {
    let div = 10u64.pow(prec);
    let mut digits = format!("{:0width$}", v % div, width = prec as usize);
    while digits.ends_with('0') {
        digits.pop();
    }
    if !digits.is_empty() {
        out.push('.');
        out.push_str(&digits);
    }
    v / div
}

/// Go's `Duration.String`: `"1h0m0s"`, `"1m30s"`, `"1.5s"`, `"2ms"`, `"1µs"`, `"0s"`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let u = self.0.unsigned_abs();
        let mut out = String::new();
        if neg {
            out.push('-');
        }
        if u == 0 {
            return f.write_str("0s");
        }
        if u < SECOND {
            // Below a second Go switches to the largest unit that keeps an integer part.
            let (prec, unit) = if u < MICROSECOND {
                (0, "ns")
            } else if u < MILLISECOND {
                (3, "\u{00b5}s")
            } else {
                (6, "ms")
            };
            let mut tail = String::new();
            let int = frac(&mut tail, u, prec);
            out.push_str(&int.to_string());
            out.push_str(&tail);
            out.push_str(unit);
        } else {
            let mut sec_frac = String::new();
            let secs = frac(&mut sec_frac, u, 9);
            let (hours, mins, secs) = (secs / 3600, (secs / 60) % 60, secs % 60);
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            if hours > 0 || mins > 0 {
                out.push_str(&format!("{mins}m"));
            }
            out.push_str(&format!("{secs}{sec_frac}s"));
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Config files may give a Go duration string or, like upstream's `Duration` and
/// `TimeOrMetaDuration`, an integer number of nanoseconds.
impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string like \"1h30m\" or an integer number of nanoseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                Ok(Duration(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                i64::try_from(v)
                    .map(Duration)
                    .map_err(|_| E::custom(format!("invalid duration {v}: out of range")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_go_parses() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("-0", 0),
            ("+0", 0),
            ("0s", 0),
            ("5s", 5 * SECOND as i64),
            ("30s", 30 * SECOND as i64),
            ("1478s", 1478 * SECOND as i64),
            ("-5s", -5 * SECOND as i64),
            ("+5s", 5 * SECOND as i64),
            ("-0.5s", -(SECOND as i64) / 2),
            ("5.6s", 5600 * MILLISECOND as i64),
            ("5.s", 5 * SECOND as i64),
            (".5s", SECOND as i64 / 2),
            ("1.0s", SECOND as i64),
            ("1.00s", SECOND as i64),
            ("1.004s", 1004 * MILLISECOND as i64),
            ("100.00100s", 100_001 * MILLISECOND as i64),
            ("10ns", 10),
            ("11us", 11 * MICROSECOND as i64),
            ("12µs", 12 * MICROSECOND as i64),
            ("12μs", 12 * MICROSECOND as i64),
            ("13ms", 13 * MILLISECOND as i64),
            ("14s", 14 * SECOND as i64),
            ("15m", 15 * MINUTE as i64),
            ("16h", 16 * HOUR as i64),
            ("3h30m", (3 * HOUR + 30 * MINUTE) as i64),
            ("1h30m", 90 * MINUTE as i64),
            ("10.5s4m", (4 * MINUTE + 10_500 * MILLISECOND) as i64),
            ("-2m3.4s", -((2 * MINUTE + 3400 * MILLISECOND) as i64)),
            (
                "1h2m3s4ms5us6ns",
                (HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6) as i64,
            ),
            (
                "39h9m14.425s",
                (39 * HOUR + 9 * MINUTE + 14_425 * MILLISECOND) as i64,
            ),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 20 * MINUTE as i64),
            ("9007199254740993ns", (1 << 53) + 1),
            ("9223372036854775807ns", i64::MAX),
            ("9223372036854775.807us", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("0.100000000000000000000h", 6 * MINUTE as i64),
            ("168h", 168 * HOUR as i64),
        ];
        for (s, want) in cases {
            assert_eq!(parse(s), Ok(Duration(*want)), "{s}");
        }
    }

    #[test]
    fn rejects_what_go_rejects_with_gos_message() {
        let cases: &[(&str, &str)] = &[
            ("", r#"time: invalid duration """#),
            ("3", r#"time: missing unit in duration "3""#),
            ("60", r#"time: missing unit in duration "60""#),
            ("-", r#"time: invalid duration "-""#),
            ("s", r#"time: invalid duration "s""#),
            (".", r#"time: invalid duration ".""#),
            ("-.", r#"time: invalid duration "-.""#),
            (".s", r#"time: invalid duration ".s""#),
            ("+.s", r#"time: invalid duration "+.s""#),
            ("1d", r#"time: unknown unit "d" in duration "1d""#),
            ("7d", r#"time: unknown unit "d" in duration "7d""#),
            ("1.5 h", r#"time: unknown unit " h" in duration "1.5 h""#),
            ("abc", r#"time: invalid duration "abc""#),
            (
                "9223372036854775808ns",
                r#"time: invalid duration "9223372036854775808ns""#,
            ),
            (
                "9223372036854775.808us",
                r#"time: invalid duration "9223372036854775.808us""#,
            ),
            (
                "9223372036854ms775µs808ns",
                r#"time: invalid duration "9223372036854ms775µs808ns""#,
            ),
            (
                "-9223372036854775809ns",
                r#"time: invalid duration "-9223372036854775809ns""#,
            ),
            ("3000000h", r#"time: invalid duration "3000000h""#),
        ];
        for (s, msg) in cases {
            assert_eq!(parse(s).unwrap_err().to_string(), *msg, "{s}");
        }
    }

    #[test]
    fn formats_like_go() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1100, "1.1µs"),
            (2200 * MICROSECOND as i64, "2.2ms"),
            (3300 * MILLISECOND as i64, "3.3s"),
            ((4 * MINUTE + 5 * SECOND) as i64, "4m5s"),
            ((4 * MINUTE + 5001 * MILLISECOND) as i64, "4m5.001s"),
            (
                (5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND) as i64,
                "5h6m7.001s",
            ),
            ((8 * MINUTE) as i64 + 1, "8m0.000000001s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (-(SECOND as i64), "-1s"),
            (60 * SECOND as i64, "1m0s"),
            (40 * SECOND as i64, "40s"),
            (HOUR as i64, "1h0m0s"),
            (32 * HOUR as i64, "32h0m0s"),
            (168 * HOUR as i64, "168h0m0s"),
            (MILLISECOND as i64, "1ms"),
            (MICROSECOND as i64, "1µs"),
        ];
        for (ns, want) in cases {
            assert_eq!(Duration(*ns).to_string(), *want, "{ns}");
        }
    }

    #[test]
    fn formatted_text_parses_back() {
        for ns in [
            0,
            1,
            999,
            1_000,
            1_234_567,
            59_999_999_999,
            3_600_000_000_001,
            i64::MAX,
            -42,
        ] {
            let d = Duration(ns);
            assert_eq!(parse(&d.to_string()), Ok(d), "{d}");
        }
    }

    #[test]
    fn serde_accepts_strings_and_nanoseconds() {
        let d: Duration = serde_yaml::from_str("1h30m").unwrap();
        assert_eq!(d, Duration::from_mins(90));
        let d: Duration = serde_yaml::from_str("5000000000").unwrap();
        assert_eq!(d, Duration::from_secs(5));
        let d: Duration = serde_json::from_str("\"40s\"").unwrap();
        assert_eq!(d, Duration::from_secs(40));
        let e = serde_yaml::from_str::<Duration>("7d").unwrap_err();
        assert!(
            e.to_string()
                .contains(r#"unknown unit "d" in duration "7d""#),
            "{e}"
        );
        let e = serde_yaml::from_str::<Duration>("true").unwrap_err();
        assert!(e.to_string().contains("a duration string"), "{e}");
        assert_eq!(
            serde_json::to_string(&Duration::from_secs(60)).unwrap(),
            "\"1m0s\""
        );
    }

    #[test]
    fn std_conversion() {
        assert_eq!(
            Duration::from_secs(3).to_std(),
            Some(std::time::Duration::from_secs(3))
        );
        assert_eq!(Duration::from_secs(-3).to_std(), None);
        assert_eq!(
            Duration::from(std::time::Duration::from_millis(1500)),
            Duration::from_nanos(1_500_000_000)
        );
    }
}
