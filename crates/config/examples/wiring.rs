//! How a binary wires the config crate in (the controller here; the webhook and cainjector are
//! the same with their own flags, `load` and gate table). Run it with `--help`, with
//! `--config=tests/examples/controller-chart.yaml`, or with a bad flag.

use clap::Parser;
use componentbase::cli::CommonArgs;
use featuregates::certmanager::CONTROLLER as GATES;

#[derive(Parser, Debug)]
#[command(
    name = "controller",
    about = "cert-manager-rs controller (config wiring example)"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    flags: config::ControllerFlags,
}

fn main() -> anyhow::Result<()> {
    let cli: Cli = componentbase::cli::parse(GATES);
    // Before anything else, and before any client exists: a bad file or flag ends the process
    // here with `Error: config file ...: field: ...` and exit code 1.
    let cfg = config::controller::load(&cli.flags, &cli.common)?;
    componentbase::logging::init_with(cfg.logging.log_format(), cfg.logging.verbosity);
    tracing::debug!(config = %cfg.summary(), "effective configuration");
    // The file's featureGates map; --feature-gates wins per gate.
    let gates = componentbase::cli::resolve_gates_with_config_file::<Cli>(
        GATES,
        &cli.common,
        Some(&cfg.feature_gates),
    );
    componentbase::gates::log_effective(&gates);
    let enabled = cfg.enabled_controllers(&gates);
    tracing::info!(controllers = ?enabled, "enabled controllers");
    println!("{}", cfg.summary());
    Ok(())
}
