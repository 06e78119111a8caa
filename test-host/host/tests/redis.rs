//! `fermyon:spin/redis@2.0.0` through the host, against the real Redis server: every typed
//! command, `execute`, publishing, and the grant check. Keys and channels are unique per test.

mod common;

use std::net::SocketAddr;

use http::StatusCode;
use serde_json::{json, Value};

const REDIS: &str = "redis://127.0.0.1:6379";

async fn call(address: SocketAddr, body: Value) -> (StatusCode, Value) {
    common::post_json(address, "/redis", &body).await
}

async fn ok(address: SocketAddr, mut body: Value) -> Value {
    body["address"] = json!(REDIS);
    let (status, reply) = call(address, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}: {reply}");
    reply["result"].clone()
}

async fn granted() -> (SocketAddr, tempfile::TempDir) {
    let dir = common::app_dir(&common::probe_manifest(
        "allowed_outbound_hosts = [\"redis://127.0.0.1:6379\"]",
    ));
    let address = common::serve(dir.path(), common::test_engine()).await;
    (address, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_works_against_the_real_server() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    let (address, _dir) = granted().await;
    let key = common::unique("rotor_redis");
    let set = format!("{key}_set");
    let counter = format!("{key}_counter");

    assert_eq!(
        ok(address, json!({"command": "get", "key": key})).await,
        json!(null)
    );
    ok(
        address,
        json!({"command": "set", "key": key, "value": "ünïcode"}),
    )
    .await;
    assert_eq!(
        ok(address, json!({"command": "get", "key": key})).await,
        json!("ünïcode")
    );
    assert_eq!(
        ok(address, json!({"command": "incr", "key": counter})).await,
        json!(1)
    );
    assert_eq!(
        ok(address, json!({"command": "incr", "key": counter})).await,
        json!(2)
    );
    assert_eq!(
        ok(
            address,
            json!({"command": "sadd", "key": set, "values": ["b", "a", "b"]})
        )
        .await,
        json!(2)
    );
    assert_eq!(
        ok(address, json!({"command": "smembers", "key": set})).await,
        json!(["a", "b"])
    );
    assert_eq!(
        ok(
            address,
            json!({"command": "srem", "key": set, "values": ["a", "z"]})
        )
        .await,
        json!(1)
    );
    assert_eq!(
        ok(
            address,
            json!({"command": "execute", "name": "HSET", "args": [key.clone() + "_h", "f", 7]})
        )
        .await,
        json!([{ "int64": 1 }])
    );
    assert_eq!(
        ok(
            address,
            json!({"command": "execute", "name": "HGETALL", "args": [key.clone() + "_h"]})
        )
        .await,
        json!([{ "binary": "f" }, { "binary": "7" }])
    );
    assert_eq!(
        ok(
            address,
            json!({"command": "execute", "name": "PING", "args": []})
        )
        .await,
        json!([{ "status": "PONG" }])
    );
    // INCR on a set is a type error, reported as such.
    let (status, reply) = call(
        address,
        json!({"address": REDIS, "command": "incr", "key": set}),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply["error"], "type-error", "{reply}");
    assert_eq!(
        ok(
            address,
            json!({"command": "del", "values": [key.clone(), counter, set, key.clone() + "_h"]})
        )
        .await,
        json!(4)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_reaches_subscribers() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    let (address, _dir) = granted().await;
    let channel = common::unique("rotor_channel");
    let client = ::redis::Client::open(REDIS).unwrap();
    let mut subscriber = client.get_async_pubsub().await.unwrap();
    subscriber.subscribe(&channel).await.unwrap();
    ok(
        address,
        json!({"command": "publish", "channel": channel, "value": "hello, subscriber"}),
    )
    .await;
    use futures_util::StreamExt as _;
    let message = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        subscriber.on_message().next(),
    )
    .await
    .expect("no message within 5 s")
    .unwrap();
    assert_eq!(message.get_payload_bytes(), b"hello, subscriber");
}

#[tokio::test(flavor = "multi_thread")]
async fn ungranted_and_malformed_addresses_are_refused() {
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let (status, reply) = call(
        address,
        json!({"address": REDIS, "command": "get", "key": "x"}),
    )
    .await;
    // Spin's answer to an ungranted address.
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply["error"], "invalid-address", "{reply}");
    let (status, reply) = call(
        address,
        json!({"address": "not a url", "command": "get", "key": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply["error"], "invalid-address", "{reply}");
}

/// `SELECT` and `MULTI` change the connection they run on; the host gives the resource that
/// sends one a connection of its own, so other requests keep database 0 and never have
/// their commands queued in someone else's transaction.
#[tokio::test(flavor = "multi_thread")]
async fn stateful_commands_do_not_leak_into_other_requests() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    let (address, _dir) = granted().await;
    let key = common::unique("rotor_redis_state");
    let batch = |calls: Value| json!({"command": "batch", "calls": calls});

    // One resource selects database 9 and writes there...
    let results = ok(
        address,
        batch(json!([
            {"name": "SELECT", "args": [9]},
            {"name": "SET", "args": [key, "nine"]},
            {"name": "GET", "args": [key]},
        ])),
    )
    .await;
    assert_eq!(results[2], json!([{"binary": "nine"}]), "{results}");
    // ...while a request after it still works in database 0.
    ok(
        address,
        json!({"command": "set", "key": key, "value": "zero"}),
    )
    .await;
    assert_eq!(
        ok(address, json!({"command": "get", "key": key})).await,
        json!("zero")
    );
    let in_nine = ok(
        address,
        batch(json!([
            {"name": "SELECT", "args": [9]},
            {"name": "GET", "args": [key]},
            {"name": "DEL", "args": [key]},
        ])),
    )
    .await;
    assert_eq!(in_nine[1], json!([{"binary": "nine"}]), "{in_nine}");

    // A transaction works within its resource...
    let counter = format!("{key}_counter");
    let results = ok(
        address,
        batch(json!([
            {"name": "MULTI", "args": []},
            {"name": "INCR", "args": [counter]},
            {"name": "INCR", "args": [counter]},
            {"name": "EXEC", "args": []},
        ])),
    )
    .await;
    assert_eq!(results[3], json!([{"int64": 1}, {"int64": 2}]), "{results}");
    // ...and one left open (no EXEC) swallows nobody else's writes.
    ok(
        address,
        batch(json!([
            {"name": "MULTI", "args": []},
            {"name": "SET", "args": [key, "never"]},
        ])),
    )
    .await;
    ok(address, json!({"command": "incr", "key": counter})).await;
    assert_eq!(
        ok(address, json!({"command": "get", "key": counter})).await,
        json!("3")
    );
    assert_eq!(
        ok(address, json!({"command": "get", "key": key})).await,
        json!("zero")
    );
    ok(address, json!({"command": "del", "values": [key, counter]})).await;
}
