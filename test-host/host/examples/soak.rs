//! Load with faults, a stop in the middle, and a restart; then a count of what survived.
//! Usage: `soak ROTOR PROBE.wasm [REQUESTS] [CLIENTS]` (`cargo xtask soak` builds both and
//! runs it).
//!
//! `CLIENTS` clients send `REQUESTS` requests in all to `rotor up` serving the probe with its
//! default key-value store: most write a key of their own (`PUT /kv/default/KEY`, answered
//! 204 once the value is stored), some make the guest trap (`/panic`) and some loop until the
//! deadline (`/loop`, with `--deadline 0.5`). Halfway through, the host gets SIGINT while
//! requests are in flight; it must finish those and exit 0, and it is started again on the
//! same state while the clients keep retrying whatever could not connect. At the end every
//! write that was acknowledged is read back. Resident memory is sampled all along.
//!
//! The run fails (exit 1) if an acknowledged write is missing or different, a request got no
//! answer within 30 s, an answer was not the one its kind should get, or the host did not
//! exit 0 when stopped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use rotor_spec::client;

/// How long one request may take before it counts as hung.
const HANG: Duration = Duration::from_secs(30);
/// How long a client keeps retrying a request that cannot connect (the host restarting).
const RETRY_FOR: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Tally {
    issued: AtomicUsize,
    acknowledged: AtomicUsize,
    traps: AtomicUsize,
    deadlines: AtomicUsize,
    retries: AtomicUsize,
    hung: AtomicUsize,
    unexpected: AtomicUsize,
    written: Mutex<Vec<(String, String)>>,
}

/// What one request asks for.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Write,
    Trap,
    Deadline,
}

