//! Benchmark floor: what one request costs the host with no network at all. It loads an app
//! as `rotor up` does and hands requests straight to its HTTP trigger, which instantiates the
//! component, calls its handler and collects the response, as for a request off a socket.
//! `cargo xtask bench` sets the result beside a native hyper server's whole cost per request.
//!
//! Usage: `guest_floor APP PATH SECONDS CONCURRENCY`; prints one line,
//! `<requests> <cpu-microseconds-per-request> <wall-microseconds-per-request>`.
//! With CONCURRENCY 1 it runs on one thread; otherwise on two worker threads.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use rotor_host::engine::{Engine, EngineConfig};
use rotor_host::manifest::Manifest;
use rotor_host::{App, AppOptions};

// The allocator `rotor` runs on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [app, path, seconds, concurrency] = args.as_slice() else {
        bail!("usage: guest_floor APP PATH SECONDS CONCURRENCY");
    };
    let seconds: f64 = seconds.parse().context("SECONDS")?;
    let concurrency: usize = concurrency.parse().context("CONCURRENCY")?;
    let runtime = if concurrency == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
    };
    runtime.block_on(async {
        let mut manifest_path = PathBuf::from(app);
        if manifest_path.is_dir() {
            manifest_path.push("spin.toml");
        }
        let manifest = Manifest::load(&manifest_path)?;
        let engine = Engine::new(EngineConfig::default())?;
        let app = App::load(&manifest, &AppOptions::new(engine)).await?;
        let trigger = app.http().context("the app has no HTTP trigger")?.clone();
        let uri: http::Uri = format!("http://localhost{path}").parse()?;

        let one = {
            let trigger = trigger.clone();
            move || {
                let trigger = trigger.clone();
                let request = http::Request::get(uri.clone())
                    .header("host", "localhost")
                    .body(
                        Empty::<Bytes>::new()
                            .map_err(|never| -> wasmtime_wasi_http::Error { match never {} }),
                    )
                    .expect("a valid request");
                async move {
                    let response = trigger
                        .handle(request, ([127, 0, 0, 1], 40_000).into())
                        .await;
                    let status = response.status();
                    let body = response.into_body().collect().await;
                    match body {
                        Ok(_) if status.is_success() => Ok(()),
                        Ok(_) => Err(anyhow::anyhow!("answered {status}")),
                        Err(error) => Err(error.context("reading the body")),
                    }
                }
            }
        };
        // Warm up: the first requests fill the instance pool and the caches.
        for _ in 0..200 {
            one().await?;
        }
        let done = Arc::new(AtomicUsize::new(0));
        let until = Instant::now() + Duration::from_secs_f64(seconds);
        let cpu_before = process_cpu()?;
        let started = Instant::now();
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let (one, done) = (one.clone(), done.clone());
                tokio::spawn(async move {
                    while Instant::now() < until {
                        one().await?;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.await??;
        }
        let wall = started.elapsed();
        let cpu = process_cpu()? - cpu_before;
        let requests = done.load(Ordering::Relaxed);
        println!(
            "{requests} {:.1} {:.1}",
            cpu.as_secs_f64() * 1e6 / requests as f64,
            wall.as_secs_f64() * 1e6 / requests as f64
        );
        Ok(())
    })
}

/// The CPU time this process has used, user and system, from `/proc/self/stat`.
fn process_cpu() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The command name, in parentheses, may hold spaces; the fields after it do not.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("an unreadable /proc/self/stat")?
        .1
        .split_whitespace()
        .collect();
    // utime and stime are the 14th and 15th fields, counted from the pid.
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // Clock ticks are 100 a second on every Linux this runs on (USER_HZ).
    Ok(Duration::from_millis(ticks * 10))
}
