//! `cargo xtask bench [--duration SECS]`: every number next to a reference measured in the
//! same run.
//!
//! 1. Size: `http-hello` (rotor-sdk) against `wasi-hello` (the same service on the raw `wasi`
//!    crate, the floor) and `spin-sdk-hello` (on Spin's Rust SDK 5.2, fetched from crates.io),
//!    all built in the `release` and `release-small` profiles.
//! 2. The hello (`peers.rs`): `rotor up` serving `http-hello` against a native hyper server
//!    doing the same work (`test-host/host/examples/native_hello.rs`, the limit) and
//!    `wasmtime serve` (the peer), measured with `wrk` at 1, 16 and 64 connections; start to
//!    first answer with an empty and a warm cache; memory per in-flight instance; 1,000 idle
//!    connections under load; an app of 100 components.
//! 3. Key-value: `get`/`set` per second from a guest through the host on the embedded SQLite
//!    store, against the same statements run directly with rusqlite
//!    (`test-host/host/examples/kv_bench.rs`).
//! 4. Databases: simple `SELECT` requests per second through a guest on PostgreSQL and
//!    MariaDB, against the same query issued directly by the host's drivers
//!    (`test-host/host/examples/sql_bench.rs`); needs both servers running locally.
//! 5. JavaScript: the size of `examples/js/http-hello` built by `rotor js build` (boa and,
//!    where it builds, QuickJS; each with and without pre-initialization), and its latency
//!    under `rotor up`, against the Rust `http-hello`, all served in the same run.
//!
//! `--only SECTION` (`size`, `hello`, `kv`, `sql`, `js`) runs one section; `--only scale`
//! runs the scale part of `hello` alone.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::shell::{cargo, prepare_toolchains, root, run as run_command};

const ROTOR_ADDRESS: &str = "127.0.0.1:39301";
/// The JavaScript variants listen on this port and the next ones.
const JS_FIRST_PORT: u16 = 39303;

/// Runs every benchmark and prints the tables.
pub fn run(args: &[String]) -> Result<(), String> {
    let duration = match args.iter().position(|a| a == "--duration") {
        Some(i) => args
            .get(i + 1)
            .and_then(|d| d.parse::<u32>().ok())
            .ok_or("--duration takes a number of seconds")?,
        None => 10,
    };
    let only = args
        .iter()
        .position(|a| a == "--only")
        .map(|i| {
            args.get(i + 1)
                .cloned()
                .ok_or("--only takes a section name")
        })
        .transpose()?;
    let wanted = |section: &str| only.as_deref().is_none_or(|o| o == section);
    prepare_toolchains()?;
    if wanted("size") {
        sizes()?;
    }
    if wanted("hello") {
        crate::peers::run(duration)?;
    }
    if only.as_deref() == Some("scale") {
        crate::peers::run_scale(duration)?;
    }
    if wanted("kv") {
        key_value()?;
    }
    if wanted("sql") {
        databases()?;
    }
    if wanted("js") {
        javascript(duration)?;
    }
    Ok(())
}

fn file_size(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn sizes() -> Result<(), String> {
    let spin_sdk_dir = root().join("target/bench/spin-sdk-hello");
    std::fs::create_dir_all(spin_sdk_dir.join("src")).map_err(|e| e.to_string())?;
    for (from, to) in [("Cargo.toml", "Cargo.toml"), ("lib.rs", "src/lib.rs")] {
        std::fs::copy(
            root().join("benches/spin-sdk-hello").join(from),
            spin_sdk_dir.join(to),
        )
        .map_err(|e| format!("copying the spin-sdk hello's {from}: {e}"))?;
    }
    println!("\n## Component size (bytes)\n");
    println!("| profile | http-hello (rotor-sdk) | wasi-hello (raw wasi, the floor) | ratio to the floor | spin-sdk 5.2 hello | ratio to spin-sdk |");
    println!("|---|---:|---:|---:|---:|---:|");
    for profile in ["release", "release-small"] {
        run_command(wasm_build(profile).args(["-p", "http-hello", "-p", "wasi-hello"]))?;
        let dir = root().join("target/wasm32-wasip2").join(profile);
        let sdk = file_size(&dir.join("http_hello.wasm"))?;
        let raw = file_size(&dir.join("wasi_hello.wasm"))?;
        let spin = run_command(
            wasm_build(profile)
                .arg("--manifest-path")
                .arg(spin_sdk_dir.join("Cargo.toml")),
        )
        .and_then(|()| {
            file_size(
                &spin_sdk_dir
                    .join("target/wasm32-wasip2")
                    .join(profile)
                    .join("spin_sdk_hello.wasm"),
            )
        });
        let (spin, spin_ratio) = match spin {
            Ok(spin) => (spin.to_string(), format!("{:.2}", sdk as f64 / spin as f64)),
            Err(error) => {
                eprintln!("the spin-sdk hello did not build: {error}");
                ("not built".to_owned(), "—".to_owned())
            }
        };
        println!(
            "| {profile} | {sdk} | {raw} | {:.2} | {spin} | {spin_ratio} |",
            sdk as f64 / raw as f64
        );
    }
    Ok(())
}

/// `cargo build --quiet --target wasm32-wasip2 --profile PROFILE`, for the guests the
/// benchmarks measure or serve.
pub(crate) fn wasm_build(profile: &str) -> Command {
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "--target",
        "wasm32-wasip2",
        "--profile",
        profile,
    ]);
    build
}

