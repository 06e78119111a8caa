//! `--server-threads N`: connections served on threads of their own, each a single-threaded
//! runtime. One test, run step by step, because it counts the process's threads by name.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use rotor_host::engine::{Engine, EngineConfig};
use rotor_spec::client;

fn engine_with_threads(server_threads: usize) -> Arc<Engine> {
    Engine::new(EngineConfig {
        request_deadline: Duration::from_secs(3),
        max_instance_memory: 64 << 20,
        cache_dir: None,
        server_threads,
        ..EngineConfig::default()
    })
    .unwrap()
}

/// How many of this process's threads are HTTP server threads.
fn server_threads_running() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with("rotor-http-"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_run_on_server_threads_which_stop_with_the_server() {
    assert_eq!(server_threads_running(), 0, "no server has started yet");

    // Two threads: many connections at once are all answered, each request by the probe.
    let dir = common::app_dir(&common::probe_manifest(""));
    let app = common::load_app(dir.path(), engine_with_threads(2), &Default::default())
        .await
        .unwrap();
    let serving = app.start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let address = serving.address.unwrap();
    let clients: Vec<_> = (0..12)
        .map(|n| {
            tokio::spawn(async move {
                let path = format!("/sleep/{}", 10 + n);
                client::get(address, &path).await
            })
        })
        .collect();
    for (n, answer) in clients.into_iter().enumerate() {
        let answer = answer.await.unwrap().unwrap();
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.text(), format!("slept {} ms", 10 + n));
    }
    assert_eq!(server_threads_running(), 2);

    // Stopping drains a request in flight on a server thread, then ends the threads.
    let slow = tokio::spawn(async move { client::get(address, "/sleep/800").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    serving.stop().await.unwrap();
    let answer = slow
        .await
        .unwrap()
        .expect("the request in flight was dropped");
    assert_eq!(answer.text(), "slept 800 ms");
    let stopping = Instant::now();
    while server_threads_running() > 0 {
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "{} server threads still run after the server stopped",
            server_threads_running()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // One thread: a guest computing in a loop hands the thread back between ticks, so a
    // request on another connection to the same thread is answered before the loop ends.
    let app = common::load_app(dir.path(), engine_with_threads(1), &Default::default())
        .await
        .unwrap();
    let serving = app.start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let address = serving.address.unwrap();
    let looping = tokio::spawn(async move { client::get(address, "/loop").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ok = client::get(address, "/ok").await.unwrap();
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(server_threads_running(), 1);
    assert!(
        !looping.is_finished(),
        "the loop ended before the other request was answered"
    );
    let looped = looping.await.unwrap().unwrap();
    assert_eq!(looped.status, StatusCode::INTERNAL_SERVER_ERROR);
    serving.stop().await.unwrap();
}
