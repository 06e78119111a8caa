//! Outbound HTTP through the host: what `allowed_outbound_hosts` lets out, what it keeps in,
//! requests to `self`, timeouts, and error kinds as the guest sees them.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Response, StatusCode};
use rotor_host::capabilities::StateOptions;
use rotor_spec::fixtures::{FixtureServer, Handler, Reply};
use serde_json::{json, Value};

/// A backend that answers every request with a JSON description of it.
fn describing_backend() -> Handler {
    Arc::new(|request| {
        let description = json!({
            "method": request.method().as_str(),
            "path": request.uri().path_and_query().map(|p| p.as_str()),
            "host": request.headers().get("host").and_then(|h| h.to_str().ok()),
            "x-probe": request.headers().get("x-probe").and_then(|h| h.to_str().ok()),
            "body": String::from_utf8_lossy(request.body()),
        });
        Reply::Respond(Response::new(description.to_string().into()))
    })
}

async fn serve_probe(
    grants: &str,
    environment: &[(&str, &str)],
) -> (SocketAddr, tempfile::TempDir) {
    let options = StateOptions {
        environment: Some(common::map(environment)),
        ..StateOptions::default()
    };
    common::serve_manifest(&common::probe_manifest(grants), None, options).await
}

/// Asks the probe to make the outbound call `call`; returns the probe's status and JSON.
async fn call(address: SocketAddr, call: Value) -> (StatusCode, Value) {
    common::post_json(address, "/outbound", &call).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allowed_request_goes_out_and_its_response_comes_back() {
    let backend = FixtureServer::start(describing_backend()).await.unwrap();
    let grant = format!(
        "allowed_outbound_hosts = [\"http://127.0.0.1:{}\"]",
        backend.address().port()
    );
    let (address, _dir) = serve_probe(&grant, &[]).await;
    let (status, reply) = call(
        address,
        json!({
            "method": "POST",
            "url": format!("{}/orders?x=1", backend.url()),
            "headers": [["x-probe", "yes"]],
            "body": "a body of some length",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["status"], 200);
    let seen: Value = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/orders?x=1");
    assert_eq!(seen["x-probe"], "yes");
    assert_eq!(seen["body"], "a body of some length");
    assert_eq!(backend.hits(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_request_body_arrives_whole() {
    let backend = FixtureServer::start(describing_backend()).await.unwrap();
    let grant = format!(
        "allowed_outbound_hosts = [\"http://127.0.0.1:{}\"]",
        backend.address().port()
    );
    let (address, _dir) = serve_probe(&grant, &[]).await;
    let text: String = (0..20_000).map(|n| format!("{n},")).collect();
    let (status, reply) = call(
        address,
        json!({ "method": "PUT", "url": backend.url(), "body": text, "stream_chunks": 17 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let seen: Value = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
    assert_eq!(seen["body"].as_str().unwrap(), text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_outside_the_list_is_denied_and_never_sent() {
    let backend = FixtureServer::start(describing_backend()).await.unwrap();
    let other_port = backend.address().port().wrapping_add(1).max(1);
    let grants = [
        // Nothing granted at all.
        String::new(),
        // The right host on another port.
        format!("allowed_outbound_hosts = [\"http://127.0.0.1:{other_port}\"]"),
        // The right port with another scheme.
        format!(
            "allowed_outbound_hosts = [\"https://127.0.0.1:{}\"]",
            backend.address().port()
        ),
        // Another host name.
        "allowed_outbound_hosts = [\"http://*.example.com:*\"]".to_owned(),
    ];
    for grant in grants {
        let (address, _dir) = serve_probe(&grant, &[]).await;
        let (status, reply) = call(address, json!({ "url": backend.url() })).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{grant}: {reply}");
        assert_eq!(reply["error"], "denied", "{grant}: {reply}");
    }
    assert_eq!(backend.hits(), 0, "a denied request reached the backend");
}

/// A granted server that redirects elsewhere does not take the guest there: the guest gets
/// the redirect itself, and the ungranted place sees no request.
#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_not_followed_out_of_the_grant() {
    let elsewhere = FixtureServer::start(describing_backend()).await.unwrap();
    let location = format!("{}/stolen", elsewhere.url());
    let redirecting = FixtureServer::start(Arc::new(move |_| {
        let mut response = Response::new(Vec::new().into());
        *response.status_mut() = StatusCode::FOUND;
        response
            .headers_mut()
            .insert("location", location.parse().unwrap());
        Reply::Respond(response)
    }))
    .await
    .unwrap();
    let grant = format!(
        "allowed_outbound_hosts = [\"http://127.0.0.1:{}\"]",
        redirecting.address().port()
    );
    let (address, _dir) = serve_probe(&grant, &[]).await;
    let (status, reply) = call(address, json!({ "url": redirecting.url() })).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["status"], 302, "{reply}");
    assert_eq!(redirecting.hits(), 1);
    assert_eq!(elsewhere.hits(), 0, "the redirect was followed");
}

/// A component that keeps calling itself is stopped at a fixed depth with `loop-detected`,
/// instead of taking every instance the host has; each level still gets its answer.
#[tokio::test(flavor = "multi_thread")]
async fn requests_to_self_nest_only_so_deep() {
    let (address, _dir) = serve_probe("allowed_outbound_hosts = [\"http://self\"]", &[]).await;
    let response = rotor_spec::client::get(address, "/recurse").await.unwrap();
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let text = response.text();
    let (depth, reason) = text.split_once(':').unwrap();
    assert_eq!(
        depth,
        rotor_host::capabilities::outbound_http::MAX_SELF_DEPTH.to_string(),
        "{text}"
    );
    assert!(reason.to_lowercase().contains("loop"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn templates_in_the_list_are_filled_from_variables() {
    let backend = FixtureServer::start(describing_backend()).await.unwrap();
    let dir = common::app_dir(&format!(
        "{}allowed_outbound_hosts = [\"http://{{{{ backend_host }}}}\"]\n",
        common::probe_manifest("").replace(
            "[[trigger.http]]",
            "[variables]\nbackend_host = { required = true }\n\n[[trigger.http]]"
        )
    ));
    let options = StateOptions {
        environment: Some(BTreeMap::from([(
            "SPIN_VARIABLE_BACKEND_HOST".to_owned(),
            backend.address().to_string(),
        )])),
        ..StateOptions::default()
    };
    let address = common::serve_with(dir.path(), common::test_engine(), &options).await;
    let (status, reply) = call(address, json!({ "url": format!("{}/t", backend.url()) })).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(backend.hits(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_to_self_are_answered_by_the_app_without_the_network() {
    let (address, _dir) = serve_probe("allowed_outbound_hosts = [\"http://self\"]", &[]).await;
    for url in ["http://self/echo", "/echo"] {
        let (status, reply) = call(
            address,
            json!({ "method": "POST", "url": url, "body": "round trip" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{url}: {reply}");
        assert_eq!(reply["status"], 200);
        assert_eq!(reply["body"], "round trip");
    }

    let (address, _dir) = serve_probe("", &[]).await;
    let (status, reply) = call(address, json!({ "url": "/echo" })).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply["error"], "denied", "{reply}");
}

/// Python's `spin-sdk` hands a request to the host and writes its body afterwards; by then
/// the host may have sent the whole (empty) request and had its answer. The guest's late
/// writes must still succeed (they failed with `closed`, and the Python app with them).
#[tokio::test(flavor = "multi_thread")]
async fn a_request_body_written_after_the_response_came_is_still_accepted() {
    let backend = FixtureServer::start(describing_backend()).await.unwrap();
    let grant = format!(
        "allowed_outbound_hosts = [\"http://127.0.0.1:{}\"]",
        backend.address().port()
    );
    let (address, _dir) = serve_probe(&grant, &[]).await;
    let response = rotor_spec::client::send(
        address,
        http::Method::POST,
        "/outbound-late-body",
        &[],
        format!("{}/late", backend.url()),
    )
    .await
    .unwrap();
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.text(), "upstream answered 200");
    assert_eq!(backend.hits(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backend_that_never_answers_is_a_timeout_within_the_limit() {
    let hanging = FixtureServer::start(Arc::new(|_: &_| Reply::Hang))
        .await
        .unwrap();
    let grant = format!(
        "allowed_outbound_hosts = [\"http://127.0.0.1:{}\"]",
        hanging.address().port()
    );
    let (address, _dir) = serve_probe(&grant, &[]).await;
    let started = Instant::now();
    let (status, reply) = call(address, json!({ "url": hanging.url(), "timeout_ms": 300 })).await;
    let elapsed = started.elapsed();
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{reply}");
    assert_eq!(reply["error"], "timeout", "{reply}");
    // The guest's own deadline is 2 s in tests: the timeout must come from the 300 ms limit.
    assert!(elapsed < Duration::from_millis(1800), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_and_unresolvable_destinations_have_their_own_kinds() {
    // A port nobody listens on: bind one, then free it.
    let port = common::closed_port();
    let (address, _dir) = serve_probe("allowed_outbound_hosts = [\"http://*:*\"]", &[]).await;
    let (status, reply) = call(
        address,
        json!({ "url": format!("http://127.0.0.1:{port}/") }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply["error"], "connect", "{reply}");

    let (status, reply) = call(address, json!({ "url": "http://no-such-host.invalid/" })).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply["error"], "dns", "{reply}");
}
