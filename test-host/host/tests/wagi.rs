//! The WAGI executor: the CGI variables a module sees, the body on stdin, status and
//! location handling, and broken output that costs only its own request.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use http::{Method, StatusCode};
use rotor_spec::client;

fn wagi_manifest(route: &str, argv: Option<&str>) -> String {
    let argv = argv
        .map(|a| format!(", argv = \"{a}\""))
        .unwrap_or_default();
    format!(
        r#"spin_manifest_version = 2

[application]
name = "wagi-test"

[[trigger.http]]
route = "{route}"
component = "probe"
executor = {{ type = "wagi"{argv} }}

[[trigger.http]]
route = "/component/..."
component = "component"

[component.probe]
source = "{}"
environment = {{ FROM_MANIFEST = "yes", HTTP_X_OVERRIDE = "from the manifest" }}

[component.component]
source = "{}"
"#,
        common::wagi_guest("wagi-probe").display(),
        common::guest("probe").display()
    )
}

async fn serve(route: &str, argv: Option<&str>) -> (SocketAddr, tempfile::TempDir) {
    let dir = common::app_dir(&wagi_manifest(route, argv));
    let address = common::serve(dir.path(), common::test_engine()).await;
    (address, dir)
}

/// The probe's `env` report: variables by name, plus `argv` and `stdin`.
async fn report(
    address: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> BTreeMap<String, String> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let response = client::send(address, method, path, &headers, body.to_owned())
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let text = response.text();
    let (vars, stdin) = text.split_once("stdin=").unwrap();
    let mut report: BTreeMap<String, String> = vars
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    report.insert("stdin".into(), stdin.to_owned());
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn every_cgi_variable_reaches_the_module() {
    let (address, _dir) = serve("/cgi/...", None).await;
    let body = "name=Ada&lang=rust";
    let vars = report(
        address,
        Method::POST,
        "/cgi/some/path%20here?env&x=1",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-custom-thing", "custom value"),
            ("accept", "text/plain"),
        ],
        body,
    )
    .await;
    let port = address.port().to_string();
    let expect = [
        ("REQUEST_METHOD", "POST"),
        ("PATH_INFO", "/some/path here"),
        ("X_RAW_PATH_INFO", "/some/path%20here"),
        ("QUERY_STRING", "env&x=1"),
        ("SCRIPT_NAME", "/cgi"),
        ("SERVER_NAME", "127.0.0.1"),
        ("SERVER_PORT", port.as_str()),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("CONTENT_TYPE", "application/x-www-form-urlencoded"),
        ("CONTENT_LENGTH", "18"),
        ("X_MATCHED_ROUTE", "/cgi/..."),
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("HTTP_X_CUSTOM_THING", "custom value"),
        ("HTTP_ACCEPT", "text/plain"),
        ("FROM_MANIFEST", "yes"),
        ("argv", "/cgi env x=1"),
        ("stdin", body),
    ];
    for (name, value) in expect {
        assert_eq!(
            vars.get(name).map(String::as_str),
            Some(value),
            "{name}: {vars:?}"
        );
    }
    let full_url = format!("http://127.0.0.1:{port}/cgi/some/path%20here?env&x=1");
    assert_eq!(vars["X_FULL_URL"], full_url);
    assert!(vars.contains_key("HTTP_HOST"), "{vars:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn argv_follows_the_manifest() {
    let (address, _dir) = serve("/exact", Some("tool ${SCRIPT_NAME} --flag ${ARGS}")).await;
    // The probe's mode is its first argument after the program name; this template puts the
    // script name there, so the probe answers "fine" instead of its report.
    let response = client::send(address, Method::GET, "/exact?env", &[], "")
        .await
        .unwrap();
    assert_eq!(response.text(), "fine");

    let (address, _dir) = serve("/exact", Some("prog ${ARGS} ${SCRIPT_NAME}")).await;
    let vars = report(address, Method::GET, "/exact?env&two", &[], "").await;
    assert_eq!(vars["argv"], "prog env two /exact");
    assert_eq!(vars["PATH_INFO"], "");
}

async fn get(address: SocketAddr, path: &str) -> (StatusCode, String) {
    let response = client::send(address, Method::GET, path, &[], "")
        .await
        .unwrap();
    (response.status, response.text())
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_modules_cost_only_their_own_request() {
    let (address, _dir) = serve("/cgi/...", None).await;
    for mode in ["no-blank", "bad-status", "flood", "loop", "exit"] {
        let (status, body) = get(address, &format!("/cgi/x?{mode}")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{mode}: {body}");
        assert!(!body.contains("no blank line follows"), "{mode}: {body}");
        // The host goes on serving, WAGI and components alike.
        assert_eq!(
            get(address, "/cgi/x").await,
            (StatusCode::OK, "fine".into()),
            "after {mode}"
        );
        assert_eq!(
            get(address, "/component/y").await.0,
            StatusCode::OK,
            "after {mode}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_is_refused_with_413() {
    let (address, _dir) = serve("/cgi/...", None).await;
    let body = "x".repeat(rotor_host::triggers::http::wagi::MAX_BODY + 1);
    let response = client::send(address, Method::POST, "/cgi/x?env", &[], body)
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        get(address, "/cgi/x").await,
        (StatusCode::OK, "fine".into())
    );
}

/// The host holds each WAGI request's body and output whole, so only so many run at once;
/// the rest are told to come back, and nothing waits in a queue.
#[tokio::test(flavor = "multi_thread")]
async fn wagi_requests_beyond_the_cap_are_told_to_retry() {
    let (address, _dir) = serve("/cgi/...", None).await;
    let cap = rotor_host::triggers::http::wagi::MAX_IN_FLIGHT;
    let requests: Vec<_> = (0..cap + 8)
        .map(|_| tokio::spawn(async move { get(address, "/cgi/x?sleep").await }))
        .collect();
    let mut served = 0;
    let mut refused = 0;
    for request in requests {
        match request.await.unwrap() {
            (StatusCode::OK, body) if body == "fine" => served += 1,
            (StatusCode::SERVICE_UNAVAILABLE, _) => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(served <= cap, "{served} served at once");
    assert!(refused >= 8, "only {refused} refused");
    // With the sleepers gone there is room again; components never shared the WAGI cap.
    assert_eq!(
        get(address, "/cgi/x").await,
        (StatusCode::OK, "fine".into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_is_refused_as_a_wagi_module() {
    let manifest = wagi_manifest("/cgi/...", None).replace(
        &common::wagi_guest("wagi-probe").display().to_string(),
        &common::guest("probe").display().to_string(),
    );
    let dir = common::app_dir(&manifest);
    let error = common::load_app(dir.path(), common::test_engine(), &Default::default())
        .await
        .err()
        .expect("a component under the WAGI executor must be refused");
    let message = format!("{error:#}");
    assert!(message.contains("wasm32-wasip1"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_cannot_set_a_proxy_leak_credentials_or_override_the_manifest() {
    let (address, _dir) = serve("/cgi/...", None).await;
    let vars = report(
        address,
        Method::GET,
        "/cgi/x?env",
        &[
            ("Proxy", "http://attacker.example:8080"),
            ("Authorization", "Bearer secret-token"),
            ("Cookie", "session=abc"),
            ("X-Override", "from the client"),
        ],
        "",
    )
    .await;
    assert!(!vars.contains_key("HTTP_PROXY"), "{vars:?}");
    assert!(!vars.contains_key("HTTP_AUTHORIZATION"), "{vars:?}");
    assert!(!vars.contains_key("HTTP_CONNECTION"), "{vars:?}");
    assert_eq!(vars["HTTP_COOKIE"], "session=abc");
    assert_eq!(vars["HTTP_X_OVERRIDE"], "from the manifest");
    assert!(
        !vars
            .values()
            .any(|v| v.contains("secret-token") || v.contains("attacker")),
        "{vars:?}"
    );
}
