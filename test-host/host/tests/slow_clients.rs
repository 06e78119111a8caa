//! A client that sends its request headers a byte at a time ("slowloris") is cut off once
//! the header-read timeout passes, instead of holding its connection for good.

mod common;

use std::time::{Duration, Instant};

use rotor_host::triggers::http::HEADER_READ_TIMEOUT;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test(flavor = "multi_thread")]
async fn a_slowloris_client_is_cut_off() {
    let dir = common::app_dir(&common::probe_manifest(""));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let limit = HEADER_READ_TIMEOUT + Duration::from_secs(5);
    let cut_off = loop {
        // One more byte of a header that never ends, each second.
        if stream.write_all(b"a").await.is_err() {
            break true;
        }
        let mut buffer = [0u8; 256];
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            // hyper may answer 408 before it closes; either way the client is done.
            Ok(Ok(_)) => break true,
            Err(_) => {}
        }
        if started.elapsed() > limit {
            break false;
        }
    };
    assert!(cut_off, "still connected after {:?}", started.elapsed());
    assert!(
        started.elapsed() >= HEADER_READ_TIMEOUT - Duration::from_secs(1),
        "cut off too early: {:?}",
        started.elapsed()
    );

    // Other clients are served meanwhile and after.
    let response = rotor_spec::client::get(address, "/ok").await.unwrap();
    assert_eq!(response.status, 200);
}

/// A keep-alive connection that sends nothing after its first request is closed by the same
/// timeout, instead of holding a socket for good.
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_keep_alive_connection_is_closed() {
    let dir = common::app_dir(&common::probe_manifest(""));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nHost: idle\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    // The whole answer: a body of known length, or the last chunk of a chunked one.
    let complete = |answer: &[u8]| {
        let text = String::from_utf8_lossy(answer);
        text.contains("fine") && (text.ends_with("fine") || text.ends_with("0\r\n\r\n"))
    };
    while !complete(&answer) {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "closed before the answer");
        answer.extend_from_slice(&buffer[..read]);
    }
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));

    // Now idle: the host must close its end.
    let started = Instant::now();
    let closed = tokio::time::timeout(HEADER_READ_TIMEOUT + Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an idle connection stayed open");
    assert!(
        started.elapsed() >= HEADER_READ_TIMEOUT - Duration::from_secs(1),
        "closed too early: {:?}",
        started.elapsed()
    );
}
