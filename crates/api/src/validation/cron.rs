//! Renewal window checks: IANA time zones and the cron dialect cert-manager uses (robfig/cron
//! v3 with minute, hour, day of month, month, day of week and `@` descriptors).

use crate::duration::GoDuration;

/// Go's `time.LoadLocation(name)` succeeding, against a bundled IANA database (so the answer
/// does not depend on the host's `/usr/share/zoneinfo`). Names are case-sensitive, as on Linux.
pub(crate) fn load_location(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "UTC" || name == "Local" {
        return Ok(());
    }
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return Err("time: invalid location name".into());
    }
    match jiff::tz::db().get(name) {
        Ok(tz) if tz.iana_name() == Some(name) => Ok(()),
        _ => Err(format!("unknown time zone {name}")),
    }
}

/// cert-manager's `CronParse(cron, timezone)`.
pub(crate) fn parse(cron: &str, timezone: &str) -> Result<(), String> {
    let spec = if timezone.is_empty() {
        cron.to_owned()
    } else {
        format!("CRON_TZ={timezone} {cron}")
    };
    parse_spec(&spec).map_err(|e| format!("failed to parse cron spec '{cron}': {e}"))
}

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

fn parse_spec(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    let mut spec = spec.to_owned();
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let Some(space) = spec.find(' ') else {
            return Err(format!(
                "expected timezone prefix to be followed by a cron spec: {spec}"
            ));
        };
        let eq = spec.find('=').unwrap_or(0);
        let name = &spec[eq + 1..space];
        if let Err(e) = load_location(name) {
            return Err(format!("provided bad location {name}: {e}"));
        }
        spec = spec[space..].trim().to_owned();
    }
    if spec.starts_with('@') {
        return parse_descriptor(&spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    get_field("0", &SECONDS)?;
    for (field, bounds) in fields.iter().zip([&MINUTES, &HOURS, &DOM, &MONTHS, &DOW]) {
        get_field(field, bounds)?;
    }
    Ok(())
}

fn parse_descriptor(d: &str) -> Result<(), String> {
    match d {
        "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly" => {
            Ok(())
        }
        _ => match d.strip_prefix("@every ") {
            Some(dur) => GoDuration::parse(dur)
                .map(|_| ())
                .map_err(|e| format!("failed to parse duration {d}: {e}")),
            None => Err(format!("unrecognized descriptor: {d}")),
        },
    }
}

fn get_field(field: &str, b: &Bounds) -> Result<(), String> {
    field
        .split(',')
        .filter(|r| !r.is_empty())
        .try_for_each(|expr| get_range(expr, b))
}

fn get_range(expr: &str, b: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (b.min, b.max)
    } else {
        let start = parse_int_or_name(low_and_high[0], b)?;
        match low_and_high.len() {
            1 => (start, start),
            2 => (start, parse_int_or_name(low_and_high[1], b)?),
            _ => return Err(format!("too many hyphens: {expr}")),
        }
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            if single {
                end = b.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < b.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        ));
    }
    if end > b.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

fn parse_int_or_name(expr: &str, b: &Bounds) -> Result<u32, String> {
    let lower = expr.to_lowercase();
    if let Some((_, v)) = b.names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    must_parse_int(expr)
}

fn must_parse_int(expr: &str) -> Result<u32, String> {
    let n = super::subject::go_atoi(expr)
        .map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {expr}"));
    }
    // Values this large fail the bounds check anyway.
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_standard_specs() {
        for spec in [
            "* * * * *",
            "0 2 * * 1-5",
            "*/15 0-6 1,15 jan-jun mon",
            "@daily",
            "@every 1h30m",
        ] {
            assert_eq!(parse(spec, ""), Ok(()), "{spec}");
        }
        assert_eq!(parse("0 3 * * *", "Europe/Berlin"), Ok(()));
    }

    #[test]
    fn reports_robfig_errors() {
        let cases = [
            ("", "", "failed to parse cron spec '': empty spec string"),
            (
                "* * *",
                "",
                "failed to parse cron spec '* * *': expected exactly 5 fields, found 3: [* * *]",
            ),
            (
                "60 * * * *",
                "",
                "failed to parse cron spec '60 * * * *': end of range (60) above maximum (59): 60",
            ),
            (
                "* * 0 * *",
                "",
                "failed to parse cron spec '* * 0 * *': beginning of range (0) below minimum (1): 0",
            ),
            (
                "x * * * *",
                "",
                "failed to parse cron spec 'x * * * *': failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            (
                "@sometimes",
                "",
                "failed to parse cron spec '@sometimes': unrecognized descriptor: @sometimes",
            ),
            (
                "* * * * *",
                "Mars/Olympus",
                "failed to parse cron spec '* * * * *': provided bad location Mars/Olympus: unknown time zone Mars/Olympus",
            ),
        ];
        for (spec, tz, want) in cases {
            assert_eq!(parse(spec, tz), Err(want.to_owned()), "{spec}");
        }
    }

    #[test]
    fn time_zones() {
        assert!(load_location("America/Denver").is_ok());
        assert!(load_location("UTC").is_ok());
        assert!(load_location("america/denver").is_err());
        assert_eq!(
            load_location("Nowhere/City"),
            Err("unknown time zone Nowhere/City".into())
        );
    }
}
