//! Flag value syntax as upstream's flag library (spf13/pflag, component-base's `cliflag`)
//! accepts it, so command lines written for cert-manager parse the same here:
//! Go booleans (`--leader-elect=False`), Go integers (`0x10`), CSV lists
//! (`--controllers=*,-ingress-shim`), `key=value` maps and klog's `pattern=N` vmodule lists.

use std::str::FromStr;

use crate::shared::VModuleItem;

/// Go's `strconv.ParseBool`, which pflag uses for boolean flags.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b`/leading-`0` prefixes
/// and `_` digit separators.
fn parse_go_int(s: &str) -> Result<i64, String> {
    let syntax = || format!("strconv.ParseInt: parsing {s:?}: invalid syntax");
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // Underscores only between digits (or right after a base prefix), as Go's underscoreOK.
    let digits = digits
        .strip_prefix('_')
        .filter(|_| prefixed)
        .unwrap_or(digits);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return Err(syntax());
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let magnitude = u64::from_str_radix(&clean, radix).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => {
            format!("strconv.ParseInt: parsing {s:?}: value out of range")
        }
        _ => syntax(),
    })?;
    let out_of_range = || format!("strconv.ParseInt: parsing {s:?}: value out of range");
    if neg {
        if magnitude > i64::MIN.unsigned_abs() {
            return Err(out_of_range());
        }
        Ok((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).map_err(|_| out_of_range())
    }
}

/// pflag's `Int32Var`/`IntVar` parsing, bounded to the int32 of the versioned config.
pub fn parse_int32(s: &str) -> Result<i32, String> {
    let v = parse_go_int(s)?;
    i32::try_from(v).map_err(|_| format!("strconv.ParseInt: parsing {s:?}: value out of range"))
}

/// pflag's `Float32Var` (`strconv.ParseFloat(s, 32)`).
pub fn parse_float32(s: &str) -> Result<f32, String> {
    s.parse::<f32>()
        .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax"))
}

/// One occurrence of a list flag (pflag's `StringSlice`): one line of CSV, so
/// `--dns01-recursive-nameservers="8.8.8.8:53","1.1.1.1:53"` and quoted commas work; an empty
/// value is an empty list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringList(pub Vec<String>);

impl FromStr for StringList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Ok(StringList(Vec::new()));
        }
        let mut fields = Vec::new();
        let mut chars = s.char_indices().peekable();
        loop {
            let mut field = String::new();
            if let Some(&(_, '"')) = chars.peek() {
                chars.next();
                loop {
                    match chars.next() {
                        Some((_, '"')) if chars.peek().map(|&(_, c)| c) == Some('"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some((_, '"')) => break,
                        Some((_, c)) => field.push(c),
                        None => {
                            return Err(format!(
                                "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                                s.len() + 1
                            ));
                        }
                    }
                }
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(StringList(fields));
                    }
                    Some((_, ',')) => fields.push(field),
                    Some((i, _)) => {
                        return Err(format!(
                            "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                            i + 1
                        ));
                    }
                }
            } else {
                loop {
                    match chars.next() {
                        None => {
                            fields.push(field);
                            return Ok(StringList(fields));
                        }
                        Some((_, ',')) => {
                            fields.push(field);
                            break;
                        }
                        Some((i, '"')) => {
                            return Err(format!(
                                "parse error on line 1, column {}: bare \" in non-quoted field",
                                i + 1
                            ));
                        }
                        Some((_, c)) => field.push(c),
                    }
                }
            }
        }
    }
}

/// One occurrence of a `key=value` map flag (component-base's `MapStringString`):
/// comma-separated pairs, blanks trimmed, empty items skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyValues(pub Vec<(String, String)>);

impl FromStr for KeyValues {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut pairs = Vec::new();
        for item in s.split(',').filter(|i| !i.is_empty()) {
            let Some((k, v)) = item.split_once('=') else {
                return Err("malformed pair, expect string=string".to_owned());
            };
            pairs.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        Ok(KeyValues(pairs))
    }
}

/// One occurrence of `--vmodule` (component-base's `VModuleConfigurationPflag`):
/// `pattern=N,...`, N fitting in an int32.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VModuleList(pub Vec<VModuleItem>);

