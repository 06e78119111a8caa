//! Unit tests of `examples/mqtt-alerts`: the broker is stubbed, and the messages are read
//! from the recorded calls.

use examples_unit_tests::example;
use rotor_test::stubs::MqttStub;
use rotor_test::VirtualHost;
use serde_json::json;

#[test]
fn severity_picks_the_quality_of_service() {
    let host = VirtualHost::builder(example("mqtt-alerts"))
        .variable("alerts_topic", "plant/alerts")
        .stub(MqttStub::topic("plant/*"))
        .load()
        .unwrap();
    for severity in ["info", "warning", "critical"] {
        host.post_json("/alerts", &json!({"severity": severity, "message": "hot"}))
            .assert_status(202);
    }
    host.calls().assert_lines(&[
        "mqtt mqtt://127.0.0.1:1883: publish plant/alerts (qos 0) *\"info\"*",
        "mqtt mqtt://127.0.0.1:1883: publish plant/alerts (qos 1) *\"warning\"*",
        "mqtt mqtt://127.0.0.1:1883: publish plant/alerts (qos 2) *\"critical\"*",
    ]);
}

#[test]
fn a_broker_that_refuses_is_a_502_and_a_bad_alert_publishes_nothing() {
    let host = VirtualHost::builder(example("mqtt-alerts"))
        .stub(MqttStub::topic("*").fail("broker gone"))
        .load()
        .unwrap();
    host.post_json("/alerts", &json!({"severity": "info", "message": "x"}))
        .assert_status(502);
    host.take_calls();
    host.post_json("/alerts", &json!({"severity": "loud", "message": "x"}))
        .assert_status(422);
    host.calls().assert_none("mqtt *");
}
