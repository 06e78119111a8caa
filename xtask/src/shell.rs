//! Running commands from the repository root, for every task.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Runs `command`, failing with its description when it does not succeed.
pub fn run(command: &mut Command) -> Result<(), String> {
    let description = format!("{command:?}");
    let status = command
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start {description}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{description} failed ({status})"))
    }
}

/// `cargo` as invoked by the user.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Installs the wasm targets the guests are built for (a no-op when they are present), and
/// fetches zig for the QuickJS engine (see `zig.rs`); returns zig, when this fetched it.
pub fn prepare_toolchains() -> Result<Option<PathBuf>, String> {
    let zig = crate::zig::fetch_for_quickjs();
    run(Command::new("rustup").args(["target", "add", "wasm32-wasip2", "wasm32-wasip1"]))
        .map_err(|e| format!("{e}\nThe guests need the wasm32-wasip2 and wasm32-wasip1 targets; install them with `rustup target add wasm32-wasip2 wasm32-wasip1`."))?;
    Ok(zig)
}
