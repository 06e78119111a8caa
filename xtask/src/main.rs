//! `cargo xtask <task>`: the repository's tasks, each usable on a fresh machine that has only
//! the Rust toolchain (the wasm target is installed on the way).
//!
//! - `up [APP] [ROTOR-ARGS...]`: build the host and APP's components, then serve APP
//!   (default `examples/http-hello`) on 127.0.0.1:3000.
//! - `test`: build every guest (for wasm32-wasip2, and the WAGI ones for wasm32-wasip1) and
//!   run every test in the workspace.
//! - `install [CARGO-INSTALL-ARGS...]`: `cargo install` the `rotor` command, with the
//!   QuickJS engine (zig, which QuickJS needs, is fetched first; a plain `cargo install`
//!   builds in a directory of its own, where the fetched zig is not found).
//! - `bench`: component sizes and request throughput; see `bench.rs`.
#![forbid(unsafe_code)]

mod bench;
mod fuzz;
mod guests;
mod peers;
mod shell;
mod soak;
mod wheel;
mod zig;

use std::process::ExitCode;

use guests::{GUEST_CRATES, WASIP1_CRATES};
use shell::{cargo, prepare_toolchains, run};

/// The crates whose tests run on the host.
const HOST_CRATES: &[&str] = &[
    "rotor-host",
    "rotor-spec",
    "rotor-cli",
    "rotor-sdk",
    "rotor-macro",
    "rotor-test",
    "examples-unit-tests",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("up") => up(&args[1..]),
        Some("test") => test(),
        Some("install") => install(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask up [APP] [ROTOR-ARGS...] | test | install [--root DIR] | bench | soak | fuzz");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

fn up(args: &[String]) -> Result<(), String> {
    prepare_toolchains()?;
    let (app, rest) = match args.first() {
        Some(app) if !app.starts_with('-') => (app.clone(), &args[1..]),
        _ => ("examples/http-hello".to_owned(), args),
    };
    run(cargo()
        .args([
            "run",
            "--quiet",
            "--package",
            "rotor-cli",
            "--bin",
            "rotor",
            "--",
            "up",
            "--build",
        ])
        .arg(app)
        .args(rest))
}

fn install(cargo_install_args: &[String]) -> Result<(), String> {
    let zig = prepare_toolchains()?;
    let mut install = cargo();
    install
        .args(["install", "--locked", "--path", "test-host/cli"])
        .args(cargo_install_args);
    if let Some(zig) = zig {
        install.env("ROTOR_ZIG", zig);
    }
    run(&mut install)
}

fn test() -> Result<(), String> {
    prepare_toolchains()?;
    warn_when_disk_is_short();
    let mut build = cargo();
    build.args(["build", "--release", "--target", "wasm32-wasip2"]);
    for guest in GUEST_CRATES {
        build.args(["-p", guest]);
    }
    run(&mut build)?;
    let mut build = cargo();
    build.args(["build", "--release", "--target", "wasm32-wasip1"]);
    for guest in WASIP1_CRATES {
        build.args(["-p", guest]);
    }
    run(&mut build)?;
    let mut test = cargo();
    test.args(["test", "--no-fail-fast"]);
    for krate in HOST_CRATES {
        test.args(["-p", krate]);
    }
    run(&mut test)
}

/// What a cold `cargo xtask test` leaves in `target/`, with some room to spare (measured:
/// 10 GiB on a fresh clone with Rust 1.95).
const DISK_NEEDED_GIB: u64 = 15;

/// Says so up front when `target/`'s disk is nearly full: otherwise the run fails twenty
/// minutes in, with a linker error that does not say why. Best effort: where `df` is missing
/// or speaks another format, says nothing.
fn warn_when_disk_is_short() {
    let target = shell::root().join("target");
    let probe = if target.exists() {
        target
    } else {
        shell::root()
    };
    let Ok(output) = std::process::Command::new("df")
        .arg("-Pk")
        .arg(&probe)
        .output()
    else {
        return;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    // POSIX format: a header line, then `filesystem blocks used available capacity mount`.
    let available_kib = text
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|field| field.parse::<u64>().ok());
    if let Some(kib) = available_kib {
        let gib = kib / (1024 * 1024);
        if gib < DISK_NEEDED_GIB {
            eprintln!(
                "xtask: warning: only {gib} GiB free on the disk that holds {}; a cold test run needs about {DISK_NEEDED_GIB} GiB, and the linker fails without saying why when it runs out",
                probe.display()
            );
        }
    }
}
