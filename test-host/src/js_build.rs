//! `rotor js build APP.js -o APP.wasm`: a JavaScript app as a component, without writing
//! Rust. The app is built into the `rotor-js` bridge crate (`sdk-js-bridge/`), whose build
//! script checks its syntax; only that crate is compiled again for each app.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Where the bridge crate is: `ROTOR_JS_BRIDGE`, else beside this crate in the repository.
pub fn bridge_dir() -> PathBuf {
    std::env::var_os("ROTOR_JS_BRIDGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk-js-bridge"))
}

/// Builds `app` into a component at `output`.
///
/// A syntax error in the app is the error, as `FILE:LINE:COLUMN: syntax error: ...`. Builds
/// of different apps take turns, since they share the bridge crate's build directory.
pub fn build(app: &Path, output: &Path) -> anyhow::Result<()> {
    let app = std::path::absolute(app).with_context(|| format!("{}", app.display()))?;
    if !app.is_file() {
        anyhow::bail!("{}: no such file", app.display());
    }
    let bridge = bridge_dir();
    let manifest = bridge.join("Cargo.toml");
    if !manifest.is_file() {
        anyhow::bail!(
            "the rotor-js bridge crate is not at {} (set ROTOR_JS_BRIDGE to its directory)",
            bridge.display()
        );
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| bridge.join("../target"));
    std::fs::create_dir_all(&target)?;
    let lock = std::fs::File::create(target.join("rotor-js-build.lock"))?;
    lock.lock()
        .context("waiting for another `rotor js build` to finish")?;
    let mut cargo = crate::cargo_wasm::cargo();
    cargo
        .args([
            "build",
            "--profile",
            "js",
            "--target",
            "wasm32-wasip2",
            "--package",
            "rotor-js",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env("ROTOR_JS_APP", &app);
    let wasm = crate::cargo_wasm::build(cargo)?.map_err(|failure| {
        let ours: Vec<&str> = failure
            .stderr
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("rotor-js: "))
            .collect();
        if ours.is_empty() {
            anyhow::anyhow!(
                "building {} failed:\n{}\n(the bridge needs the wasm32-wasip2 target: \
                 `rustup target add wasm32-wasip2`)",
                app.display(),
                failure.tail(15)
            )
        } else {
            anyhow::anyhow!("{}", ours.join("\n"))
        }
    })?;
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::copy(&wasm, output)
        .with_context(|| format!("copying the component to {}", output.display()))?;
    Ok(())
}
