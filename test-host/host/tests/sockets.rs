//! `wasi:sockets` TCP under `allowed_outbound_hosts`: the probe connects with Rust's
//! `std::net` to a local echo listener. A granted address (exactly, by CIDR range, through a
//! `{{ variable }}` template) echoes; anything else fails in the guest, and the listener
//! sees no connection at all.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::{Method, StatusCode};
use rotor_spec::client;

/// An echo listener that counts the connections it accepts.
async fn counting_echo() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                let _ = tokio::io::copy(&mut reader, &mut writer).await;
            });
        }
    });
    (address, accepted)
}

async fn connect_through_probe(grants: &str, target: SocketAddr) -> (StatusCode, String) {
    let dir = common::app_dir(&common::probe_manifest(grants));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let response = client::send(address, Method::POST, "/tcp", &[], target.to_string())
        .await
        .unwrap();
    (response.status, response.text())
}

#[tokio::test(flavor = "multi_thread")]
async fn granted_addresses_connect() {
    common::guests();
    let (echo, accepted) = counting_echo().await;
    let port = echo.port();
    let grants = [
        format!("allowed_outbound_hosts = [\"tcp://127.0.0.1:{port}\"]"),
        format!("allowed_outbound_hosts = [\"*://127.0.0.0/24:{port}\"]"),
        format!(
            "allowed_outbound_hosts = [\"tcp://127.0.0.1:{}-{}\"]",
            port - 1,
            port + 1
        ),
        // A CIDR range put together from component variables.
        format!(
            "allowed_outbound_hosts = [\"*://{{{{ net }}}}/{{{{ bits }}}}:{port}\"]\n\
             [component.probe.variables]\nnet = \"127.0.0.0\"\nbits = \"8\""
        ),
    ];
    for (n, grant) in grants.iter().enumerate() {
        let (status, body) = connect_through_probe(grant, echo).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ping"), "{grant}");
        assert_eq!(accepted.load(Ordering::SeqCst), n + 1, "{grant}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ungranted_addresses_fail_in_the_guest_and_nothing_connects() {
    common::guests();
    let (echo, accepted) = counting_echo().await;
    let port = echo.port();
    let grants = [
        String::new(),
        format!("allowed_outbound_hosts = [\"tcp://127.0.0.2:{port}\"]"),
        format!(
            "allowed_outbound_hosts = [\"tcp://127.0.0.1:{}\"]",
            port + 1
        ),
        format!("allowed_outbound_hosts = [\"*://10.0.0.0/8:{port}\"]"),
        // The scheme is part of the grant: UDP and HTTP grants do not open TCP.
        format!("allowed_outbound_hosts = [\"udp://127.0.0.1:{port}\"]"),
        format!("allowed_outbound_hosts = [\"http://127.0.0.1:{port}\"]"),
    ];
    for grant in &grants {
        let (status, body) = connect_through_probe(grant, echo).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{grant}: {body}");
        assert!(body.starts_with("PermissionDenied"), "{grant}: {body}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

/// A name lookup is traffic too (and DNS can carry data out): only names that some entry
/// grants are looked up. `client::send` names the target by host name here, so the probe's
/// `std::net` resolves `localhost` through `wasi:sockets/ip-name-lookup`.
#[tokio::test(flavor = "multi_thread")]
async fn only_granted_names_are_looked_up() {
    common::guests();
    let (echo, accepted) = counting_echo().await;
    let port = echo.port();
    let connect = |grants: String| async move {
        let dir = common::app_dir(&common::probe_manifest(&grants));
        let address = common::serve(dir.path(), common::test_engine()).await;
        let response = client::send(
            address,
            Method::POST,
            "/tcp",
            &[],
            format!("localhost:{port}"),
        )
        .await
        .unwrap();
        (response.status, response.text())
    };

    // The address is granted, the name is not: the lookup fails and nothing connects.
    let (status, body) = connect(format!(
        "allowed_outbound_hosts = [\"tcp://127.0.0.1:{port}\", \"https://example.com\"]"
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "{body}");

    // Naming the host in any entry lets its lookup through; the connection still needs its
    // address granted.
    let (status, body) = connect(format!(
        "allowed_outbound_hosts = [\"tcp://127.0.0.1:{port}\", \"tcp://localhost:{port}\"]"
    ))
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ping"));
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}
