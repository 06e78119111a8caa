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

#[tokio::test(flavor = "multi_thread")]
async fn a_request_in_flight_finishes_when_the_app_stops() {
    let dir = common::app_dir(&common::probe_manifest(""));
    let app = common::load_app(
        dir.path(),
        engine_draining_for(Duration::from_secs(20)),
        &Default::default(),
    )
    .await
    .unwrap();
    let serving = app.start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let address = serving.address.unwrap();

    let slow = tokio::spawn(client::get(address, "/sleep/1500"));
    tokio::time::sleep(Duration::from_millis(300)).await;
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
    let dir = common::app_dir(&common::probe_manifest(""));
    let app = common::load_app(
        dir.path(),
        engine_draining_for(Duration::from_millis(500)),
        &Default::default(),
    )
    .await
    .unwrap();
    let serving = app.start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let address = serving.address.unwrap();

    let slow = tokio::spawn(client::get(address, "/sleep/8000"));
    tokio::time::sleep(Duration::from_millis(300)).await;
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
