//! A cap on requests in the guest: beyond it a request is answered 503 with `Retry-After` at
//! once, and once requests finish there is room again.

mod common;

use std::time::{Duration, Instant};

use rotor_host::engine::{Engine, EngineConfig};
use rotor_spec::client;
use rotor_spec::fixtures::{FixtureServer, Reply};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn beyond_the_cap_a_request_is_told_to_retry() {
    let engine = Engine::new(EngineConfig {
        request_deadline: Duration::from_secs(2),
        max_in_flight: 2,
        cache_dir: None,
        ..EngineConfig::default()
    })
    .unwrap();
    // A backend that never answers: a guest calling it waits in the host, holding its place
    // without holding a thread.
    let hanging = FixtureServer::start(std::sync::Arc::new(|_: &_| Reply::Hang))
        .await
        .unwrap();
    let dir = common::app_dir(&common::probe_manifest(&format!(
        "allowed_outbound_hosts = [\"http://127.0.0.1:{}\"]",
        hanging.address().port()
    )));
    let address = common::serve(dir.path(), engine).await;
    let call = json!({ "url": hanging.url(), "timeout_ms": 1500 });

    // Two guests wait on the backend, holding both places.
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move { common::post_json(address, "/outbound", &call).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let refused = client::get(address, "/ok").await.unwrap();
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.headers.get("retry-after").unwrap(), "1");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    for waiting in busy {
        let (status, reply) = waiting.await.unwrap();
        assert_eq!(status, 502, "{reply}");
        assert_eq!(reply["error"], "timeout", "{reply}");
    }
    let served = client::get(address, "/ok").await.unwrap();
    assert_eq!(served.status, 200, "{}", served.text());
}

#[test]
fn a_cap_the_pool_cannot_hold_is_refused() {
    for max_in_flight in [0, rotor_host::engine::MAX_INSTANCES + 1] {
        let refused = Engine::new(EngineConfig {
            max_in_flight,
            cache_dir: None,
            ..EngineConfig::default()
        });
        assert!(refused.is_err(), "{max_in_flight}");
    }
}
