//! `rotor up --tls-cert FILE --tls-key FILE` serves HTTPS, HTTP/1.1 or HTTP/2 as the client
//! negotiates, and the guest sees the `https` scheme. The certificate and the CA that signs
//! it are made in the test, with `openssl`.

#[path = "../../host/tests/common/mod.rs"]
mod common;
mod served;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode, Version};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use served::serve;

/// A test CA (`ca.pem`) and a certificate it signed for `localhost` and 127.0.0.1
/// (`cert.pem`, key `cert.key`), written into `dir`; `None` (after saying so) where there is
/// no `openssl` and this is not CI.
fn make_certificate(dir: &Path) -> Option<()> {
    let made = common::make_test_ca(dir)
        .and_then(|()| common::make_test_certificate(dir, "cert", "DNS:localhost,IP:127.0.0.1"));
    match made {
        Ok(()) => Some(()),
        Err(error) => {
            let why = format!("openssl could not make a test certificate: {error}");
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}

/// A TLS client that trusts the test CA and offers `alpn`.
fn connector(dir: &Path, alpn: &[u8]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.join("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

fn rotor_up_tls(dir: &Path, app: &Path) -> served::Served {
    common::guests();
    serve(
        Command::new(env!("CARGO_BIN_EXE_rotor"))
            .args(["up", "--no-cache", "--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(dir.join("cert.pem"))
            .arg("--tls-key")
            .arg(dir.join("cert.key"))
            .arg(app),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_http1_and_http2_and_the_guest_sees_https() {
    let certs = tempfile::tempdir().unwrap();
    if make_certificate(certs.path()).is_none() {
        return;
    }
    let app = common::app_dir(&common::probe_manifest(""));
    let served = rotor_up_tls(certs.path(), app.path());
    let server_name = ServerName::try_from("localhost").unwrap();

    // HTTP/1.1.
    let tcp = tokio::net::TcpStream::connect(served.address)
        .await
        .unwrap();
    let tls = connector(certs.path(), b"http/1.1")
        .connect(server_name.clone(), tcp)
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = Request::get("/one/headers")
        .header("host", format!("localhost:{}", served.address.port()))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_11);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    let full_url = format!("https://localhost:{}/one/headers", served.address.port());
    assert!(
        text.contains(&format!("spin-full-url: {full_url}")),
        "{text}"
    );
    assert!(text.contains(&format!("uri: {full_url}")), "{text}");

    // HTTP/2, negotiated with ALPN.
    let tcp = tokio::net::TcpStream::connect(served.address)
        .await
        .unwrap();
    let tls = connector(certs.path(), b"h2")
        .connect(server_name, tcp)
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = Request::get(format!(
        "https://localhost:{}/two/headers",
        served.address.port()
    ))
    .body(Empty::<Bytes>::new())
    .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_2);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(
        String::from_utf8_lossy(&body).contains("spin-full-url: https://"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[test]
fn a_key_that_is_not_pem_stops_rotor_up_naming_the_file() {
    let certs = tempfile::tempdir().unwrap();
    if make_certificate(certs.path()).is_none() {
        return;
    }
    std::fs::write(certs.path().join("key.pem"), "not a key").unwrap();
    let app = common::app_dir(&common::probe_manifest(""));
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["up", "--no-cache", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(certs.path().join("cert.pem"))
        .arg("--tls-key")
        .arg(certs.path().join("key.pem"))
        .arg(app.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--tls-key"), "{stderr}");
    assert!(stderr.contains("key.pem"), "{stderr}");
}
