//! `rotor watch` rebuilds a component when its watched files change and serves the new
//! version on the same socket, without refusing a connection meanwhile; a failed build
//! leaves the last good version serving; a burst of saves makes one rebuild.
//!
//! The app's "build" copies the component that `which.txt` names to `app.wasm` (two built
//! guests take turns), so the test needs no compiler of its own.

#[path = "../../host/tests/common/mod.rs"]
mod common;

mod served;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use rotor_spec::client;
use served::serve;

const MANIFEST: &str = r#"spin_manifest_version = 2

[application]
name = "watched"

[[trigger.http]]
route = "/..."
component = "app"

[component.app]
source = "app.wasm"

[component.app.build]
command = "cp \"$(cat which.txt)\" app.wasm"
watch = ["which.txt"]
"#;

fn choose(dir: &Path, wasm: &Path) {
    std::fs::write(dir.join("which.txt"), wasm.display().to_string()).unwrap();
}

/// `GET /hello`'s status and body.
async fn hello(address: std::net::SocketAddr) -> (StatusCode, String) {
    let response = client::get(address, "/hello").await.unwrap();
    (response.status, response.text())
}

/// Polls until `GET /hello` answers `done`, for up to 30 s.
async fn until(
    address: std::net::SocketAddr,
    what: &str,
    done: impl Fn(&(StatusCode, String)) -> bool,
) {
    let started = Instant::now();
    loop {
        let answer = hello(address).await;
        if done(&answer) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what}: still {answer:?} after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_rebuilds_on_change_and_keeps_serving_through_failures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), MANIFEST).unwrap();
    let (hello_wasm, router_wasm) = (common::guest("http-hello"), common::guest("http-router"));
    choose(dir.path(), &hello_wasm);
    let mut served = serve(
        Command::new(env!("CARGO_BIN_EXE_rotor"))
            .args([
                "watch",
                "--no-cache",
                "--listen",
                "127.0.0.1:0",
                "--debounce",
                "300",
            ])
            .arg(dir.path()),
    );
    let address = served.address;
    assert_eq!(
        hello(address).await,
        (StatusCode::OK, "Hello, world!\n".to_owned())
    );

    // Requests keep coming while versions change: none may be refused.
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let traffic = tokio::spawn({
        let (stop, answered, refused) = (stop.clone(), answered.clone(), refused.clone());
        async move {
            while !stop.load(Ordering::SeqCst) {
                match client::get(address, "/hello").await {
                    Ok(_) => answered.fetch_add(1, Ordering::SeqCst),
                    Err(error) => {
                        eprintln!("a request failed: {error}");
                        refused.fetch_add(1, Ordering::SeqCst)
                    }
                };
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });

    // A change to a watched file: the router's version serves, on the same address.
    choose(dir.path(), &router_wasm);
    until(address, "after switching to the router", |(status, _)| {
        *status == StatusCode::NOT_FOUND
    })
    .await;

    // A build that fails: the router keeps serving.
    choose(dir.path(), Path::new("/nonexistent/component.wasm"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(hello(address).await.0, StatusCode::NOT_FOUND);

    // A burst of saves: one rebuild, and the hello serves again.
    for _ in 0..5 {
        choose(dir.path(), &hello_wasm);
    }
    until(address, "after switching back to the hello", |answer| {
        answer.0 == StatusCode::OK && answer.1 == "Hello, world!\n"
    })
    .await;
    // Anything the burst might still set off has had time to.
    tokio::time::sleep(Duration::from_secs(2)).await;

    stop.store(true, Ordering::SeqCst);
    traffic.await.unwrap();
    assert!(
        answered.load(Ordering::SeqCst) > 10,
        "too little traffic to tell"
    );
    assert_eq!(
        refused.load(Ordering::SeqCst),
        0,
        "requests failed while versions changed"
    );

    let stderr = served.stop();
    assert!(
        stderr.contains("building component `app` failed"),
        "the failed build is not reported: {stderr}"
    );
    // The first build, the router, the failure, and one for the whole burst.
    let builds = stderr.matches("Building component `app`").count();
    assert_eq!(builds, 4, "{stderr}");
}