fn kind_of(request: usize) -> Kind {
    // A fixed mix, spread evenly: 1 in 25 traps, 1 in 100 loops to the deadline.
    let mixed = request.wrapping_mul(2_654_435_761) % 100;
    match mixed {
        0 => Kind::Deadline,
        1..=4 => Kind::Trap,
        _ => Kind::Write,
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: soak ROTOR PROBE.wasm [REQUESTS] [CLIENTS]";
    let rotor = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!(usage))?);
    let probe = std::fs::canonicalize(args.next().ok_or_else(|| anyhow::anyhow!(usage))?)?;
    let requests: usize = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20_000);
    let clients: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(200);

    let app = tempfile::tempdir()?;
    std::fs::write(
        app.path().join("spin.toml"),
        format!(
            "spin_manifest_version = 2\n\n[application]\nname = \"soak\"\n\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"probe\"\n\n\
             [component.probe]\nsource = \"{}\"\nkey_value_stores = [\"default\"]\n",
            probe.display()
        ),
    )?;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.local_addr()?.port()
    };
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let host = Arc::new(Mutex::new(start(&rotor, app.path(), address)?));
    let memory = Arc::new(Mutex::new(Vec::<(usize, u64)>::new()));
    let tally = Arc::new(Tally::default());
    let started = Instant::now();

    let (stop_status, stop_took) = runtime.block_on(async {
        let sampler = {
            let (host, memory, tally) = (host.clone(), memory.clone(), tally.clone());
            tokio::spawn(async move {
                loop {
                    let pid = host.lock().unwrap().id();
                    if let Some(rss) = resident_kib(pid) {
                        let done = tally.issued.load(Ordering::Relaxed);
                        memory.lock().unwrap().push((done, rss));
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            })
        };
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let tally = tally.clone();
                tokio::spawn(async move {
                    loop {
                        let request = tally.issued.fetch_add(1, Ordering::SeqCst);
                        if request >= requests {
                            break;
                        }
                        one_request(address, request, &tally).await;
                    }
                })
            })
            .collect();

        // Halfway, with requests in flight, stop the host as Ctrl-C would, then start it
        // again on the same state.
        while tally.issued.load(Ordering::SeqCst) < requests / 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let stopping = Instant::now();
        let pid = host.lock().unwrap().id();
        Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()?;
        let status = loop {
            if let Some(status) = host.lock().unwrap().try_wait()? {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let stop_took = stopping.elapsed();
        *host.lock().unwrap() = start(&rotor, app.path(), address)?;

        for worker in workers {
            worker.await?;
        }
        sampler.abort();
        anyhow::Ok((status, stop_took))
    })?;
    let load_took = started.elapsed();

    // Every acknowledged write must be there, with its value.
    let written = std::mem::take(&mut *tally.written.lock().unwrap());
    let (found, missing, wrong) = runtime.block_on(read_back(address, &written));

    let pid = host.lock().unwrap().id();
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()?;
    let final_status = host.lock().unwrap().wait()?;

    let samples = memory.lock().unwrap().clone();
    let rss_at = |fraction: f64| -> u64 {
        let mark = (requests as f64 * fraction) as usize;
        samples
            .iter()
            .find(|(done, _)| *done >= mark)
            .or(samples.last())
            .map_or(0, |(_, rss)| *rss)
    };
    let peak = samples.iter().map(|(_, rss)| *rss).max().unwrap_or(0);
    let load = |n: &AtomicUsize| n.load(Ordering::SeqCst);

    println!("| | |");
    println!("|---|---:|");
    println!("| requests | {requests} from {clients} clients in {load_took:.1?} |");
    let faults = load(&tally.traps) + load(&tally.deadlines);
    println!(
        "| faults injected | {faults} ({} traps, {} deadlines) |",
        load(&tally.traps),
        load(&tally.deadlines)
    );
    println!(
        "| stop mid-load (SIGINT) | exit {}, after {stop_took:.1?} |",
        describe(stop_status)
    );
    println!(
        "| requests retried while the host restarted | {} |",
        load(&tally.retries)
    );
    println!(
        "| writes acknowledged / found after restart | {} / {found} |",
        written.len()
    );
    println!("| missing / different | {missing} / {wrong} |");
    println!(
        "| hung (no answer in {HANG:?}) / unexpected answers | {} / {} |",
        load(&tally.hung),
        load(&tally.unexpected)
    );
    println!(
        "| resident memory at 25% / 50% / 75% / 100% of requests, peak (MiB) | {:.0} / {:.0} / {:.0} / {:.0}, {:.0} |",
        mib(rss_at(0.25)),
        mib(rss_at(0.5)),
        mib(rss_at(0.75)),
        mib(rss_at(1.0)),
        mib(peak)
    );
    println!("| final stop | exit {} |", describe(final_status));

    let failed = missing > 0
        || wrong > 0
        || load(&tally.hung) > 0
        || load(&tally.unexpected) > 0
        || !stop_status.success()
        || !final_status.success();
    if failed {
        let log = std::fs::read_to_string(app.path().join("rotor.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        eprintln!("\nThe end of the host's log:");
        for line in &lines[lines.len().saturating_sub(40)..] {
            eprintln!("{line}");
        }
        anyhow::bail!("the soak run lost or mishandled requests (see the table)");
    }
    Ok(())
}

fn start(rotor: &Path, app: &Path, address: SocketAddr) -> anyhow::Result<Child> {
    // The compiled code is cached beside the app, so the restart does not compile again;
    // the host's output goes to a log there, shown if it does not start.
    let log = app.join("rotor.log");
    let output = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)?;
    let mut child = Command::new(rotor)
        .args(["up", "--deadline", "0.5", "--listen"])
        .arg(address.to_string())
        .arg("--cache-dir")
        .arg(app.join("cache"))
        .arg(app)
        .stdout(output.try_clone()?)
        .stderr(output)
        .stdin(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(600);
    while std::net::TcpStream::connect(address).is_err() {
        let log = || std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("rotor up stopped ({status}) before it listened:\n{}", log());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "rotor up never listened:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(child)
}

async fn one_request(address: SocketAddr, request: usize, tally: &Tally) {
    let kind = kind_of(request);
    let key = format!("soak-{request}");
    let value = format!("value-{request}-{}", request.wrapping_mul(31));
    let (method, path, body) = match kind {
        Kind::Write => (Method::PUT, format!("/kv/default/{key}"), value.clone()),
        Kind::Trap => (Method::GET, "/panic".to_owned(), String::new()),
        Kind::Deadline => (Method::GET, "/loop".to_owned(), String::new()),
    };
    let retrying_since = Instant::now();
    loop {
        let sent = client::send(address, method.clone(), &path, &[], body.clone());
        let status = match tokio::time::timeout(HANG, sent).await {
            Err(_) => {
                tally.hung.fetch_add(1, Ordering::SeqCst);
                return;
            }
            // No connection (the host is restarting) or one cut by the stop: the request
            // was not acknowledged, so it is sent again.
            Ok(Err(_)) => None,
            Ok(Ok(response)) => Some(response.status),
        };
        let expected = match kind {
            Kind::Write => StatusCode::NO_CONTENT,
            Kind::Trap | Kind::Deadline => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match status {
            Some(status) if status == expected => {
                let counter = match kind {
                    Kind::Write => {
                        tally.written.lock().unwrap().push((key, value));
                        &tally.acknowledged
                    }
                    Kind::Trap => &tally.traps,
                    Kind::Deadline => &tally.deadlines,
                };
                counter.fetch_add(1, Ordering::SeqCst);
                return;
            }
            // The host asks to come back when it is full.
            None | Some(StatusCode::SERVICE_UNAVAILABLE) => {
                if retrying_since.elapsed() > RETRY_FOR {
                    tally.hung.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                tally.retries.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Some(other) => {
                eprintln!("{method} {path}: {other}, expected {expected}");
                tally.unexpected.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// Reads every written key back, 32 at a time: how many are there with their value, how
/// many are missing, how many differ.
async fn read_back(address: SocketAddr, written: &[(String, String)]) -> (usize, usize, usize) {
    let (mut found, mut missing, mut wrong) = (0, 0, 0);
    for batch in written.chunks(32) {
        let reads: Vec<_> = batch
            .iter()
            .map(|(key, value)| {
                let (key, value) = (key.clone(), value.clone());
                tokio::spawn(async move {
                    let response = client::get(address, &format!("/kv/default/{key}")).await;
                    match response {
                        Ok(response) if response.status == StatusCode::OK => {
                            if response.text() == value {
                                0
                            } else {
                                2
                            }
                        }
                        _ => 1,
                    }
                })
            })
            .collect();
        for read in reads {
            match read.await.unwrap_or(1) {
                0 => found += 1,
                1 => missing += 1,
                _ => wrong += 1,
            }
        }
    }
    (found, missing, wrong)
}

/// The resident memory of process `pid`, in KiB.
fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn describe(status: std::process::ExitStatus) -> String {
    match status.code() {
        Some(code) => code.to_string(),
        None => format!("{status}"),
    }
}
