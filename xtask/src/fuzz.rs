//! `cargo xtask fuzz [--seconds N] [--only TARGET]`: runs each libFuzzer target in `fuzz/`
//! for N seconds (120 by default), starting from `fuzz/seeds/TARGET/` and the corpus it grew
//! before (`fuzz/corpus/`, not committed). Not part of `cargo xtask test`: it builds the host
//! again with coverage instrumentation and takes many minutes.
//!
//! An input that fails is written to `fuzz/artifacts/TARGET/`; once the bug is fixed, copy it
//! to `fuzz/regressions/TARGET/`, where the ordinary test suite replays it for good.

use crate::shell::{cargo, root, run as run_command};

/// The targets, as `fuzz/Cargo.toml` names them.
const TARGETS: &[&str] = &[
    "manifest",
    "runtime_config",
    "routes",
    "allowed_hosts",
    "wagi_output",
    "cloudevents",
    "filters",
];

/// Installs cargo-fuzz if needed, then runs the targets one after another.
pub fn run(args: &[String]) -> Result<(), String> {
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .map(|i| {
                args.get(i + 1)
                    .cloned()
                    .ok_or(format!("{name} takes a value"))
            })
            .transpose()
    };
    let seconds: u32 = flag("--seconds")?
        .map(|s| s.parse().map_err(|_| "--seconds takes a number".to_owned()))
        .transpose()?
        .unwrap_or(120);
    let only = flag("--only")?;
    if let Some(target) = &only {
        if !TARGETS.contains(&target.as_str()) {
            return Err(format!(
                "no fuzz target {target:?}; the targets: {TARGETS:?}"
            ));
        }
    }
    let installed = cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        run_command(cargo().args(["install", "--locked", "cargo-fuzz"]))?;
    }
    let fuzz = root().join("fuzz");
    for target in TARGETS
        .iter()
        .filter(|t| only.as_deref().is_none_or(|o| o == **t))
    {
        println!("\n## {target}: {seconds} s\n");
        let corpus = fuzz.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        run_command(
            cargo()
                // libFuzzer's instrumentation flags are unstable ones; the stable toolchain
                // accepts them this way, and no sanitizer is needed for safe Rust.
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "run", "--sanitizer", "none", target])
                .arg(&corpus)
                .arg(fuzz.join("seeds").join(target))
                .args([
                    "--",
                    &format!("-max_total_time={seconds}"),
                    "-rss_limit_mb=4096",
                    "-timeout=10",
                ]),
        )
        .map_err(|e| format!("{e}\nThe failing input is under fuzz/artifacts/{target}/."))?;
    }
    Ok(())
}
