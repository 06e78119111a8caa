//! Unit tests of `examples/config`: variables come from the test, never from the
//! environment or Vault.

use examples_unit_tests::example;
use rotor_test::VirtualHost;
use serde_json::json;

fn host() -> VirtualHost {
    VirtualHost::builder(example("config"))
        .variable("audience", "Rotor")
        .variable("admin_api_key", "k-test")
        .load()
        .unwrap()
}

#[test]
fn settings_come_from_the_variables() {
    let settings = host().get("/settings").assert_status(200).json();
    assert_eq!(
        settings,
        json!({"message": "Hello, Rotor!", "page_size": 20})
    );
}

#[test]
fn the_admin_endpoint_takes_only_the_secret_key() {
    let host = host();
    let request = |key: &str| {
        http::Request::builder()
            .uri("/admin/stats")
            .header("x-api-key", key)
            .body(Vec::new())
            .unwrap()
    };
    host.request(request("k-test")).assert_status(200);
    let refused = host.request(request("guess"));
    refused.assert_status(401);
    assert!(!refused.text().contains("k-test"));
}

#[test]
fn a_required_variable_without_a_value_stops_the_load() {
    let error = VirtualHost::load(example("config"))
        .err()
        .expect("admin_api_key is required");
    assert!(format!("{error:#}").contains("admin_api_key"), "{error:#}");
}