/// A server process, stopped when dropped.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn wait_until_listening(address: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if TcpStream::connect(address).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing listens on {address} after 120 s"))
}

/// What wrk measured.
pub(crate) struct Measurement {
    pub(crate) requests_per_second: f64,
    pub(crate) p50: String,
    pub(crate) p99: String,
}

pub(crate) fn wrk(address: &str, connections: u32, duration: u32) -> Result<Measurement, String> {
    let threads = connections.min(2);
    let output = Command::new("wrk")
        .args([
            "--latency",
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
        ])
        .args(["-d", &format!("{duration}s")])
        .arg(format!("http://{address}/hello?name=bench"))
        .output()
        .map_err(|e| {
            format!("cannot run wrk ({e}); install it, for example with `apt-get install wrk`")
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(format!("wrk reported failures:\n{text}"));
    }
    let field = |prefix: &str| {
        text.lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix(prefix)
                    .map(|rest| rest.trim().to_owned())
            })
            .ok_or_else(|| format!("no {prefix:?} in wrk's output:\n{text}"))
    };
    Ok(Measurement {
        requests_per_second: field("Requests/sec:")?
            .parse()
            .map_err(|e| format!("Requests/sec: {e}"))?,
        p50: field("50%")?,
        p99: field("99%")?,
    })
}

/// The host's benchmark programs, in release.
fn build_host_examples() -> Result<(), String> {
    run_command(cargo().args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "rotor-host",
        "--example",
        "kv_bench",
        "--example",
        "sql_bench",
    ]))
}

fn key_value() -> Result<(), String> {
    build_host_examples()?;
    run_command(wasm_build("release").args(["-p", "probe"]))?;
    println!("\n## Key-value get+set, embedded SQLite store\n");
    run_command(
        Command::new(root().join("target/release/examples/kv_bench"))
            .arg(root().join("target/wasm32-wasip2/release/probe.wasm"))
            .arg("20000"),
    )
}

fn databases() -> Result<(), String> {
    build_host_examples()?;
    run_command(wasm_build("release").args(["-p", "probe"]))?;
    println!("\n## Simple SELECT, PostgreSQL and MariaDB, concurrency 16\n");
    for address in ["127.0.0.1:5432", "127.0.0.1:3306"] {
        if TcpStream::connect(address).is_err() {
            println!("skipped: no database server on {address}");
            return Ok(());
        }
    }
    run_command(
        Command::new(root().join("target/release/examples/sql_bench"))
            .arg(root().join("target/wasm32-wasip2/release/probe.wasm"))
            .arg("5000"),
    )
}

