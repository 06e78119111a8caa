//! Stopping an app (what `rotor up` does on Ctrl-C or SIGTERM) stops accepting at once, lets
//! the requests in flight finish, and gives up on them only after the drain timeout.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use rotor_host::engine::{Engine, EngineConfig};
use rotor_spec::client;

fn engine_draining_for(drain_timeout: Duration) -> Arc<Engine> {
    Engine::new(EngineConfig {
        request_deadline: Duration::from_secs(10),
        max_instance_memory: 64 << 20,
        cache_dir: None,
        drain_timeout,
        ..EngineConfig::default()
    })
    .unwrap()
}

/// The probe serving on an engine whose drain timeout is `drain_timeout`, with a request
/// to `/sleep/SLEEP_MS` started 300 ms before it is told to stop.
async fn stop_during_a_request(
    drain_timeout: Duration,
    sleep_ms: u64,
) -> (
    rotor_host::Serving,
    std::net::SocketAddr,
    tokio::task::JoinHandle<anyhow::Result<client::ReceivedResponse>>,
    tempfile::TempDir,
) {
    let dir = common::app_dir(&common::probe_manifest(""));
    let app = common::load_app(
        dir.path(),
        engine_draining_for(drain_timeout),
        &Default::default(),
    )
    .await
    .unwrap();
    let serving = app.start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let address = serving.address.unwrap();
    let path = format!("/sleep/{sleep_ms}");
    let slow = tokio::spawn(async move { client::get(address, &path).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    (serving, address, slow, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_in_flight_finishes_when_the_app_stops() {
    let (serving, address, slow, _dir) = stop_during_a_request(Duration::from_secs(20), 1500).await;
    let started = Instant::now();
    serving.stop().await.unwrap();
    let response = slow
        .await
        .unwrap()
        .expect("the request in flight was dropped");
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.text(), "slept 1500 ms");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "stop returned before the request finished: {:?}",
        started.elapsed()
    );
    // Nothing is accepted any more.
    assert!(client::get(address, "/ok").await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_drain_timeout_bounds_the_wait() {
    let (serving, _, slow, _dir) = stop_during_a_request(Duration::from_millis(500), 8000).await;
    let started = Instant::now();
    serving.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stop waited {:?} past a 500 ms drain timeout",
        started.elapsed()
    );
    assert!(
        slow.await.unwrap().is_err(),
        "the dropped request got an answer"
    );
}
