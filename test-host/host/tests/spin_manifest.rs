//! Manifest features as Spin runs them: private routes reached by service chaining,
//! static responses, `files` mounts, and `{ url, digest }` sources downloaded once.

mod common;

use std::sync::Arc;

use http::{Response, StatusCode};
use rotor_host::engine::remote_source::sha256_digest;
use rotor_host::engine::{Engine, EngineConfig};
use rotor_spec::client;
use rotor_spec::fixtures::{FixtureServer, Reply};
use serde_json::json;

/// Two probes: `front` on every path, allowed to call `grant`; `back` only on a private
/// route; and a static health check.
fn chained_manifest(grant: &str) -> String {
    let probe = common::guest("probe");
    format!(
        r#"spin_manifest_version = 2

[application]
name = "chaining"

[[trigger.http]]
route = "/..."
component = "front"

[[trigger.http]]
route = {{ private = true }}
component = "back"

[[trigger.http]]
route = "/health"
static_response = {{ status_code = 203, headers = {{ x-health = "fine" }}, body = "all well" }}

[component.front]
source = "{probe}"
allowed_outbound_hosts = [{grant}]

[component.back]
source = "{probe}"
environment = {{ WHO = "back" }}
"#,
        probe = probe.display()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_component_is_reached_only_by_chaining() {
    let dir = common::app_dir(&chained_manifest("\"http://back.spin.internal\""));
    let address = common::serve(dir.path(), common::test_engine()).await;

    let (status, reply) = common::post_json(
        address,
        "/outbound",
        &json!({ "method": "POST", "url": "http://back.spin.internal/echo", "body": "through the chain" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["status"], 200, "{reply}");
    assert_eq!(reply["body"], "through the chain");

    // The private component has no path of its own: `/echo` is the front's.
    let direct = client::get(address, "/health").await.unwrap();
    assert_eq!(direct.status, 203);
    assert_eq!(direct.text(), "all well");
    assert_eq!(direct.headers.get("x-health").unwrap(), "fine");
}

#[tokio::test(flavor = "multi_thread")]
async fn chaining_needs_the_grant_and_an_existing_component() {
    let dir = common::app_dir(&chained_manifest("\"http://front.spin.internal\""));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let (status, reply) = common::post_json(
        address,
        "/outbound",
        &json!({ "url": "http://back.spin.internal/echo" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{reply}");
    assert_eq!(reply["error"], "denied", "{reply}");

    let dir = common::app_dir(&chained_manifest("\"http://*.spin.internal\""));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let (status, reply) = common::post_json(
        address,
        "/outbound",
        &json!({ "url": "http://nobody.spin.internal/echo" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{reply}");
    assert_ne!(reply["error"], "denied", "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_source_is_downloaded_once_and_checked() {
    let wasm = std::fs::read(common::guest("http-hello")).unwrap();
    let digest = sha256_digest(&wasm);
    let served = bytes::Bytes::from(wasm);
    let server = FixtureServer::start(Arc::new(move |_: &_| {
        Reply::Respond(Response::new(served.clone()))
    }))
    .await
    .unwrap();
    let manifest = |digest: &str| {
        format!(
            r#"spin_manifest_version = 2

[application]
name = "remote"

[[trigger.http]]
route = "/hello/..."
component = "hello"

[component.hello]
source = {{ url = "{}/hello.wasm", digest = "{digest}" }}
"#,
            server.url()
        )
    };
    let cache = tempfile::tempdir().unwrap();
    let engine = || {
        Engine::new(EngineConfig {
            cache_dir: Some(cache.path().to_owned()),
            ..EngineConfig::default()
        })
        .unwrap()
    };
    let dir = common::app_dir(&manifest(&digest));
    let address = common::serve(dir.path(), engine()).await;
    let response = client::get(address, "/hello?name=Remote").await.unwrap();
    assert_eq!(response.text(), "Hello, Remote!\n");
    assert_eq!(server.hits(), 1);

    // Loaded again: from the cache, without a download.
    common::load_app(dir.path(), engine(), &Default::default())
        .await
        .unwrap();
    assert_eq!(server.hits(), 1);

    // A digest that does not match what the server sends stops the load, naming both.
    let wrong = format!("sha256:{}", "0".repeat(64));
    let dir = common::app_dir(&manifest(&wrong));
    let error = common::load_app(dir.path(), engine(), &Default::default())
        .await
        .err()
        .expect("a wrong digest is refused");
    let message = format!("{error:#}");
    assert!(
        message.contains(&wrong) && message.contains(&digest),
        "{message}"
    );
    assert!(message.contains("component `hello`"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_source_says_where_to_put_the_file() {
    let manifest = format!(
        r#"spin_manifest_version = 2

[application]
name = "offline"

[[trigger.http]]
route = "/..."
component = "hello"

[component.hello]
source = {{ url = "http://127.0.0.1:{}/hello.wasm", digest = "sha256:{}" }}
"#,
        common::closed_port(),
        "1".repeat(64)
    );
    let dir = common::app_dir(&manifest);
    let error = common::load_app(dir.path(), common::test_engine(), &Default::default())
        .await
        .err()
        .expect("an unreachable source is an error");
    let message = format!("{error:#}");
    assert!(message.contains("cannot download"), "{message}");
    assert!(message.contains("put the file there"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_are_mounted_read_only() {
    let dir = common::app_dir(&format!(
        "{}files = [\"notes/*.txt\", {{ source = \"assets\", destination = \"/static\" }}]\n",
        common::one_route_manifest("/...", &common::guest("probe"))
    ));
    std::fs::create_dir_all(dir.path().join("notes")).unwrap();
    std::fs::create_dir_all(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("notes/a.txt"), "note a").unwrap();
    std::fs::write(dir.path().join("assets/site.css"), "body{}").unwrap();
    let address = common::serve(dir.path(), common::test_engine()).await;
    let (status, reply) = common::post_json(
        address,
        "/files",
        &json!({ "read": ["/notes/a.txt", "/static/site.css", "/spin.toml"], "write": "/notes/b.txt" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["read"]["/notes/a.txt"], "note a", "{reply}");
    assert_eq!(reply["read"]["/static/site.css"], "body{}", "{reply}");
    assert!(reply["read"]["/spin.toml"].is_null(), "{reply}");
    assert_eq!(reply["written"], false, "{reply}");
    assert!(!dir.path().join("notes/b.txt").exists());
}
