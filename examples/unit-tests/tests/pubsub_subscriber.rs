//! Unit tests of `examples/pubsub-subscriber`: messages are handed to its Redis trigger
//! directly, and the key-value store shows what it kept.

use examples_unit_tests::example;
use rotor_test::VirtualHost;
use serde_json::json;

#[test]
fn keeps_exactly_the_events_its_filter_passes() {
    let host = VirtualHost::load(example("pubsub-subscriber")).unwrap();
    let deliver = |event: serde_json::Value| {
        host.deliver_redis_message("rotor-events", event.to_string())
            .expect("the handler succeeds")
    };
    assert_eq!(
        deliver(
            json!({"specversion": "1.0", "id": "order-1", "source": "/shop", "type": "com.example.order.created"})
        ),
        1
    );
    deliver(
        json!({"specversion": "1.0", "id": "skip-type", "source": "/shop", "type": "com.example.user.created"}),
    );
    deliver(
        json!({"specversion": "1.0", "id": "skip-source", "source": "/test", "type": "com.example.order.created"}),
    );
    host.calls()
        .assert_lines(&["key-value default: set event:order-1 = *"]);
    assert_eq!(host.key_value_keys("default"), ["event:order-1"]);
    let kept = host.get("/events").assert_status(200).json();
    assert_eq!(kept.as_array().unwrap().len(), 1);
    assert_eq!(kept[0]["id"], "order-1");
}

#[test]
fn a_message_that_is_not_an_event_is_refused_and_other_channels_reach_nobody() {
    let host = VirtualHost::load(example("pubsub-subscriber")).unwrap();
    // The handler reports the error (the trigger logs it and goes on) and keeps nothing.
    assert!(host
        .deliver_redis_message("rotor-events", "this is not an event")
        .is_err());
    assert_eq!(host.deliver_redis_message("elsewhere", "{}").unwrap(), 0);
    host.calls().assert_lines(&[]);
    host.get("/events/skip-type").assert_status(404);
}
