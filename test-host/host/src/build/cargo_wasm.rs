//! Building a crate to a `.wasm` component with cargo: for Spin's conformance suite
//! (`%{source=NAME}`) and for JavaScript apps (`rotor js build`).

use std::path::PathBuf;
use std::process::Command;

/// Cargo as the user invoked it (`$CARGO` inside cargo), else from `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Why a build failed: cargo's own output, so that callers can show what matters to them.
#[derive(Debug)]
pub struct BuildFailure {
    /// What cargo wrote to stderr.
    pub stderr: String,
}

/// Runs `build` (a `cargo build ...` without `--message-format`) and returns the last
/// `.wasm` file it produced. On a terminal, a progress line says `label` meanwhile.
pub fn build(mut build: Command, label: &str) -> anyhow::Result<Result<PathBuf, BuildFailure>> {
    build.args(["--message-format", "json-render-diagnostics"]);
    let output = super::progress::run_captured(&mut build, label, super::progress::Shown::Stderr)
        .map_err(|e| anyhow::anyhow!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Ok(Err(BuildFailure {
            stderr: output.stderr,
        }));
    }
    let wasm = output
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .flat_map(|message| {
            message["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .collect::<Vec<_>>()
        })
        .rfind(|file| file.extension().is_some_and(|e| e == "wasm"));
    match wasm {
        Some(wasm) => Ok(Ok(wasm)),
        None => anyhow::bail!("the build produced no .wasm file"),
    }
}

impl BuildFailure {
    /// The last `lines` lines of cargo's output.
    pub fn tail(&self, lines: usize) -> String {
        let all: Vec<&str> = self.stderr.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}
