//! A server whose trigger is swapped (`rotor watch`'s rebuilds) keeps its connections: one
//! that was accepted before the swap, whether it had sent a request or not yet, is answered
//! by the new version instead of being closed under its client.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rotor_host::triggers::http::{HttpTrigger, TriggerSwitch};

/// The HTTP trigger of an app that routes `/...` to the guest `crate_name`.
async fn trigger_of(crate_name: &str) -> (Arc<HttpTrigger>, tempfile::TempDir) {
    let dir = common::app_dir(&common::one_route_manifest(
        "/...",
        &common::guest(crate_name),
    ));
    let mut app = common::load_app(dir.path(), common::test_engine(), &Default::default())
        .await
        .unwrap();
    (app.take_http().unwrap(), dir)
}

/// A keep-alive HTTP/1.1 connection to `address`.
async fn connect(address: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

async fn get_hello(sender: &mut SendRequest<Empty<Bytes>>) -> (StatusCode, String) {
    let request = Request::get("/hello")
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap();
    let response = sender
        .send_request(request)
        .await
        .expect("the connection was closed");
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_open_before_a_swap_are_answered_by_the_new_version() {
    let (hello, _hello_dir) = trigger_of("http-hello").await;
    let (router, _router_dir) = trigger_of("http-router").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let switch = Arc::new(TriggerSwitch::new(hello));
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn({
        let switch = switch.clone();
        async move {
            switch
                .serve(listener, None, async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
        }
    });

    let mut used = connect(address).await;
    assert_eq!(
        get_hello(&mut used).await,
        (StatusCode::OK, "Hello, world!\n".to_owned())
    );
    // Accepted by the server, with no request on it yet.
    let mut fresh = connect(address).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    switch.replace(router);
    // The router has no `/hello`: a 404 is its answer, on the same connections.
    assert_eq!(get_hello(&mut used).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get_hello(&mut fresh).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get_hello(&mut connect(address).await).await.0,
        StatusCode::NOT_FOUND
    );

    stop.send(true).unwrap();
    server.await.unwrap().unwrap();
}
