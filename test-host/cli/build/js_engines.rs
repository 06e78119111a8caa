//! Builds the rotor-js engines (`sdk-js-bridge/`) for `wasm32-wasip2` and embeds them in the
//! `rotor` binary, so that `rotor js build` needs neither cargo nor this repository: it only
//! hands an app to an engine and snapshots it.
//!
//! boa is always built. QuickJS is C, so it is built only where a C compiler for WASI is
//! found (`WASI_SDK`, or the system's clang with a WASI libc); a failure to build it is a
//! warning, and `rotor js build --engine quickjs` then says that this `rotor` lacks it.
//!
//! The engines are built by a cargo of their own, in `<target>/rotor-js-engines/<engine>`:
//! a directory of their own, so that the cargo building this crate (which holds its build
//! directory) is not waited on, and outside `OUT_DIR`, so that `cargo build`, `cargo clippy`
//! and `cargo install` of one checkout share one engine build.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the engines and tells rustc where they are (`ROTOR_JS_ENGINE_BOA`, and
/// `ROTOR_JS_ENGINE_QUICKJS` with `cfg(rotor_js_quickjs)` when QuickJS was built).
pub fn embed(workspace: &Path, out: &Path) {
    for input in [
        "sdk-js-bridge/src",
        "sdk-js-bridge/js",
        "sdk-js-bridge/Cargo.toml",
        "sdk/src",
        "sdk/Cargo.toml",
        "macro/src",
        "macro/Cargo.toml",
        "wit",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=WASI_SDK");
    println!("cargo:rustc-check-cfg=cfg(rotor_js_quickjs)");

    let bridge = workspace.join("sdk-js-bridge/Cargo.toml");
    let engines = target_dir(out).join("rotor-js-engines");
    let boa = build(&bridge, &engines.join("boa"), &[], None).unwrap_or_else(|why| {
        panic!(
            "building the rotor-js engine (boa) for wasm32-wasip2 failed (it needs the \
             target: `rustup target add wasm32-wasip2`):\n{why}"
        )
    });
    embed_file(&boa, &out.join("rotor-js-boa.wasm"), "ROTOR_JS_ENGINE_BOA");

    let Some(wasi_sdk) = wasi_c::sdk(&engines.join("wasi-sdk")) else {
        return;
    };
    let features = ["--no-default-features", "--features", "quickjs"];
    match build(
        &bridge,
        &engines.join("quickjs"),
        &features,
        Some(&wasi_sdk),
    ) {
        Ok(quickjs) => {
            embed_file(
                &quickjs,
                &out.join("rotor-js-quickjs.wasm"),
                "ROTOR_JS_ENGINE_QUICKJS",
            );
            println!("cargo:rustc-cfg=rotor_js_quickjs");
        }
        Err(why) => {
            let last = why.lines().last().unwrap_or_default().to_owned();
            println!("cargo:warning=the QuickJS engine did not build, so this rotor has only boa: {last}");
        }
    }
}

/// The target directory `out` (a build script's `OUT_DIR`) is in: the nearest directory
/// above it that cargo tagged as its own, else `out` itself.
fn target_dir(out: &Path) -> PathBuf {
    out.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .unwrap_or(out)
        .to_owned()
}

/// Copies `built` to `embedded` (so that a later engine build cannot change the bytes under
/// a compile) and names it to rustc as `variable`.
fn embed_file(built: &Path, embedded: &Path, variable: &str) {
    std::fs::copy(built, embedded)
        .unwrap_or_else(|e| panic!("copying {} into OUT_DIR: {e}", built.display()));
    println!("cargo:rustc-env={variable}={}", embedded.display());
}

/// Builds the bridge with `features` into `target_dir`; returns the component, or cargo's
/// last lines.
fn build(
    bridge: &Path,
    target_dir: &Path,
    features: &[&str],
    wasi_sdk: Option<&Path>,
) -> Result<PathBuf, String> {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .args([
            "build",
            "--locked",
            "--profile",
            "js",
            "--target",
            "wasm32-wasip2",
        ])
        .args(["--package", "rotor-js", "--manifest-path"])
        .arg(bridge)
        .arg("--target-dir")
        .arg(target_dir)
        .args(features);
    // What the outer cargo set for this crate's build, which is not for the engine: flags
    // for the host's target, clippy's wrapper, the outer target directory.
    for variable in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cargo.env_remove(variable);
    }
    if let Some(sdk) = wasi_sdk {
        cargo.env("WASI_SDK", sdk);
    }
    let output = cargo
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        return Err(lines[lines.len().saturating_sub(20)..].join("\n"));
    }
    let component = target_dir.join("wasm32-wasip2/js/rotor_js.wasm");
    if component.is_file() {
        Ok(component)
    } else {
        Err(format!("cargo built no {}", component.display()))
    }
}

