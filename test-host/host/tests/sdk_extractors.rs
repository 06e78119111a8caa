//! `#[http_component]` hands a handler only the parts of the request its extractors read;
//! a handler that reads every part, each through its own extractor, sees all of them.

mod common;

use bytes::Bytes;
use http::{Method, StatusCode};
use rotor_spec::client;

#[tokio::test(flavor = "multi_thread")]
async fn each_extractor_sees_the_part_it_reads() {
    let dir = common::app_dir(&common::one_route_manifest(
        "/...",
        &common::guest("extractor-probe"),
    ));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let response = client::send(
        address,
        Method::PUT,
        "/echo?a=1&b=two%20words",
        &[("x-probe".to_owned(), "seen".to_owned())],
        Bytes::from_static(b"the body"),
    )
    .await
    .unwrap();
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let echoed: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        echoed,
        serde_json::json!({
            "method": "PUT",
            "uri": format!("http://{address}/echo?a=1&b=two%20words"),
            "query": {"a": "1", "b": "two words"},
            "x-probe": "seen",
            "body": "the body",
        })
    );
}
