//! `fermyon:spin/mqtt@2.0.0` through the host, against the machine's Mosquitto: messages at
//! every QoS reach a subscriber, and refused, malformed and ungranted addresses are typed
//! errors. Topics are unique per test.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use http::StatusCode;
use rumqttc::{Event, Packet};
use serde_json::{json, Value};

const BROKER: &str = "mqtt://127.0.0.1:1883";

async fn publish(address: SocketAddr, call: Value) -> (StatusCode, Value) {
    common::post_json(address, "/mqtt", &call).await
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_at_every_qos_reach_a_subscriber() {
    if !common::service_available("Mosquitto", "127.0.0.1:1883") {
        return;
    }
    let topic = common::unique("rotor/test");
    let (_subscriber, mut events) = common::mqtt_subscriber(&topic).await;
    let received = tokio::spawn(async move {
        let mut payloads = Vec::new();
        while payloads.len() < 3 {
            if let Event::Incoming(Packet::Publish(message)) = events.poll().await.unwrap() {
                payloads.push(String::from_utf8(message.payload.to_vec()).unwrap());
            }
        }
        payloads
    });

    let dir = common::app_dir(&common::probe_manifest(
        "allowed_outbound_hosts = [\"mqtt://127.0.0.1:1883\"]",
    ));
    let address = common::serve(dir.path(), common::test_engine()).await;
    for qos in 0..3 {
        let (status, reply) = publish(
            address,
            json!({ "address": BROKER, "topic": topic, "payload": format!("qos {qos}"), "qos": qos }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
    let mut payloads = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .expect("the messages did not arrive within 10 s")
        .unwrap();
    payloads.sort();
    assert_eq!(payloads, ["qos 0", "qos 1", "qos 2"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_addresses_are_typed_errors() {
    let closed = common::closed_port();
    let dir = common::app_dir(&common::probe_manifest(&format!(
        "allowed_outbound_hosts = [\"mqtt://127.0.0.1:{closed}\"]"
    )));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let denied = format!("address {BROKER} is not permitted");
    let cases = [
        // Spin's wording, which its conformance suite checks.
        (BROKER.to_owned(), "connection-failed", denied.as_str()),
        (
            format!("mqtt://127.0.0.1:{closed}"),
            "connection-failed",
            "",
        ),
        ("not an address".to_owned(), "invalid-address", ""),
    ];
    for (broker, kind, needle) in cases {
        let (status, reply) = publish(
            address,
            json!({ "address": broker, "topic": "t", "payload": "p" }),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{broker}: {reply}"
        );
        assert_eq!(reply["error"], kind, "{broker}: {reply}");
        assert!(
            reply["message"].as_str().unwrap_or("").contains(needle),
            "{broker}: {reply}"
        );
    }
}
