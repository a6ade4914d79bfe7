//! klog-compatible logging flags (`-v`, `--logging-format`) on top of `tracing`.

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `None` when not given on the command line, so a config file's `logging:` can supply the value
/// (an explicit flag still wins); `init` falls back to the defaults below.
#[derive(Args, Clone, Debug, Default)]
pub struct LoggingArgs {
    /// Number for the log level verbosity (0-2 info, 3-5 debug, 6+ trace) (default 0)
    #[arg(short = 'v', long = "v", value_name = "Level",
          value_parser = clap::value_parser!(u32).range(0..=i32::MAX as i64))]
    pub verbosity: Option<u32>,
    /// Sets the log format. Permitted formats: "json", "text". (default "text")
    #[arg(long = "logging-format", value_enum)]
    pub format: Option<LogFormat>,
}

/// component-base's default verbosity (levels 0-2 all log at info).
pub const DEFAULT_VERBOSITY: u32 = 0;

/// The tracing level a klog verbosity maps to.
pub fn level(verbosity: u32) -> tracing::Level {
    match verbosity {
        0..=2 => tracing::Level::INFO,
        3..=5 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    }
}

/// Install the global subscriber with the effective format and verbosity (flags merged with a
/// config file). `RUST_LOG`, when set, overrides the verbosity (per-module filters).
pub fn init_with(format: LogFormat, verbosity: u32) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(level(verbosity).to_string()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests starting several components in one process) is harmless.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
