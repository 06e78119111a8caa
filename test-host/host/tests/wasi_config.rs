//! `wasi:config/store@0.2.0-draft-2024-09-27` through the host: a component's variables
//! under WASI's name, from the same providers as `fermyon:spin/variables`.

mod common;

use std::net::SocketAddr;

use http::StatusCode;
use rotor_host::capabilities::StateOptions;
use rotor_spec::client;
use serde_json::{json, Value};

/// The probe's component variables (a literal and two templates) over two app variables.
const VARIABLES: &str = r#"variables = { greeting = "{{ greeting }}", api_url = "https://{{ host }}/v1", fixed = "always" }

[variables]
greeting = { default = "hello" }
host = { default = "example.com" }
"#;

async fn get(address: SocketAddr, path: &str) -> (StatusCode, Value) {
    let response = client::get(address, path).await.unwrap();
    let body = serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("{path}: not JSON: {}", response.text()));
    (response.status, body)
}

async fn serve(
    environment: &[(&str, &str)],
    runtime_config: Option<String>,
) -> (SocketAddr, tempfile::TempDir) {
    let options = StateOptions {
        environment: Some(common::map(environment)),
        ..StateOptions::default()
    };
    common::serve_manifest(
        &common::probe_manifest(VARIABLES),
        runtime_config.as_deref(),
        options,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn get_answers_the_components_variables() {
    let (address, _dir) = serve(&[], None).await;
    assert_eq!(
        get(address, "/config/greeting").await,
        (StatusCode::OK, json!({ "value": "hello" }))
    );
    assert_eq!(
        get(address, "/config/api_url").await,
        (StatusCode::OK, json!({ "value": "https://example.com/v1" }))
    );
    assert_eq!(
        get(address, "/config/fixed").await,
        (StatusCode::OK, json!({ "value": "always" }))
    );
    // Not declared by the component (`host` is an app variable it does not list), and not a
    // valid name at all: no value, not an error.
    for key in ["host", "nothing", "Not-A-Name"] {
        assert_eq!(
            get(address, &format!("/config/{key}")).await,
            (StatusCode::OK, json!({ "value": null })),
            "{key}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn get_all_answers_every_variable_filled_from_the_providers() {
    let (address, _dir) = serve(&[("SPIN_VARIABLE_HOST", "api.internal")], None).await;
    assert_eq!(
        get(address, "/config").await,
        (
            StatusCode::OK,
            json!({ "values": [
                ["api_url", "https://api.internal/v1"],
                ["fixed", "always"],
                ["greeting", "hello"],
            ] })
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_provider_is_an_upstream_error() {
    let port = common::closed_port();
    let vault = format!(
        "[[config_provider]]\ntype = \"vault\"\nurl = \"http://127.0.0.1:{port}\"\ntoken = \"t0ken\"\nmount = \"secret\"\n"
    );
    let (address, _dir) = serve(&[], Some(vault)).await;
    let (status, body) = get(address, "/config/greeting").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"], "upstream", "{body}");
    assert_eq!(
        body["message"],
        rotor_host::capabilities::variables::resolve::PROVIDER_FAILED,
        "{body}"
    );
    assert!(!body.to_string().contains(&port.to_string()), "{body}");
    assert!(!body.to_string().contains("t0ken"), "{body}");
    // A literal needs no provider.
    assert_eq!(
        get(address, "/config/fixed").await,
        (StatusCode::OK, json!({ "value": "always" }))
    );
    // get-all fails as a whole rather than leaving a variable out.
    let (status, body) = get(address, "/config").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"], "upstream", "{body}");
}