/// A C compiler for WASI, for QuickJS: `WASI_SDK`, or the system's clang with a WASI libc
/// dressed up as a wasi-sdk (rquickjs would otherwise try to download one).
mod wasi_c {
    use std::path::{Path, PathBuf};

    /// Where Debian's `wasi-libc` puts WASI's headers (`include/wasm32-wasi`) and libraries.
    const WASI_SYSROOT: &str = "/usr";

    /// A wasi-sdk: `WASI_SDK`, else a shim made under `shim` around the system's compiler,
    /// else none.
    pub fn sdk(shim: &Path) -> Option<PathBuf> {
        if let Some(sdk) = std::env::var_os("WASI_SDK") {
            return Some(PathBuf::from(sdk));
        }
        let (clang, ar) = system_toolchain()?;
        match make_shim(shim, &clang, &ar) {
            Ok(()) => Some(shim.to_owned()),
            Err(e) => {
                println!("cargo:warning=cannot dress up the system's clang as a wasi-sdk: {e}");
                None
            }
        }
    }

    /// The system's clang and llvm-ar, when a WASI libc is installed beside them.
    fn system_toolchain() -> Option<(PathBuf, PathBuf)> {
        if !Path::new(WASI_SYSROOT)
            .join("include/wasm32-wasi/stdio.h")
            .is_file()
        {
            return None;
        }
        let on_path = |name: &str| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        };
        ["", "-19", "-18", "-17", "-16", "-15", "-14"]
            .iter()
            .find_map(|suffix| {
                Some((
                    on_path(&format!("clang{suffix}"))?,
                    on_path(&format!("llvm-ar{suffix}"))?,
                ))
            })
    }

    /// Makes `sdk` look like a wasi-sdk around the system's `clang` and `ar`.
    #[cfg(unix)]
    fn make_shim(sdk: &Path, clang: &Path, ar: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::create_dir_all(sdk.join("bin"))?;
        std::fs::create_dir_all(sdk.join("share"))?;
        // A system clang knows WASI as `wasm32-wasi`, and looks for its headers and
        // libraries under that name; cargo asks for `wasm32-wasip2`.
        let wrapper = format!(
            "#!/bin/sh\nfor arg in \"$@\"; do\n  case \"$arg\" in\n    --target=wasm32-*wasip*) \
             arg=--target=wasm32-wasi ;;\n  esac\n  set -- \"$@\" \"$arg\"; shift\ndone\n\
             exec '{}' \"$@\"\n",
            clang.display()
        );
        let shim = sdk.join("bin/clang");
        std::fs::write(&shim, wrapper)?;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755))?;
        for (link, to) in [
            (sdk.join("bin/ar"), ar),
            (sdk.join("share/wasi-sysroot"), Path::new(WASI_SYSROOT)),
        ] {
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(to, &link)?;
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn make_shim(_: &Path, _: &Path, _: &Path) -> std::io::Result<()> {
        Err(std::io::Error::other(
            "set WASI_SDK to a wasi-sdk on this system",
        ))
    }
}