/// The JavaScript hello next to the Rust one: size, and latency at concurrency 1 (where the
/// per-request cost of starting the engine shows plainly), for each engine and with and
/// without pre-initialization. QuickJS is measured where it builds (it needs a C compiler
/// for WASI); otherwise its rows say why they are missing.
fn javascript(duration: u32) -> Result<(), String> {
    run_command(cargo().args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "rotor-cli",
        "--bin",
        "rotor",
    ]))?;
    run_command(wasm_build("release").args(["-p", "http-hello"]))?;
    let rotor = root().join("target/release/rotor");
    // (name, build arguments, whether it may fail to build: QuickJS needs a C compiler for
    // WASI that a machine may lack, boa only cargo).
    let variants: [(&str, &[&str], bool); 4] = [
        ("boa, pre-initialized", &["--engine", "boa"], false),
        (
            "boa, --no-preinit",
            &["--engine", "boa", "--no-preinit"],
            false,
        ),
        (
            "QuickJS (the default), pre-initialized",
            &["--engine", "quickjs"],
            true,
        ),
        (
            "QuickJS, --no-preinit",
            &["--engine", "quickjs", "--no-preinit"],
            true,
        ),
    ];
    let manifest = std::fs::read_to_string(root().join("examples/js/http-hello/spin.toml"))
        .map_err(|e| e.to_string())?;
    // The builds use a compiled-code cache of their own, empty at first, so that the first
    // build's time includes compiling the engine and the later ones show a warm cache.
    let cache = root().join("target/bench/js-build-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let js_build = |args: &[&str], wasm: &Path| {
        let started = Instant::now();
        let output = Command::new(&rotor)
            .args(["js", "build"])
            .args(args)
            .arg("examples/js/http-hello/app.js")
            .arg("-o")
            .arg(wasm)
            .env("XDG_CACHE_HOME", &cache)
            .current_dir(root())
            .output()
            .map_err(|e| format!("cannot run rotor js build: {e}"))?;
        Ok::<_, String>((output, started.elapsed()))
    };
    // Each variant is an app of its own: the example's manifest, pointed at its component.
    let mut built = Vec::new();
    let mut build_times = Vec::new();
    for (index, (name, args, optional)) in variants.into_iter().enumerate() {
        let app = root().join(format!("target/rotor-js/bench-hello-{index}"));
        std::fs::create_dir_all(&app).map_err(|e| e.to_string())?;
        let wasm = app.join("hello.wasm");
        let (output, took) = js_build(args, &wasm)?;
        if !output.status.success() {
            let why = String::from_utf8_lossy(&output.stderr);
            if !optional {
                return Err(format!("rotor js build ({name}) failed:\n{why}"));
            }
            println!("\n(JavaScript, {name}: not built: {})", why.trim());
            continue;
        }
        build_times.push((name.to_owned(), took));
        // Again, as every build after the first goes.
        let (output, took) = js_build(args, &wasm)?;
        if !output.status.success() {
            return Err(format!(
                "rotor js build ({name}) failed the second time:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        build_times.push((format!("{name}, again"), took));
        let manifest = manifest.replace("../../../target/rotor-js/http-hello.wasm", "hello.wasm");
        std::fs::write(app.join("spin.toml"), manifest).map_err(|e| e.to_string())?;
        let address = format!("127.0.0.1:{}", JS_FIRST_PORT + index as u16);
        built.push((name, app, file_size(&wasm)?, address));
    }
    let rust_size = file_size(&root().join("target/wasm32-wasip2/release/http_hello.wasm"))?;
    println!("\n## JavaScript (rotor-js) next to Rust\n");
    println!("| hello | size (bytes) | size vs Rust |");
    println!("|---|---:|---:|");
    println!("| Rust (rotor-sdk, release) | {rust_size} | 1.00 |");
    for (name, _, size, _) in &built {
        println!(
            "| JavaScript, {name} | {size} | {:.1} |",
            *size as f64 / rust_size as f64
        );
    }
    println!("\n| `rotor js build` of the JavaScript hello (the first row starts with an empty compiled-code cache) | seconds |");
    println!("|---|---:|");
    for (name, took) in &build_times {
        println!("| {name} | {:.2} |", took.as_secs_f64());
    }
    let serve = |app: &Path, address: &str| -> Result<Server, String> {
        Ok(Server(
            Command::new(&rotor)
                .arg("up")
                .arg(app)
                .args(["--listen", address])
                .current_dir(root())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start rotor: {e}"))?,
        ))
    };
    let mut servers = vec![serve(&root().join("examples/http-hello"), ROTOR_ADDRESS)?];
    for (_, app, _, address) in &built {
        servers.push(serve(app, address)?);
    }
    wait_until_listening(ROTOR_ADDRESS)?;
    for (_, _, _, address) in &built {
        wait_until_listening(address)?;
    }
    println!("\n| hello under rotor up, 1 connection, {duration} s | requests/s | p50 | p99 | p50 vs Rust |");
    println!("|---|---:|---:|---:|---:|");
    wrk(ROTOR_ADDRESS, 1, 1)?;
    for (_, _, _, address) in &built {
        wrk(address, 1, 1)?;
    }
    let rust = wrk(ROTOR_ADDRESS, 1, duration)?;
    let mut rows = vec![("Rust".to_owned(), rust)];
    for (name, _, _, address) in &built {
        rows.push((format!("JavaScript, {name}"), wrk(address, 1, duration)?));
    }
    let rust_p50 = micros(&rows[0].1.p50)?;
    for (name, m) in &rows {
        println!(
            "| {name} | {:.0} | {} | {} | {:.1} |",
            m.requests_per_second,
            m.p50,
            m.p99,
            micros(&m.p50)? / rust_p50
        );
    }
    drop(servers);
    Ok(())
}

/// A wrk latency such as `95.00us`, `1.78ms` or `2.01s`, in microseconds.
pub(crate) fn micros(latency: &str) -> Result<f64, String> {
    let split = latency
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("no unit in {latency:?}"))?;
    let (number, unit) = latency.split_at(split);
    let number: f64 = number.parse().map_err(|e| format!("{latency:?}: {e}"))?;
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        other => return Err(format!("unknown unit {other:?} in {latency:?}")),
    };
    Ok(number * scale)
}
