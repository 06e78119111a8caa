//! `cargo xtask soak [--requests N] [--clients N]`: load with injected faults, a stop
//! (SIGINT) in the middle and a restart, then a count of the acknowledged writes that
//! survived; see `test-host/host/examples/soak.rs`. Not part of `cargo xtask test`: it
//! takes minutes.

use crate::shell::{cargo, prepare_toolchains, root, run as run_command};

/// Builds the host, the probe guest and the soak driver in release mode, and runs it.
pub fn run(args: &[String]) -> Result<(), String> {
    let value = |flag: &str, default: &str| -> Result<String, String> {
        match args.iter().position(|a| a == flag) {
            Some(i) => args
                .get(i + 1)
                .filter(|v| v.parse::<usize>().is_ok())
                .cloned()
                .ok_or_else(|| format!("{flag} takes a number")),
            None => Ok(default.to_owned()),
        }
    };
    let requests = value("--requests", "20000")?;
    let clients = value("--clients", "200")?;
    prepare_toolchains()?;
    run_command(cargo().args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "rotor-cli",
        "--bin",
        "rotor",
        "-p",
        "rotor-host",
        "--example",
        "soak",
    ]))?;
    run_command(cargo().args([
        "build",
        "--quiet",
        "--release",
        "--target",
        "wasm32-wasip2",
        "-p",
        "probe",
    ]))?;
    let release = root().join("target/release");
    println!(
        "\n## Soak: {requests} requests from {clients} clients, faults, a stop and a restart\n"
    );
    run_command(
        std::process::Command::new(release.join("examples/soak"))
            .arg(release.join("rotor"))
            .arg(root().join("target/wasm32-wasip2/release/probe.wasm"))
            .arg(&requests)
            .arg(&clients),
    )
}
