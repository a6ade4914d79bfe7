//! Laying the flags given on the command line over the file-or-default configuration, the way
//! upstream's cobra commands end up doing it, and remembering which fields flags set so a
//! validation error can name the flag instead of the file.
//!
//! Upstream parses flags into a defaulted config, then (with `--config`) replaces the whole config
//! with the file's (defaulted) one and parses the command line a second time. Scalars given as
//! flags therefore win over the file. List flags (`StringSlice`) and vmodule append on any
//! `Set` after their first, so with a config file a list flag's items are *appended* to the file's
//! (or the file's defaulted) list, while without one they replace the default. Map flags
//! (`MapStringString`, `--feature-gates`) merge per key, the flag winning.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{ConfigError, FieldError, InvalidField, ValueSource};
use crate::pflag::{KeyValues, StringList, VModuleList};
use crate::shared::VModuleItem;

pub(crate) struct Overrides {
    file: Option<PathBuf>,
    /// (field path, flag) for every field, or list item, that a flag set.
    flagged: Vec<(String, &'static str)>,
}

impl Overrides {
    /// `file` is the config file as given on the command line, if any.
    pub fn new(file: Option<PathBuf>) -> Self {
        Overrides {
            file,
            flagged: Vec::new(),
        }
    }

    /// A scalar flag: given on the command line, it wins.
    pub fn value<T: Clone>(
        &mut self,
        target: &mut T,
        flag: &Option<T>,
        field: &str,
        name: &'static str,
    ) {
        if let Some(v) = flag {
            *target = v.clone();
            self.flagged.push((field.to_owned(), name));
        }
    }

    /// A list flag (every occurrence of it, in order).
    pub fn list(
        &mut self,
        target: &mut Vec<String>,
        flag: &Option<Vec<StringList>>,
        field: &str,
        name: &'static str,
    ) {
        let Some(occurrences) = flag else { return };
        let items = occurrences.iter().flat_map(|l| l.0.iter().cloned());
        if self.file.is_some() {
            let start = target.len();
            target.extend(items);
            for i in start..target.len() {
                self.flagged.push((format!("{field}[{i}]"), name));
            }
        } else {
            *target = items.collect();
            self.flagged.push((field.to_owned(), name));
        }
    }

    /// A `key=value` map flag: merged into the file's map, the flag winning per key.
    pub fn map(
        &mut self,
        target: &mut BTreeMap<String, String>,
        flag: &Option<Vec<KeyValues>>,
        field: &str,
        name: &'static str,
    ) {
        let Some(occurrences) = flag else { return };
        target.extend(occurrences.iter().flat_map(|kv| kv.0.iter().cloned()));
        self.flagged.push((field.to_owned(), name));
    }

    /// `--vmodule` always appends, file or not.
    pub fn vmodule(
        &mut self,
        target: &mut Vec<VModuleItem>,
        flag: &Option<Vec<VModuleList>>,
        field: &str,
        name: &'static str,
    ) {
        let Some(occurrences) = flag else { return };
        let start = target.len();
        target.extend(occurrences.iter().flat_map(|l| l.0.iter().cloned()));
        for i in start..target.len() {
            self.flagged.push((format!("{field}[{i}]"), name));
        }
    }

    /// The source to blame for an error at `field`: the flag that set it (or a parent of it),
    /// else the config file, else the defaults.
    pub fn source(&self, field: &str) -> ValueSource {
        let covers = |set: &str| {
            field == set
                || field
                    .strip_prefix(set)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        };
        if let Some((_, flag)) = self.flagged.iter().rev().find(|(set, _)| covers(set)) {
            return ValueSource::Flag(flag);
        }
        match &self.file {
            Some(p) => ValueSource::ConfigFile(p.clone()),
            None => ValueSource::Default,
        }
    }

    /// `Err` naming every invalid field and its source, if there are any.
    pub fn check(&self, errors: Vec<FieldError>) -> Result<(), ConfigError> {
        if errors.is_empty() {
            return Ok(());
        }
        Err(ConfigError::Invalid(
            errors
                .into_iter()
                .map(|error| InvalidField {
                    source: self.source(&error.field),
                    error,
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Option<Vec<StringList>> {
        Some(vec![StringList(
            items.iter().map(|s| s.to_string()).collect(),
        )])
    }

    #[test]
    fn list_flags_replace_defaults_without_a_file_and_append_with_one() {
        let mut o = Overrides::new(None);
        let mut v = vec!["*".to_owned()];
        o.list(&mut v, &list(&["issuers"]), "controllers", "--controllers");
        assert_eq!(v, ["issuers"]);
        assert_eq!(
            o.source("controllers[0]"),
            ValueSource::Flag("--controllers")
        );

        let mut o = Overrides::new(Some("/c.yaml".into()));
        let mut v = vec!["*".to_owned()];
        o.list(&mut v, &list(&["-issuers"]), "controllers", "--controllers");
        assert_eq!(v, ["*", "-issuers"]);
        assert_eq!(
            o.source("controllers[1]"),
            ValueSource::Flag("--controllers")
        );
        assert_eq!(
            o.source("controllers[0]"),
            ValueSource::ConfigFile("/c.yaml".into())
        );
    }

    #[test]
    fn sources_match_whole_path_segments() {
        let mut o = Overrides::new(None);
        let mut qps = 0.0f32;
        o.value(&mut qps, &Some(5.0), "kubernetesAPIQPS", "--kube-api-qps");
        assert_eq!(
            o.source("kubernetesAPIQPS"),
            ValueSource::Flag("--kube-api-qps")
        );
        assert_eq!(o.source("kubernetesAPIQPSX"), ValueSource::Default);
        assert_eq!(o.source("kubernetesAPIBurst"), ValueSource::Default);
    }
}
