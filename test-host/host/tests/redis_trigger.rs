//! The Redis trigger against the real Redis server: a burst of 1,000 messages is handled
//! exactly once each, failing and trapping handlers cost only their own message, after the
//! subscriber connection is killed the trigger reconnects and later messages arrive, stuck
//! handlers are stopped at the deadline, and stopping lets a running handler finish.
//!
//! One test function does it all in order, because `CLIENT KILL TYPE pubsub` would also cut
//! the subscribers of tests running beside it.

mod common;

use std::time::{Duration, Instant};

use redis::AsyncCommands as _;

const REDIS: &str = "redis://127.0.0.1:6379";

fn manifest(channel: &str, record_key: &str) -> String {
    format!(
        r#"spin_manifest_version = 2

[application]
name = "redis-trigger-test"

[application.trigger.redis]
address = "{REDIS}"

[variables]
record_key = {{ default = "{record_key}" }}

[[trigger.redis]]
channel = "{channel}"
component = "recorder"

[component.recorder]
source = "{}"
allowed_outbound_hosts = ["redis://127.0.0.1:6379"]
variables = {{ redis_address = "{REDIS}", record_key = "{{{{ record_key }}}}" }}
"#,
        common::guest("redis-probe").display()
    )
}

/// Waits until the list at `key` holds `count` entries; returns them. The "ready" probes of
/// [`wait_until_subscribed`] are left out: one sent before the trigger answered the first may
/// still be handled after it.
async fn wait_for_records(
    redis: &mut redis::aio::MultiplexedConnection,
    key: &str,
    count: usize,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut records: Vec<String> = redis.lrange(key, 0, -1).await.unwrap();
        records.retain(|r| r != "ready");
        if records.len() >= count || Instant::now() > deadline {
            return records;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Publishes until the trigger's subscription is live: the first message that gets handled.
async fn wait_until_subscribed(
    redis: &mut redis::aio::MultiplexedConnection,
    channel: &str,
    key: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let _: i64 = redis.publish(channel, "ready").await.unwrap();
        let records: Vec<String> = redis.lrange(key, 0, -1).await.unwrap();
        if records.iter().any(|r| r == "ready") {
            let _: i64 = redis.del(key).await.unwrap();
            return;
        }
        assert!(Instant::now() < deadline, "the trigger never subscribed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_redis_trigger_end_to_end() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    let channel = common::unique("rotor_trigger");
    let key = common::unique("rotor_records");
    let dir = common::app_dir(&manifest(&channel, &key));
    let app = common::load_app(dir.path(), common::test_engine(), &Default::default())
        .await
        .unwrap();
    let subscriptions = app.redis().expect("a Redis trigger").subscriptions();
    assert_eq!(subscriptions[0].channel, channel);
    let serving = app.start(([127, 0, 0, 1], 0).into()).await.unwrap();

    let client = redis::Client::open(REDIS).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    wait_until_subscribed(&mut redis, &channel, &key).await;

    // A burst: every message handled, none lost, none twice.
    let mut pipe = redis::pipe();
    for n in 0..1000 {
        pipe.publish(&channel, format!("message-{n}")).ignore();
    }
    let () = pipe.query_async(&mut redis).await.unwrap();
    let mut records = wait_for_records(&mut redis, &key, 1000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut late: Vec<String> = redis.lrange(&key, 0, -1).await.unwrap();
    late.retain(|r| r != "ready");
    assert_eq!(late.len(), records.len(), "messages were handled twice");
    records.sort();
    let mut expected: Vec<String> = (0..1000).map(|n| format!("message-{n}")).collect();
    expected.sort();
    assert_eq!(records, expected);
    let _: i64 = redis.del(&key).await.unwrap();

    // Failing and trapping handlers cost only their own message.
    for payload in ["fail", "panic", "after-the-failures"] {
        let _: i64 = redis.publish(&channel, payload).await.unwrap();
    }
    let records = wait_for_records(&mut redis, &key, 1).await;
    assert_eq!(records, ["after-the-failures"]);
    let _: i64 = redis.del(&key).await.unwrap();

    // Kill the subscriber connection: the trigger reconnects, and later messages arrive.
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(killed >= 1, "no subscriber connection to kill");
    wait_until_subscribed(&mut redis, &channel, &key).await;
    let _: i64 = redis.publish(&channel, "after-reconnect").await.unwrap();
    let records = wait_for_records(&mut redis, &key, 1).await;
    assert_eq!(records, ["after-reconnect"]);
    let _: i64 = redis.del(&key).await.unwrap();

    // Handlers stuck waiting in the host are stopped at the deadline: a full set of them
    // holds the subscriber up for that long, not for good.
    let mut pipe = redis::pipe();
    for _ in 0..rotor_host::triggers::redis::MAX_CONCURRENT_MESSAGES {
        pipe.publish(&channel, "stall").ignore();
    }
    pipe.publish(&channel, "after-the-stalls").ignore();
    let () = pipe.query_async(&mut redis).await.unwrap();
    let records = wait_for_records(&mut redis, &key, 1).await;
    assert_eq!(records, ["after-the-stalls"]);
    let _: i64 = redis.del(&key).await.unwrap();

    // Stopping lets the handler of a message taken before finish it.
    let _: i64 = redis.publish(&channel, "sleep:1500").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    serving.stop().await.unwrap();
    let records: Vec<String> = redis.lrange(&key, 0, -1).await.unwrap();
    assert_eq!(
        records,
        ["sleep:1500"],
        "stopping dropped a message being handled"
    );
    let _: i64 = redis.del(&key).await.unwrap();

    // A stopped app leaves the channel: soon nobody receives what is published on it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let receivers: i64 = redis.publish(&channel, "after-stop").await.unwrap();
        if receivers == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the subscriber outlived the app");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
