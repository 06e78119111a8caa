//! The request a guest sees: the headers Spin sets, under the routes Spin matches.

mod common;

use http::StatusCode;
use rotor_spec::client;

fn header<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
}

#[tokio::test(flavor = "multi_thread")]
async fn wildcard_route_headers() {
    let dir = common::app_dir(&common::one_route_manifest(
        "/api/...",
        &common::guest("probe"),
    ));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let response = client::send(
        address,
        http::Method::GET,
        "/api/v1/headers?x=1",
        &[("spin-path-info".into(), "/spoofed".into())],
        "",
    )
    .await
    .unwrap();
    assert_eq!(response.status, StatusCode::OK);
    let text = response.text();
    let url = format!("http://{address}/api/v1/headers?x=1");
    assert_eq!(header(&text, "spin-full-url"), Some(url.as_str()), "{text}");
    assert_eq!(
        header(&text, "spin-path-info"),
        Some("/v1/headers"),
        "{text}"
    );
    assert_eq!(
        header(&text, "spin-matched-route"),
        Some("/api/..."),
        "{text}"
    );
    assert_eq!(
        header(&text, "spin-raw-component-route"),
        Some("/api/..."),
        "{text}"
    );
    assert_eq!(
        header(&text, "spin-component-route"),
        Some("/api"),
        "{text}"
    );
    assert_eq!(header(&text, "spin-base-path"), Some("/"), "{text}");
    let client_addr = header(&text, "spin-client-addr").expect("spin-client-addr");
    assert!(client_addr.starts_with("127.0.0.1:"), "{text}");
    assert_eq!(header(&text, "uri"), Some(url.as_str()), "{text}");
    assert_eq!(
        text.matches("spin-path-info").count(),
        1,
        "a client-sent spin-* header must not reach the guest: {text}"
    );
    let outside = client::get(address, "/other").await.unwrap();
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn exact_route_with_params() {
    let dir = common::app_dir(&common::one_route_manifest(
        "/:resource",
        &common::guest("probe"),
    ));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let text = client::get(address, "/headers").await.unwrap().text();
    assert_eq!(
        header(&text, "spin-matched-route"),
        Some("/:resource"),
        "{text}"
    );
    assert_eq!(header(&text, "spin-path-info"), Some(""), "{text}");
    assert_eq!(
        header(&text, "spin-path-match-resource"),
        Some("headers"),
        "{text}"
    );
    let missing = client::get(address, "/headers/more").await.unwrap();
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// The request shape Spin's conformance suite checks: `:path_segment` arrives as
/// `spin-path-match-path-segment`, the full URL carries the client's `Host`, and the guest
/// sees exactly Spin's set of `spin-*` headers, each once.
#[tokio::test(flavor = "multi_thread")]
async fn the_request_shape_of_spins_suite() {
    let dir = common::app_dir(&common::one_route_manifest(
        "/base/:path_segment/:path_end/...",
        &common::guest("probe"),
    ));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let response = client::send(
        address,
        http::Method::GET,
        "/base/path/end/rest/headers?key=value",
        &[("Host".into(), "example.com".into())],
        "",
    )
    .await
    .unwrap();
    let text = response.text();
    assert_eq!(
        header(&text, "spin-path-match-path-segment"),
        Some("path"),
        "{text}"
    );
    assert_eq!(
        header(&text, "spin-path-match-path-end"),
        Some("end"),
        "{text}"
    );
    assert_eq!(
        header(&text, "spin-full-url"),
        Some("http://example.com/base/path/end/rest/headers?key=value"),
        "{text}"
    );
    assert_eq!(
        header(&text, "spin-component-route"),
        Some("/base/:path_segment/:path_end"),
        "{text}"
    );
    assert_eq!(
        header(&text, "spin-path-info"),
        Some("/rest/headers"),
        "{text}"
    );
    let mut spin_headers: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_once(": ").map(|(name, _)| name))
        .filter(|name| name.starts_with("spin-"))
        .collect();
    spin_headers.sort();
    assert_eq!(
        spin_headers,
        [
            "spin-base-path",
            "spin-client-addr",
            "spin-component-route",
            "spin-full-url",
            "spin-matched-route",
            "spin-path-info",
            "spin-path-match-path-end",
            "spin-path-match-path-segment",
            "spin-raw-component-route",
        ],
        "{text}"
    );
}
