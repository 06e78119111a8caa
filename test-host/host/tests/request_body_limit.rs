//! `--max-request-body`: a component never gets more of a request body than the limit. A
//! body that declares a larger length is refused before any guest runs; one that streams past
//! it is cut off for the guest and answered 413. Bodies within it arrive whole.

mod common;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt as _, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use rotor_host::engine::{Engine, EngineConfig};

const LIMIT: u64 = 64 * 1024;

fn limited_engine() -> Arc<Engine> {
    Engine::new(EngineConfig {
        request_deadline: std::time::Duration::from_secs(5),
        max_instance_memory: 64 << 20,
        cache_dir: None,
        max_request_body: Some(LIMIT),
        ..EngineConfig::default()
    })
    .unwrap()
}

/// POSTs `size` bytes to `/echo` in chunks of 8 KiB, without a `Content-Length`.
async fn post_chunked(address: std::net::SocketAddr, size: usize) -> (StatusCode, Bytes) {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let chunks: Vec<Result<Frame<Bytes>, Infallible>> = (0..size.div_ceil(8192))
        .map(|n| {
            let length = 8192.min(size - n * 8192);
            Ok(Frame::data(Bytes::from(vec![b'x'; length])))
        })
        .collect();
    let body = StreamBody::new(futures_util::stream::iter(chunks));
    let request = http::Request::post("/echo")
        .header("host", "limits")
        .body(body)
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_are_answered_413() {
    let dir = common::app_dir(&common::probe_manifest(""));
    let address = common::serve(dir.path(), limited_engine()).await;
    let limit = LIMIT as usize;

    // Within the limit, either way of sending arrives whole.
    let within = vec![b'y'; limit];
    let response =
        rotor_spec::client::send(address, http::Method::POST, "/echo", &[], within.clone())
            .await
            .unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body.len(), limit);
    let (status, body) = post_chunked(address, limit).await;
    assert_eq!((status, body.len()), (StatusCode::OK, limit));

    // A declared length over the limit is refused at once.
    let over = vec![b'y'; limit + 1];
    let response = rotor_spec::client::send(address, http::Method::POST, "/echo", &[], over)
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);

    // A streamed body is cut off where it passes the limit.
    let (status, _) = post_chunked(address, 4 * limit).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let response = rotor_spec::client::get(address, "/ok").await.unwrap();
    assert_eq!(response.text(), "fine");
}

/// Without the flag there is no limit, as in Spin.
#[tokio::test(flavor = "multi_thread")]
async fn no_limit_by_default() {
    let dir = common::app_dir(&common::probe_manifest(""));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let (status, body) = post_chunked(address, 4 << 20).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 4 << 20));
}
