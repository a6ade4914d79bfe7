//! Writes the CRDs into a directory, one `<plural>.<group>.yaml` per CRD:
//! `cargo run -p api --bin crdgen -- charts/cert-manager-rs/crds`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: crdgen <output directory>");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("crdgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, yaml) in api::crds::files()? {
        let path = dir.join(&name);
        std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
