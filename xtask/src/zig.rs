//! Zig, fetched from the Python package registry, so that `rotor` can carry the QuickJS
//! engine on a machine that has only the Rust toolchain.
//!
//! QuickJS is C. Zig's `zig cc` is a clang with a WASI libc of its own, and the `ziglang`
//! wheel on PyPI carries it: one download, no Python needed to use it. The wheel is fetched
//! with `curl` (or `wget`), checked against the SHA-256 pinned here, and unpacked into
//! `target/toolchains/ziglang-<version>/`, where `rotor`'s build script looks for it (see
//! `test-host/cli/build/js_engines.rs`). Where that fails, the tasks go on with a warning:
//! `rotor` is then built with boa only.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest as _, Sha256};

use crate::shell::root;

/// The zig release fetched.
const VERSION: &str = "0.17.1";

/// One platform's wheel: where it is and its SHA-256, as PyPI lists them.
struct Wheel {
    os: &'static str,
    arch: &'static str,
    url: &'static str,
    sha256: &'static str,
}

/// The wheels of [`VERSION`] for the platforms whose shells can run the wrappers that
/// `rotor`'s build script puts around zig.
const WHEELS: &[Wheel] = &[
    Wheel {
        os: "linux",
        arch: "x86_64",
        url: "https://files.pythonhosted.org/packages/59/e3/2a34676370a11c36b7cd04ffb2439c1089c0530cf4b01408c77cf7f8d9c3/ziglang-0.17.1-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl",
        sha256: "ea6cc5d87b033cf0aedfbc8f9549a908cae6c50ac31f1698188fa48a74524b54",
    },
    Wheel {
        os: "linux",
        arch: "aarch64",
        url: "https://files.pythonhosted.org/packages/91/72/bb7c4f098ba3e535fa2ebefd9f26327ba63fb0672562959255cb5dd37aff/ziglang-0.17.1-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
        sha256: "b7c5f02fccd40f89b999ee16a1f5ddced56e6182370f8affe494bcf8a28cf07e",
    },
    Wheel {
        os: "macos",
        arch: "x86_64",
        url: "https://files.pythonhosted.org/packages/17/f6/f4dfc8cf0e510980fda251a8edf99823b9446f5d7a2a6a24801e55e09c28/ziglang-0.17.1-py3-none-macosx_13_0_x86_64.whl",
        sha256: "4e0b4b9c02b8d0d220e9948010f860b62ff11d96abb39762eca5fa2ef3f7bc97",
    },
    Wheel {
        os: "macos",
        arch: "aarch64",
        url: "https://files.pythonhosted.org/packages/ea/e1/4a9a97324fcf2d292c14a2e0121ea0df86c01d0c307ea24fa35aebaccd15/ziglang-0.17.1-py3-none-macosx_13_0_arm64.whl",
        sha256: "09953b6af7f64168b915180a42774f520f92d86ef6331b28e33915c7e1f0bb23",
    },
];

/// Makes sure zig is in `target/toolchains/`, fetching it the first time, and returns it; a
/// failure is a warning, since `rotor` builds without QuickJS too. Skipped where `WASI_SDK`
/// or `ROTOR_ZIG` already name a compiler.
pub fn fetch_for_quickjs() -> Option<PathBuf> {
    if std::env::var_os("WASI_SDK").is_some() || std::env::var_os("ROTOR_ZIG").is_some() {
        return None;
    }
    match fetch() {
        Ok(zig) => Some(zig),
        Err(why) => {
            eprintln!(
                "xtask: warning: no zig for QuickJS, so rotor is built with boa only: {why}\n\
             (`pip install ziglang` or a wasi-sdk in WASI_SDK would do instead)"
            );
            None
        }
    }
}

fn fetch() -> Result<PathBuf, String> {
    let toolchains = root().join("target/toolchains");
    let home = toolchains.join(format!("ziglang-{VERSION}"));
    let zig = home.join("ziglang/zig");
    if zig.is_file() {
        return Ok(zig);
    }
    let wheel = WHEELS
        .iter()
        .find(|wheel| wheel.os == std::env::consts::OS && wheel.arch == std::env::consts::ARCH)
        .ok_or_else(|| {
            format!(
                "no ziglang wheel is pinned for {}-{}",
                std::env::consts::OS,
                std::env::consts::ARCH
            )
        })?;
    std::fs::create_dir_all(&toolchains).map_err(|e| format!("{}: {e}", toolchains.display()))?;
    let download = toolchains.join(format!("ziglang-{VERSION}.whl"));
    eprintln!("xtask: fetching zig {VERSION} (the ziglang wheel, about 100 MB) for QuickJS");
    download_to(wheel.url, &download)?;
    let actual = sha256_of(&download)?;
    if actual != wheel.sha256 {
        let _ = std::fs::remove_file(&download);
        return Err(format!(
            "{} has SHA-256 {actual}, not the pinned {}",
            wheel.url, wheel.sha256
        ));
    }
    // Unpacked beside its final place and renamed at the end, so that an interrupted run
    // leaves no half of a toolchain where the build script looks.
    let partial = toolchains.join(format!("ziglang-{VERSION}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    crate::wheel::unzip(&download, &partial)?;
    // A directory left without its `zig` (removed by hand, say) would block the rename.
    let _ = std::fs::remove_dir_all(&home);
    std::fs::rename(&partial, &home).map_err(|e| format!("{}: {e}", home.display()))?;
    let _ = std::fs::remove_file(&download);
    if zig.is_file() {
        Ok(zig)
    } else {
        Err(format!("the wheel holds no {}", zig.display()))
    }
}

/// Fetches `url` into `file` with curl, else wget.
fn download_to(url: &str, file: &Path) -> Result<(), String> {
    let attempts: [(&str, Vec<&std::ffi::OsStr>); 2] = [
        (
            "curl",
            vec![
                "--fail".as_ref(),
                "--silent".as_ref(),
                "--show-error".as_ref(),
                "--location".as_ref(),
                "--retry".as_ref(),
                "3".as_ref(),
                "--output".as_ref(),
                file.as_os_str(),
                url.as_ref(),
            ],
        ),
        (
            "wget",
            vec![
                "--quiet".as_ref(),
                "--tries=3".as_ref(),
                "--output-document".as_ref(),
                file.as_os_str(),
                url.as_ref(),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (program, args) in attempts {
        match Command::new(program).args(args).status() {
            Ok(status) if status.success() => return Ok(()),
            Ok(status) => failures.push(format!("{program} {url}: {status}")),
            Err(e) => failures.push(format!("{program}: {e}")),
        }
    }
    Err(failures.join("; "))
}

fn sha256_of(file: &Path) -> Result<String, String> {
    let mut reader = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut reader, &mut hasher).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}
