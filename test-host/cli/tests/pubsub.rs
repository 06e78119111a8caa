//! The pub/sub examples end to end through the real Redis: events of mixed types and sources
//! posted to `pubsub-publisher` in both HTTP modes; exactly the ones the subscriber's filter
//! accepts become readable from `pubsub-subscriber`; a message that is not a CloudEvent is
//! skipped and the next good one still arrives. `rotor up` serves a Redis-only app and stops
//! on Ctrl-C.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use rotor_host::capabilities::StateOptions;
use rotor_host::manifest::Manifest;
use rotor_host::{App, AppOptions};
use rotor_spec::client;
use serde_json::{json, Value};

struct Apps {
    publisher: SocketAddr,
    subscriber: SocketAddr,
    _state: tempfile::TempDir,
}

async fn start(channel: &str) -> Apps {
    let examples = common::workspace().join("examples");
    let engine = common::test_engine();

    let publisher = common::serve_with(
        &examples.join("pubsub-publisher"),
        engine.clone(),
        &StateOptions {
            environment: Some([("SPIN_VARIABLE_CHANNEL".to_owned(), channel.to_owned())].into()),
            ..StateOptions::default()
        },
    )
    .await;

    let state = tempfile::tempdir().unwrap();
    let mut manifest = Manifest::load(&examples.join("pubsub-subscriber/spin.toml")).unwrap();
    for trigger in &mut manifest.redis_triggers {
        trigger.channel = channel.to_owned();
    }
    let options = StateOptions {
        state_dir: Some(state.path().to_owned()),
        ..StateOptions::default()
    };
    let app = App::load(
        &manifest,
        &AppOptions {
            engine,
            state: options,
        },
    )
    .await
    .unwrap();
    let subscriber = app
        .start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
        .address
        .expect("the subscriber serves HTTP");
    wait_for_subscriber(channel).await;
    Apps {
        publisher,
        subscriber,
        _state: state,
    }
}

async fn wait_for_subscriber(channel: &str) {
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut connection)
            .await
            .unwrap();
        if counts.first().is_some_and(|(_, n)| *n >= 1) {
            return;
        }
        assert!(Instant::now() < deadline, "the subscriber never subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Posts an event to the publisher, alternating binary and structured mode.
async fn post(publisher: SocketAddr, n: usize, ty: &str, source: &str) {
    let id = format!("event-{n:03}");
    let (headers, body) = if n.is_multiple_of(2) {
        (
            vec![
                ("ce-specversion".to_owned(), "1.0".to_owned()),
                ("ce-id".to_owned(), id.clone()),
                ("ce-source".to_owned(), source.to_owned()),
                ("ce-type".to_owned(), ty.to_owned()),
                ("content-type".to_owned(), "application/json".to_owned()),
            ],
            json!({ "n": n }).to_string(),
        )
    } else {
        (
            vec![(
                "content-type".to_owned(),
                "application/cloudevents+json".to_owned(),
            )],
            json!({ "specversion": "1.0", "id": id, "source": source, "type": ty, "data": { "n": n } })
                .to_string(),
        )
    };
    let response = client::send(publisher, Method::POST, "/events", &headers, body)
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.text());
}

async fn stored_ids(subscriber: SocketAddr) -> Vec<String> {
    let response = client::send(subscriber, Method::GET, "/events", &[], "")
        .await
        .unwrap();
    let events: Vec<Value> = serde_json::from_slice(&response.body).unwrap();
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_for_ids(subscriber: SocketAddr, expected: &BTreeSet<String>) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ids = stored_ids(subscriber).await;
        if ids.len() >= expected.len() || Instant::now() > deadline {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_the_matching_events_arrive_once() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    common::guests();
    let channel = common::unique("rotor_pubsub");
    let apps = start(&channel).await;

    let kinds = [
        ("com.example.order.created", "/shop", true),
        ("com.example.order.shipped", "/shop", true),
        ("com.example.user.created", "/shop", false),
        ("com.example.order.created", "/test", false),
        ("org.other.order.created", "/shop", false),
    ];
    let mut expected = BTreeSet::new();
    for n in 0..50 {
        let (ty, source, matches) = kinds[n % kinds.len()];
        post(apps.publisher, n, ty, source).await;
        if matches {
            expected.insert(format!("event-{n:03}"));
        }
    }
    let ids = wait_for_ids(apps.subscriber, &expected).await;
    // Let any late (wrong) event land before checking that none did.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids_after = stored_ids(apps.subscriber).await;
    assert_eq!(ids, ids_after);
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "an event is listed twice: {ids:?}");
    assert_eq!(unique, expected);

    // A payload that is not a CloudEvent is skipped; the next good event still arrives.
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("PUBLISH")
        .arg(&channel)
        .arg("{ this is not a CloudEvent")
        .query_async(&mut connection)
        .await
        .unwrap();
    post(apps.publisher, 100, "com.example.order.created", "/shop").await;
    expected.insert("event-100".to_owned());
    let ids = wait_for_ids(apps.subscriber, &expected).await;
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), expected);
}

#[test]
fn rotor_up_serves_a_redis_only_app_and_stops_on_ctrl_c() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    common::guests();
    let channel = common::unique("rotor_up_channel");
    let key = common::unique("rotor_up_records");
    let dir = common::app_dir(&format!(
        r#"spin_manifest_version = 2

[application]
name = "redis-only"

[application.trigger.redis]
address = "redis://127.0.0.1:6379"

[[trigger.redis]]
channel = "{channel}"
component = "recorder"

[component.recorder]
source = "{}"
allowed_outbound_hosts = ["redis://127.0.0.1:6379"]
variables = {{ redis_address = "redis://127.0.0.1:6379", record_key = "{key}" }}
"#,
        common::guest("redis-probe").display()
    ));
    let mut rotor = std::process::Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["up", "--no-cache"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(rotor.stdout.take().unwrap());
    let banner: Vec<String> = std::io::BufRead::lines(stdout)
        .take(2)
        .map(|l| l.unwrap())
        .collect();
    assert_eq!(banner[0], "Subscribing redis-only to Redis", "{banner:?}");
    assert!(banner[1].contains(&channel), "{banner:?}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        wait_for_subscriber(&channel).await;
        let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let _: i64 = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg("through rotor up")
            .query_async(&mut connection)
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let records: Vec<String> = redis::cmd("LRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut connection)
                .await
                .unwrap();
            if !records.is_empty() {
                assert_eq!(records, ["through rotor up"]);
                break;
            }
            assert!(Instant::now() < deadline, "the message was not handled");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _: i64 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
    });

    // Ctrl-C stops it, cleanly.
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &rotor.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = rotor.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "rotor up did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}
