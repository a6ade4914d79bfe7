//! klog-compatible logging flags (`-v`, `--logging-format`) on top of `tracing`.

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Args, Clone, Debug)]
pub struct LoggingArgs {
    /// Number for the log level verbosity (0-2 info, 3-5 debug, 6+ trace).
    #[arg(short = 'v', long = "v", value_name = "Level", default_value_t = 2)]
    pub verbosity: u8,
    /// Sets the log format.
    #[arg(long = "logging-format", value_enum, default_value_t = LogFormat::Text)]
    pub format: LogFormat,
}

/// The tracing level a klog verbosity maps to.
pub fn level(verbosity: u8) -> tracing::Level {
    match verbosity {
        0..=2 => tracing::Level::INFO,
        3..=5 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    }
}

/// Install the global subscriber. `RUST_LOG`, when set, overrides `-v` (per-module filters).
pub fn init(args: &LoggingArgs) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(level(args.verbosity).to_string()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests starting several components in one process) is harmless.
    let _ = match args.format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