impl FromStr for VModuleList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut items = Vec::new();
        for pat in s.split(',').filter(|p| !p.is_empty()) {
            let parts: Vec<&str> = pat.split('=').collect();
            if parts.len() != 2 || parts[0].is_empty() || parts[1].is_empty() {
                return Err(format!("{pat:?} does not have the pattern=N format"));
            }
            let verbosity = parts[1]
                .parse::<u32>()
                .ok()
                .filter(|&v| v <= i32::MAX as u32)
                .ok_or_else(|| {
                    let why = if parts[1].bytes().all(|b| b.is_ascii_digit()) {
                        "value out of range"
                    } else {
                        "invalid syntax"
                    };
                    format!(
                        "parsing verbosity in {pat:?}: strconv.ParseUint: parsing {:?}: {why}",
                        parts[1]
                    )
                })?;
            items.push(VModuleItem {
                file_pattern: parts[0].to_owned(),
                verbosity,
            });
        }
        Ok(VModuleList(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_booleans() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        assert_eq!(
            parse_bool("yes").unwrap_err(),
            r#"strconv.ParseBool: parsing "yes": invalid syntax"#
        );
    }

    #[test]
    fn go_integers() {
        assert_eq!(parse_int32("50"), Ok(50));
        assert_eq!(parse_int32("-1"), Ok(-1));
        assert_eq!(parse_int32("+7"), Ok(7));
        assert_eq!(parse_int32("0x10"), Ok(16));
        assert_eq!(parse_int32("0o17"), Ok(15));
        assert_eq!(parse_int32("017"), Ok(15));
        assert_eq!(parse_int32("0b101"), Ok(5));
        assert_eq!(parse_int32("1_000"), Ok(1000));
        assert_eq!(parse_int32("0"), Ok(0));
        assert_eq!(
            parse_int32("abc").unwrap_err(),
            r#"strconv.ParseInt: parsing "abc": invalid syntax"#
        );
        assert_eq!(
            parse_int32("1.5").unwrap_err(),
            r#"strconv.ParseInt: parsing "1.5": invalid syntax"#
        );
        assert_eq!(
            parse_int32("3000000000").unwrap_err(),
            r#"strconv.ParseInt: parsing "3000000000": value out of range"#
        );
        assert!(parse_int32("").is_err());
        assert!(parse_int32("1__0").is_err());
        assert_eq!(parse_float32("20"), Ok(20.0));
        assert_eq!(parse_float32("-1"), Ok(-1.0));
        assert_eq!(parse_float32("0.5"), Ok(0.5));
        assert!(parse_float32("x").is_err());
    }

    #[test]
    fn csv_lists() {
        let l = |s: &str| s.parse::<StringList>().map(|l| l.0);
        assert_eq!(l(""), Ok(vec![]));
        assert_eq!(l("a"), Ok(vec!["a".to_owned()]));
        assert_eq!(l("*,-foo"), Ok(vec!["*".to_owned(), "-foo".to_owned()]));
        assert_eq!(l("a,,b"), Ok(vec!["a".into(), "".into(), "b".into()]));
        assert_eq!(l(" a, b"), Ok(vec![" a".into(), " b".into()]));
        assert_eq!(l(r#""a,b",c"#), Ok(vec!["a,b".into(), "c".into()]));
        assert_eq!(l(r#""say ""hi""""#), Ok(vec![r#"say "hi""#.into()]));
        assert_eq!(
            l(r#"a"b"#).unwrap_err(),
            r#"parse error on line 1, column 2: bare " in non-quoted field"#
        );
        assert!(l(r#""abc"#).is_err());
        assert!(l(r#""a"b"#).is_err());
    }

    #[test]
    fn key_value_maps() {
        let kv = |s: &str| s.parse::<KeyValues>().map(|l| l.0);
        assert_eq!(
            kv("a=1, b = 2,,c="),
            Ok(vec![
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
                ("c".into(), "".into())
            ])
        );
        assert_eq!(kv("x=y=z"), Ok(vec![("x".into(), "y=z".into())]));
        assert_eq!(
            kv("nope").unwrap_err(),
            "malformed pair, expect string=string"
        );
    }

    #[test]
    fn vmodule_lists() {
        let vm = |s: &str| s.parse::<VModuleList>().map(|l| l.0);
        assert_eq!(
            vm("foo=3,bar*=5,"),
            Ok(vec![
                VModuleItem {
                    file_pattern: "foo".into(),
                    verbosity: 3
                },
                VModuleItem {
                    file_pattern: "bar*".into(),
                    verbosity: 5
                },
            ])
        );
        assert_eq!(
            vm("foo").unwrap_err(),
            r#""foo" does not have the pattern=N format"#
        );
        assert_eq!(
            vm("=1").unwrap_err(),
            r#""=1" does not have the pattern=N format"#
        );
        assert_eq!(
            vm("foo=x").unwrap_err(),
            r#"parsing verbosity in "foo=x": strconv.ParseUint: parsing "x": invalid syntax"#
        );
        assert_eq!(
            vm("foo=2147483648").unwrap_err(),
            r#"parsing verbosity in "foo=2147483648": strconv.ParseUint: parsing "2147483648": value out of range"#
        );
    }
}
