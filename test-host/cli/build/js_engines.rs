//! Builds the rotor-js engines (`sdk-js-bridge/`) for `wasm32-wasip2` and embeds them in the
//! `rotor` binary, so that `rotor js build` needs neither cargo nor this repository: it only
//! hands an app to an engine and snapshots it.
//!
//! boa is always built. QuickJS is C, so it is built only where a C compiler for WASI is
//! found: `WASI_SDK`, zig (which `cargo xtask` fetches from the Python package registry as
//! the `ziglang` wheel, see `xtask/src/zig.rs`), or the system's clang with a WASI libc. A
//! failure to build it is a warning; `rotor js build` then uses boa, and
//! `--engine quickjs` says that this `rotor` lacks QuickJS.
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

    let toolchains = target_dir(out).join("toolchains");
    let Some(wasi_c) = wasi_c::toolchain(&toolchains, &engines.join("shims")) else {
        return;
    };
    let features = ["--no-default-features", "--features", "quickjs"];
    match build(&bridge, &engines.join("quickjs"), &features, Some(&wasi_c)) {
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
    wasi_c: Option<&wasi_c::Toolchain>,
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
    if let Some(toolchain) = wasi_c {
        toolchain.configure(&mut cargo);
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

/// A C compiler for WASI, for QuickJS, in one of three forms rquickjs can be given.
mod wasi_c {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// Where Debian's `wasi-libc` puts WASI's headers (`include/wasm32-wasi`) and libraries.
    const WASI_SYSROOT: &str = "/usr";

    /// How QuickJS's C gets compiled for `wasm32-wasip2`.
    pub enum Toolchain {
        /// A wasi-sdk (or a shim that looks like one): clang, ar and a WASI sysroot.
        WasiSdk(PathBuf),
        /// Zig's `zig cc`, which carries clang and a WASI libc of its own; `cc` and `ar`
        /// are wrappers around it.
        Zig { cc: PathBuf, ar: PathBuf },
    }

    impl Toolchain {
        /// Points the engine's cargo at this toolchain.
        pub fn configure(&self, cargo: &mut Command) {
            match self {
                Toolchain::WasiSdk(sdk) => {
                    cargo.env("WASI_SDK", sdk);
                }
                Toolchain::Zig { cc, ar } => {
                    // rquickjs-sys wants a wasi-sdk for WASI unless told not to; the headers
                    // and libc then come from zig, which knows `wasm32-wasi` by itself.
                    cargo
                        .env("RQUICKJS_SYS_NO_WASI_SDK", "1")
                        .env("CC_wasm32_wasip2", cc)
                        .env("AR_wasm32_wasip2", ar);
                }
            }
        }
    }

    /// The first of: `WASI_SDK`; zig (`ROTOR_ZIG`, else one that `cargo xtask` unpacked
    /// under `toolchains`, else `zig` on `PATH`, else the `ziglang` package of the system's
    /// Python); the system's clang with a WASI libc. Wrappers are made under `shims`.
    pub fn toolchain(toolchains: &Path, shims: &Path) -> Option<Toolchain> {
        println!("cargo:rerun-if-env-changed=WASI_SDK");
        println!("cargo:rerun-if-env-changed=ROTOR_ZIG");
        // Watched, so that a zig that `cargo xtask` fetches later is picked up; made when
        // missing, because cargo reruns a build script whose watched path is missing on
        // every build.
        let _ = std::fs::create_dir_all(toolchains);
        println!("cargo:rerun-if-changed={}", toolchains.display());
        if let Some(sdk) = std::env::var_os("WASI_SDK") {
            return Some(Toolchain::WasiSdk(PathBuf::from(sdk)));
        }
        if let Some(zig) = zig(toolchains) {
            println!("cargo:rerun-if-changed={}", zig.display());
            return match zig_wrappers(&shims.join("zig"), &zig) {
                Ok(toolchain) => Some(toolchain),
                Err(e) => {
                    println!("cargo:warning=cannot wrap {} for cargo: {e}", zig.display());
                    None
                }
            };
        }
        let (clang, ar) = system_clang()?;
        let sdk = shims.join("wasi-sdk");
        match clang_shim(&sdk, &clang, &ar) {
            Ok(()) => Some(Toolchain::WasiSdk(sdk)),
            Err(e) => {
                println!("cargo:warning=cannot dress up the system's clang as a wasi-sdk: {e}");
                None
            }
        }
    }

    /// The program `name` on `PATH`.
    fn on_path(name: &str) -> Option<PathBuf> {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    }

    /// Zig: `ROTOR_ZIG`, a `toolchains/ziglang-*/ziglang/zig` (the `ziglang` wheel
    /// as `cargo xtask` unpacks it), `zig` on `PATH`, or the one in Python's `ziglang`
    /// package (what `pip install ziglang` installs).
    fn zig(toolchains: &Path) -> Option<PathBuf> {
        if let Some(zig) = std::env::var_os("ROTOR_ZIG") {
            return Some(PathBuf::from(zig));
        }
        let mut unpacked: Vec<PathBuf> = std::fs::read_dir(toolchains)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.starts_with("ziglang-") && !name.ends_with(".partial")
            })
            .map(|entry| entry.path().join("ziglang/zig"))
            .filter(|zig| zig.is_file())
            .collect();
        unpacked.sort();
        if let Some(zig) = unpacked.pop() {
            return Some(zig);
        }
        if let Some(zig) = on_path("zig") {
            return Some(zig);
        }
        let python = Command::new("python3")
            .args([
                "-c",
                "import os, ziglang; print(os.path.dirname(ziglang.__file__))",
            ])
            .output()
            .ok()
            .filter(|output| output.status.success())?;
        let package = String::from_utf8(python.stdout).ok()?;
        Some(Path::new(package.trim()).join("zig")).filter(|zig| zig.is_file())
    }

    /// Writes `cc` and `ar` under `dir`: `zig cc` for WASI and `zig ar`.
    #[cfg(unix)]
    fn zig_wrappers(dir: &Path, zig: &Path) -> std::io::Result<Toolchain> {
        std::fs::create_dir_all(dir)?;
        // cargo's cc names the target as rustc does (`--target=wasm32-wasip2`), which zig
        // does not know; zig's own name for it takes its place.
        let cc = format!(
            "#!/bin/sh\nn=$#\nwhile [ \"$n\" -gt 0 ]; do\n  arg=$1; shift; n=$((n - 1))\n  \
             case \"$arg\" in\n    --target=*) ;;\n    *) set -- \"$@\" \"$arg\" ;;\n  esac\n\
             done\nexec '{}' cc -target wasm32-wasi \"$@\"\n",
            zig.display()
        );
        let ar = format!("#!/bin/sh\nexec '{}' ar \"$@\"\n", zig.display());
        let (cc_path, ar_path) = (dir.join("cc"), dir.join("ar"));
        write_executable(&cc_path, &cc)?;
        write_executable(&ar_path, &ar)?;
        Ok(Toolchain::Zig {
            cc: cc_path,
            ar: ar_path,
        })
    }

    #[cfg(not(unix))]
    fn zig_wrappers(_: &Path, _: &Path) -> std::io::Result<Toolchain> {
        Err(std::io::Error::other(
            "zig is used through shell wrappers, which need a Unix; set WASI_SDK instead",
        ))
    }

    /// The system's clang and llvm-ar, when a WASI libc is installed beside them.
    fn system_clang() -> Option<(PathBuf, PathBuf)> {
        if !Path::new(WASI_SYSROOT)
            .join("include/wasm32-wasi/stdio.h")
            .is_file()
        {
            return None;
        }
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
    fn clang_shim(sdk: &Path, clang: &Path, ar: &Path) -> std::io::Result<()> {
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
        write_executable(&sdk.join("bin/clang"), &wrapper)?;
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
    fn clang_shim(_: &Path, _: &Path, _: &Path) -> std::io::Result<()> {
        Err(std::io::Error::other(
            "set WASI_SDK to a wasi-sdk on this system",
        ))
    }

    /// Writes a script, executable, unless it is already there as written (so that its
    /// timestamp, which the C builds watch, stays).
    #[cfg(unix)]
    fn write_executable(path: &Path, script: &str) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        if std::fs::read_to_string(path).is_ok_and(|old| old == script) {
            return Ok(());
        }
        std::fs::write(path, script)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
    }
}
