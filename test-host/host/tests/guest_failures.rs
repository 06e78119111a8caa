//! A misbehaving guest costs its own request a 500 and nothing else: the host answers the
//! next request.

mod common;

use bytes::Bytes;
use http::{Method, StatusCode};
use rotor_spec::client;
use std::time::{Duration, Instant};

async fn assert_still_serving(address: std::net::SocketAddr) {
    let response = client::get(address, "/ok").await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.text(), "fine");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_guest_gets_a_500() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let response = client::get(address, "/panic").await.unwrap();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.text(), "Internal Server Error");
    assert_still_serving(address).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_loop_is_stopped_at_the_deadline() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let started = Instant::now();
    let response = client::get(address, "/loop").await.unwrap();
    let took = started.elapsed();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    // The test runtime's deadline is 2 s; the epoch clock stops the loop soon after.
    assert!(
        took >= Duration::from_secs(2),
        "stopped too early: {took:?}"
    );
    assert!(took < Duration::from_secs(10), "stopped too late: {took:?}");
    assert_still_serving(address).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn allocating_past_the_memory_cap_gets_a_500() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let response = client::get(address, "/alloc").await.unwrap();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_still_serving(address).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handler_error_is_a_generic_500_without_details() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let response = client::get(address, "/error").await.unwrap();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.text(), "Internal Server Error");
    assert!(!response.text().contains("secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn streamed_bodies_arrive_whole() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let response = client::get(address, "/stream").await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    let text = response.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1000);
    assert_eq!(lines[0], "line 0");
    assert_eq!(lines[999], "line 999");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_request_body_round_trips() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let body: Vec<u8> = (0..(1 << 20)).map(|i: u32| (i % 251) as u8).collect();
    let response = client::send(
        address,
        Method::POST,
        "/echo",
        &[],
        Bytes::from(body.clone()),
    )
    .await
    .unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body.len(), body.len());
    assert!(response.body == body, "the echoed body differs");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_each_get_their_own_instance() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let requests = (0..32).map(|i| async move {
        let body = format!("request {i}");
        let response = client::send(address, Method::POST, "/echo", &[], body.clone())
            .await
            .unwrap();
        (body, response.text())
    });
    for (sent, received) in futures_join_all(requests).await {
        assert_eq!(sent, received);
    }
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

/// wasmtime-wasi-http ends a response body cleanly when its guest goes away; a guest that
/// traps halfway through its body must not look to the client as if it had finished.
#[tokio::test(flavor = "multi_thread")]
async fn a_guest_that_fails_mid_body_cuts_the_response_off() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let outcome = client::get(address, "/stream-then-panic").await;
    assert!(
        outcome.is_err(),
        "a truncated body arrived as complete: {:?}",
        outcome.map(|r| r.text())
    );
    assert_still_serving(address).await;
}

/// The deadline covers the whole guest task: also a guest that has sent its head and then
/// waits in the host, where the epoch clock cannot stop it.
#[tokio::test(flavor = "multi_thread")]
async fn a_guest_that_stalls_after_its_head_is_stopped_at_the_deadline() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let started = Instant::now();
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        client::get(address, "/stream-then-stall"),
    )
    .await
    .expect("the response never ended");
    let took = started.elapsed();
    assert!(outcome.is_err(), "a stalled body arrived as complete");
    // The test engine's deadline is 2 s, and the host allows 1 s more.
    assert!(
        took >= Duration::from_secs(2),
        "stopped too early: {took:?}"
    );
    assert!(took < Duration::from_secs(10), "stopped too late: {took:?}");
    assert_still_serving(address).await;
}

/// A guest that loops hands its thread back every epoch tick, so more looping guests than
/// the runtime has threads do not hold up other requests until their deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looping_guests_do_not_hold_up_other_requests() {
    let engine = rotor_host::engine::Engine::new(rotor_host::engine::EngineConfig {
        request_deadline: Duration::from_secs(6),
        max_instance_memory: 64 << 20,
        cache_dir: None,
        ..Default::default()
    })
    .unwrap();
    let (address, _dir) = common::serve_probe(engine).await;
    let loops: Vec<_> = (0..4)
        .map(|_| tokio::spawn(client::get(address, "/loop")))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    assert_still_serving(address).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "a request waited {took:?} behind looping guests"
    );
    for looping in loops {
        let response = looping.await.unwrap().unwrap();
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
