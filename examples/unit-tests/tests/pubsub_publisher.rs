//! Unit tests of `examples/pubsub-publisher`: Redis is stubbed, and what was published is
//! read from the recorded calls.

use examples_unit_tests::example;
use rotor_test::stubs::RedisStub;
use rotor_test::VirtualHost;

fn binary_mode_event() -> http::Request<&'static str> {
    http::Request::builder()
        .method("POST")
        .uri("/events")
        .header("ce-specversion", "1.0")
        .header("ce-id", "order-1")
        .header("ce-source", "/shop")
        .header("ce-type", "com.example.order.created")
        .header("content-type", "application/json")
        .body(r#"{"total_cents": 1350}"#)
        .unwrap()
}

#[test]
fn a_binary_mode_event_is_published_as_structured_json() {
    let host = VirtualHost::builder(example("pubsub-publisher"))
        .variable("channel", "orders")
        .stub(RedisStub::publish("orders"))
        .load()
        .unwrap();
    host.request(binary_mode_event()).assert_status(202);
    let published = host.calls().published();
    assert_eq!(published.len(), 1, "{published:?}");
    let (channel, payload) = &published[0];
    assert_eq!(channel, "orders");
    let event: serde_json::Value = serde_json::from_slice(payload).unwrap();
    assert_eq!(event["id"], "order-1");
    assert_eq!(event["type"], "com.example.order.created");
    assert_eq!(event["data"]["total_cents"], 1350);
}

#[test]
fn a_redis_that_fails_is_a_502_and_not_an_event_publishes_nothing() {
    let host = VirtualHost::builder(example("pubsub-publisher"))
        .stub(RedisStub::publish("*").fail("connection refused"))
        .load()
        .unwrap();
    host.request(binary_mode_event()).assert_status(502);
    host.take_calls();
    let not_an_event = host.send("POST", "/events", "hello");
    assert!(not_an_event.status >= 400 && not_an_event.status < 500);
    host.calls().assert_none("redis *");
}
