//! The command line: the gate list in `--help` (golden file) and gate errors.

use testkit::cli::Cli;

const CLI: Cli = Cli {
    bin: env!("CARGO_BIN_EXE_controller"),
    loopback: &[
        "--metrics-listen-address=127.0.0.1:0",
        "--internal-healthz-listen-address=127.0.0.1:0",
    ],
};

#[test]
fn help_lists_component_and_client_gates() {
    CLI.assert_gate_help(include_str!("golden/feature-gates.txt"));
}

#[test]
fn gate_errors_exit_non_zero_with_a_clear_message() {
    CLI.assert_gate_errors();
}
