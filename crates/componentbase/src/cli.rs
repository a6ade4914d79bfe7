//! Parsing a binary's command line with its gate list in the `--feature-gates` help.

use clap::{CommandFactory, Parser};

use featuregates::{FeatureGates, FeatureSpec};

/// Flags every binary has.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct CommonArgs {
    /// Path to a kubeconfig. Only required if out-of-cluster.
    #[arg(long)]
    pub kubeconfig: Option<std::path::PathBuf>,

    /// A set of key=value pairs that describe feature gates (the help lists them).
    #[arg(long = "feature-gates", value_name = "mapStringBool")]
    pub feature_gates: Option<String>,

    #[command(flatten)]
    pub logging: crate::logging::LoggingArgs,
}

/// Parse the command line of binary `C`, whose `--feature-gates` help lists `component_gates`
/// and the client gates. Exits like clap on `--help` or bad input.
pub fn parse<C: Parser>(component_gates: &[FeatureSpec]) -> C {
    parse_from(component_gates, std::env::args_os())
}

pub fn parse_from<C, I, T>(component_gates: &[FeatureSpec], args: I) -> C
where
    C: Parser,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let usage = crate::gates::registry(component_gates).usage();
    let mut cmd = C::command().mut_arg("feature_gates", |a| a.help(usage));
    let matches = cmd.clone().get_matches_from(args);
    C::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit())
}

/// Resolve the gates from env, the config file's `featureGates:` map and the flag (the flag
/// wins per gate); on error, exit as clap does for an invalid value, naming the flag. The
/// `config` crate has already checked the file's map, so an error here is the flag's or the env's.
pub fn resolve_gates_with_config_file<C: CommandFactory>(
    component_gates: &[FeatureSpec],
    common: &CommonArgs,
    config_file: Option<&std::collections::BTreeMap<String, bool>>,
) -> FeatureGates {
    crate::gates::resolve(
        component_gates,
        common.feature_gates.as_deref(),
        config_file,
        std::env::vars(),
    )
    .unwrap_or_else(|e| {
        C::command()
            .error(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for '--feature-gates': {e}"),
            )
            .exit()
    })
}

/// The `--feature-gates` entry of a `--help` text, from its flag line to the next flag; for
/// golden tests of the help each binary prints.
pub fn feature_gates_help(help: &str) -> String {
    let mut lines = help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("--feature-gates"));
    let first = lines.next().unwrap_or_default();
    let rest = lines.take_while(|l| !l.trim_start().starts_with('-'));
    std::iter::once(first)
        .chain(rest)
        .map(|l| format!("{}\n", l.trim()))
        .collect()
}
