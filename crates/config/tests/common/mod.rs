//! Test harness: each component's command line as a binary builds it (`CommonArgs` flattened
//! next to the component's flags), config files written to a temporary directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use clap::Parser;
use componentbase::cli::CommonArgs;
use config::{
    CAInjectorConfig, CAInjectorFlags, ConfigError, ControllerConfig, ControllerFlags,
    WebhookConfig, WebhookFlags,
};

#[derive(Parser, Debug)]
#[command(name = "controller")]
pub struct ControllerCli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub flags: ControllerFlags,
}

#[derive(Parser, Debug)]
#[command(name = "webhook")]
pub struct WebhookCli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub flags: WebhookFlags,
}

#[derive(Parser, Debug)]
#[command(name = "cainjector")]
pub struct CAInjectorCli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub flags: CAInjectorFlags,
}

pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn argv(name: &str, args: &[&str], file: Option<&Path>) -> Vec<String> {
    let mut v = vec![name.to_owned()];
    v.extend(args.iter().map(|s| s.to_string()));
    if let Some(f) = file {
        v.push(format!("--config={}", f.display()));
    }
    v
}

pub fn controller(args: &[&str], file: Option<&Path>) -> Result<ControllerConfig, ConfigError> {
    let cli = ControllerCli::try_parse_from(argv("controller", args, file)).expect("flags parse");
    config::controller::load(&cli.flags, &cli.common)
}

pub fn webhook(args: &[&str], file: Option<&Path>) -> Result<WebhookConfig, ConfigError> {
    let cli = WebhookCli::try_parse_from(argv("webhook", args, file)).expect("flags parse");
    config::webhook::load(&cli.flags, &cli.common)
}

pub fn cainjector(args: &[&str], file: Option<&Path>) -> Result<CAInjectorConfig, ConfigError> {
    let cli = CAInjectorCli::try_parse_from(argv("cainjector", args, file)).expect("flags parse");
    config::cainjector::load(&cli.flags, &cli.common)
}

/// A config file body with its `apiVersion`/`kind` header.
pub fn doc(api_version: &str, kind: &str, body: &str) -> String {
    format!("apiVersion: {api_version}\nkind: {kind}\n{body}\n")
}
