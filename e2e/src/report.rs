//! The suite's report: one line per check, printed at the end, failing the run if any failed.

use std::fmt;

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It held; the text says what was seen.
    Passed(String),
    /// It did not hold; the text says why.
    Failed(String),
    /// Not run, on purpose; the text names the switch and the reason.
    Skipped(String),
}

/// All checks of a run, in order.
#[derive(Debug, Default)]
pub struct Report {
    entries: Vec<(String, Outcome)>,
    echo: bool,
}

impl Report {
    /// A report that also prints each outcome as it is recorded (so a later hang still shows
    /// the checks before it); `Report::default()` only collects.
    pub fn printing() -> Report {
        Report {
            echo: true,
            ..Report::default()
        }
    }

    /// Records a check's outcome.
    pub fn record(&mut self, check: &str, outcome: Outcome) {
        if self.echo {
            eprintln!("e2e: {}", Line(check, &outcome));
        }
        self.entries.push((check.to_owned(), outcome));
    }

    /// Records `Passed(detail)` or `Failed(error)`.
    pub fn record_result<E: fmt::Display>(&mut self, check: &str, result: Result<String, E>) {
        let outcome = match result {
            Ok(detail) => Outcome::Passed(detail),
            Err(e) => Outcome::Failed(e.to_string()),
        };
        self.record(check, outcome);
    }

    /// The number of checks with each outcome: (passed, failed, skipped).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for (_, o) in &self.entries {
            match o {
                Outcome::Passed(_) => c.0 += 1,
                Outcome::Failed(_) => c.1 += 1,
                Outcome::Skipped(_) => c.2 += 1,
            }
        }
        c
    }

    /// `Err` with the whole report if any check failed.
    pub fn into_result(self) -> Result<String, String> {
        let text = self.to_string();
        if self.counts().1 > 0 {
            Err(text)
        } else {
            Ok(text)
        }
    }
}

struct Line<'a>(&'a str, &'a Outcome);

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tag, text) = match self.1 {
            Outcome::Passed(t) => ("PASS", t),
            Outcome::Failed(t) => ("FAIL", t),
            Outcome::Skipped(t) => ("SKIP", t),
        };
        write!(f, "{tag} {}: {text}", self.0)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "e2e report:")?;
        for (check, outcome) in &self.entries {
            writeln!(f, "  {}", Line(check, outcome))?;
        }
        let (passed, failed, skipped) = self.counts();
        write!(
            f,
            "e2e: {passed} passed, {failed} failed, {skipped} skipped"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_fails_the_report() {
        let mut r = Report::default();
        r.record("a", Outcome::Passed("ok".into()));
        r.record("b", Outcome::Skipped("E2E_SKIP_X=1".into()));
        assert_eq!(r.counts(), (1, 0, 1));
        r.record_result::<String>("c", Err("boom".into()));
        let text = r.into_result().unwrap_err();
        assert!(text.contains("  FAIL c: boom"), "{text}");
        assert!(
            text.ends_with("e2e: 1 passed, 1 failed, 1 skipped"),
            "{text}"
        );
    }
}
