//! TLS from the host to services: PostgreSQL's `sslmode`, MySQL's `ssl-mode`, `rediss://`
//! and `mqtts://`, each checked as much as the address says, against a CA the runtime
//! config's `[[client_tls]]` adds. The machine's servers speak plain TCP, so each test puts
//! a TLS-terminating proxy of its own in front of one (speaking PostgreSQL's and MySQL's
//! in-protocol TLS upgrade where those need it), with a CA and certificates made by
//! `openssl` in the test.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

const PG: &str = "127.0.0.1:5432";
const MYSQL: &str = "127.0.0.1:3306";
const REDIS: &str = "127.0.0.1:6379";
const MOSQUITTO: &str = "127.0.0.1:1883";

/// A test CA and two certificates it signed: `good` for `localhost` and 127.0.0.1, and
/// `misnamed` for `db.example` only.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// `None` (after saying so) where there is no `openssl` and this is not CI.
    fn make() -> Option<Pki> {
        let dir = tempfile::tempdir().unwrap();
        let made = common::make_test_ca(dir.path())
            .and_then(|()| {
                common::make_test_certificate(dir.path(), "good", "DNS:localhost,IP:127.0.0.1")
            })
            .and_then(|()| common::make_test_certificate(dir.path(), "misnamed", "DNS:db.example"));
        match made {
            Ok(()) => Some(Pki { dir }),
            Err(error) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("openssl could not make the test certificates: {error}")
            }
            Err(error) => {
                eprintln!("SKIPPED: openssl could not make the test certificates: {error}");
                None
            }
        }
    }

    fn ca(&self) -> std::path::PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A TLS server presenting certificate `name`.
    fn acceptor(&self, name: &str) -> TlsAcceptor {
        let chain = CertificateDer::pem_file_iter(self.dir.path().join(format!("{name}.pem")))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key =
            PrivateKeyDer::from_pem_file(self.dir.path().join(format!("{name}.key"))).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }

    /// A runtime config whose `[[client_tls]]` has the probe trust this CA at 127.0.0.1.
    fn runtime_config(&self) -> String {
        format!(
            "[[client_tls]]\ncomponent_ids = [\"probe\"]\nhosts = [\"127.0.0.1\"]\nca_roots_file = \"{}\"\n",
            self.ca().display()
        )
    }
}

/// What a proxy speaks to its clients before the bytes it relays.
#[derive(Clone, Copy)]
enum Front {
    /// TLS from the first byte (`rediss://`, `mqtts://`).
    Tls,
    /// PostgreSQL's `SSLRequest`, answered `S` and followed by TLS; a client that does not
    /// ask is turned away.
    PostgresTls,
    /// PostgreSQL's `SSLRequest`, answered `N`: a server without TLS.
    PostgresPlain,
    /// MySQL's handshake with the SSL capability added, then TLS.
    MysqlTls,
}

/// A proxy on a port of its own in front of `upstream`; the port, and how many TLS sessions
/// it has set up.
async fn proxy(
    front: Front,
    upstream: &'static str,
    acceptor: TlsAcceptor,
) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sessions = Arc::new(AtomicUsize::new(0));
    let counted = sessions.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (acceptor, sessions) = (acceptor.clone(), counted.clone());
            tokio::spawn(async move {
                let _ = relay(front, client, upstream, acceptor, sessions).await;
            });
        }
    });
    (port, sessions)
}

const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

async fn relay(
    front: Front,
    mut client: TcpStream,
    upstream: &str,
    acceptor: TlsAcceptor,
    sessions: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let mut server = TcpStream::connect(upstream).await?;
    match front {
        Front::Tls => {
            let mut client = acceptor.accept(client).await?;
            sessions.fetch_add(1, Ordering::SeqCst);
            tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        }
        Front::PostgresTls | Front::PostgresPlain => {
            let mut first = [0; 8];
            client.read_exact(&mut first).await?;
            match (front, first == SSL_REQUEST) {
                (Front::PostgresTls, true) => {
                    client.write_all(b"S").await?;
                    let mut client = acceptor.accept(client).await?;
                    sessions.fetch_add(1, Ordering::SeqCst);
                    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
                }
                (Front::PostgresPlain, true) => {
                    client.write_all(b"N").await?;
                    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
                }
                (Front::PostgresPlain, false) => {
                    server.write_all(&first).await?;
                    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
                }
                // This server takes TLS only.
                _ => {}
            }
        }
        Front::MysqlTls => mysql_relay(client, server, acceptor, sessions).await?,
    }
    Ok(())
}

async fn read_packet(from: &mut (impl AsyncRead + Unpin)) -> std::io::Result<(u8, Vec<u8>)> {
    let mut header = [0; 4];
    from.read_exact(&mut header).await?;
    let length = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let mut payload = vec![0; length];
    from.read_exact(&mut payload).await?;
    Ok((header[3], payload))
}

async fn write_packet(
    to: &mut (impl AsyncWrite + Unpin),
    sequence: u8,
    payload: &[u8],
) -> std::io::Result<()> {
    let length = (payload.len() as u32).to_le_bytes();
    to.write_all(&[length[0], length[1], length[2], sequence])
        .await?;
    to.write_all(payload).await?;
    to.flush().await
}

/// MySQL's TLS upgrade in front of a server without TLS: the server's greeting gains the
/// SSL capability; the client's SSL request is answered with TLS; its handshake response
/// loses the capability and goes on one sequence number lower, and until the server has
/// said OK or ERR, every packet's sequence number is shifted by the one packet the server
/// never saw.
async fn mysql_relay(
    client: TcpStream,
    mut server: TcpStream,
    acceptor: TlsAcceptor,
    sessions: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    const CLIENT_SSL_HIGH_BYTE: u8 = 0x08;
    let mut client = client;
    let (sequence, mut greeting) = read_packet(&mut server).await?;
    // protocol version, server version (NUL-terminated), connection id, 8 bytes of
    // scramble, a filler, then the capability flags' lower two bytes (little-endian).
    let version_end = 1 + greeting[1..].iter().position(|&b| b == 0).unwrap() + 1;
    greeting[version_end + 4 + 8 + 1 + 1] |= CLIENT_SSL_HIGH_BYTE;
    write_packet(&mut client, sequence, &greeting).await?;
    let (_, ssl_request) = read_packet(&mut client).await?;
    if ssl_request.len() != 32 {
        return Ok(()); // not an SSL request: this server takes TLS only
    }
    let client = acceptor.accept(client).await?;
    sessions.fetch_add(1, Ordering::SeqCst);
    let (mut client_reads, mut client_writes) = tokio::io::split(client);
    let (mut server_reads, mut server_writes) = server.into_split();
    let authenticated = Arc::new(AtomicBool::new(false));
    let done = authenticated.clone();
    let upward = tokio::spawn(async move {
        let (sequence, mut response) = read_packet(&mut client_reads).await?;
        response[1] &= !CLIENT_SSL_HIGH_BYTE;
        write_packet(&mut server_writes, sequence - 1, &response).await?;
        loop {
            let (sequence, packet) = read_packet(&mut client_reads).await?;
            let sequence = if done.load(Ordering::SeqCst) {
                sequence
            } else {
                sequence - 1
            };
            write_packet(&mut server_writes, sequence, &packet).await?;
        }
        #[allow(unreachable_code)]
        Ok::<_, std::io::Error>(())
    });
    let result = async {
        loop {
            let (sequence, packet) = read_packet(&mut server_reads).await?;
            let sequence = if authenticated.load(Ordering::SeqCst) {
                sequence
            } else {
                if matches!(packet.first(), Some(0x00 | 0xff)) {
                    authenticated.store(true, Ordering::SeqCst);
                }
                sequence + 1
            };
            write_packet(&mut client_writes, sequence, &packet).await?;
        }
        #[allow(unreachable_code)]
        Ok::<_, std::io::Error>(())
    }
    .await;
    upward.abort();
    result
}

async fn serve_probe(
    grants: &str,
    runtime_config: Option<&str>,
) -> (SocketAddr, tempfile::TempDir) {
    common::serve_manifest(
        &common::probe_manifest(grants),
        runtime_config,
        Default::default(),
    )
    .await
}

/// `SELECT 1` through the probe's `/rdbms/{db}` route at `database`: the probe's status and
/// JSON.
async fn select_one(app: SocketAddr, db: &str, database: &str) -> (StatusCode, Value) {
    let call =
        json!({"address": database, "statement": "SELECT 1", "params": [], "execute": false});
    common::post_json(app, &format!("/rdbms/{db}"), &call).await
}

fn assert_ok((status, body): (StatusCode, Value), what: &str) {
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
}

/// Asserts a `connection-failed` whose message has `needle` (in any case).
fn assert_refused((status, body): (StatusCode, Value), what: &str, needle: &str) {
    assert_ne!(status, StatusCode::OK, "{what} should have failed: {body}");
    assert_eq!(body["error"], "connection-failed", "{what}: {body}");
    let message = body["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(message.contains(needle), "{what}: {needle:?} not in {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_uses_tls_and_checks_the_certificate_as_sslmode_says() {
    let Some(pki) = Pki::make() else { return };
    if !common::service_available("PostgreSQL", PG) {
        return;
    }
    let (good, good_sessions) = proxy(Front::PostgresTls, PG, pki.acceptor("good")).await;
    let (misnamed, _) = proxy(Front::PostgresTls, PG, pki.acceptor("misnamed")).await;
    let (plain, _) = proxy(Front::PostgresPlain, PG, pki.acceptor("good")).await;
    let grants = "allowed_outbound_hosts = [\"postgres://127.0.0.1:*\"]";
    let address =
        |port: u16, mode: &str| format!("postgres://postgres@127.0.0.1:{port}/test?sslmode={mode}");
    let (app, _dir) = serve_probe(grants, Some(&pki.runtime_config())).await;

    assert_ok(
        select_one(app, "pg", &address(good, "require")).await,
        "require",
    );
    assert!(good_sessions.load(Ordering::SeqCst) >= 1, "no TLS session");
    assert_ok(
        select_one(app, "pg", &address(good, "verify-full")).await,
        "verify-full",
    );
    assert_refused(
        select_one(app, "pg", &address(misnamed, "require")).await,
        "require, certificate for another name",
        "not valid for name",
    );
    assert_ok(
        select_one(app, "pg", &address(misnamed, "verify-ca")).await,
        "verify-ca, certificate for another name",
    );
    // A server without TLS: `prefer` goes plain, `require` refuses.
    assert_ok(
        select_one(app, "pg", &address(plain, "prefer")).await,
        "prefer, no TLS",
    );
    assert_refused(
        select_one(app, "pg", &address(plain, "require")).await,
        "require, no TLS",
        "tls",
    );
    // `disable` never asks: a TLS-only server turns it away.
    let sessions_before = good_sessions.load(Ordering::SeqCst);
    assert_refused(
        select_one(app, "pg", &address(good, "disable")).await,
        "disable against a TLS-only server",
        "",
    );
    assert_eq!(good_sessions.load(Ordering::SeqCst), sessions_before);

    // Without the runtime config, the test CA is not trusted: `require` refuses, and
    // `prefer`, which checks nothing, connects over TLS anyway.
    let (untrusting, _dir) = serve_probe(grants, None).await;
    assert_refused(
        select_one(untrusting, "pg", &address(good, "require")).await,
        "require, unknown CA",
        "unknownissuer",
    );
    let sessions_before = good_sessions.load(Ordering::SeqCst);
    assert_ok(
        select_one(untrusting, "pg", &address(good, "prefer")).await,
        "prefer, unknown CA",
    );
    assert_eq!(good_sessions.load(Ordering::SeqCst), sessions_before + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_uses_tls_and_checks_the_certificate_as_ssl_mode_says() {
    let Some(pki) = Pki::make() else { return };
    if !common::service_available("MariaDB", MYSQL) {
        return;
    }
    let (good, good_sessions) = proxy(Front::MysqlTls, MYSQL, pki.acceptor("good")).await;
    let (misnamed, _) = proxy(Front::MysqlTls, MYSQL, pki.acceptor("misnamed")).await;
    let grants = "allowed_outbound_hosts = [\"mysql://127.0.0.1:*\"]";
    // Without `prefer_socket=false`, mysql_async moves a connection to 127.0.0.1 onto the
    // server's Unix socket, past the proxy.
    let address = |port: u16, mode: &str| {
        format!("mysql://root@127.0.0.1:{port}/test?prefer_socket=false&ssl-mode={mode}")
    };
    let (app, _dir) = serve_probe(grants, Some(&pki.runtime_config())).await;

    assert_ok(
        select_one(app, "mysql", &address(good, "REQUIRED")).await,
        "REQUIRED",
    );
    assert!(good_sessions.load(Ordering::SeqCst) >= 1, "no TLS session");
    assert_refused(
        select_one(app, "mysql", &address(misnamed, "VERIFY_IDENTITY")).await,
        "VERIFY_IDENTITY, certificate for another name",
        "not valid for name",
    );
    // mysql_async cannot skip the name check (see `mysql/tls.rs`): the refusal says so.
    assert_refused(
        select_one(app, "mysql", &address(misnamed, "VERIFY_CA")).await,
        "VERIFY_CA, certificate for another name",
        "verify_ca checks the name as well",
    );
    // The machine's MariaDB has no TLS: PREFERRED (the default) goes plain, REQUIRED refuses.
    let direct = 3306;
    assert_ok(
        select_one(app, "mysql", &address(direct, "PREFERRED")).await,
        "PREFERRED, no TLS",
    );
    assert_refused(
        select_one(app, "mysql", &address(direct, "REQUIRED")).await,
        "REQUIRED, no TLS",
        "offers no tls",
    );

    let (untrusting, _dir) = serve_probe(grants, None).await;
    assert_refused(
        select_one(untrusting, "mysql", &address(good, "REQUIRED")).await,
        "REQUIRED, unknown CA",
        "unknownissuer",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rediss_reaches_redis_through_tls_with_the_configured_ca() {
    let Some(pki) = Pki::make() else { return };
    if !common::service_available("Redis", REDIS) {
        return;
    }
    let (port, sessions) = proxy(Front::Tls, REDIS, pki.acceptor("good")).await;
    let grants = format!("allowed_outbound_hosts = [\"rediss://127.0.0.1:{port}\"]");
    let address = format!("rediss://127.0.0.1:{port}");
    let key = common::unique("rotor_rediss");
    let (app, _dir) = serve_probe(&grants, Some(&pki.runtime_config())).await;
    let (status, reply) = common::post_json(
        app,
        "/redis",
        &json!({"address": address, "command": "set", "key": key, "value": "over tls"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert!(sessions.load(Ordering::SeqCst) >= 1, "no TLS session");
    // What went through the proxy is on the real server.
    let mut direct = redis::Client::open(format!("redis://{REDIS}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let stored: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut direct)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("over tls"));

    let (untrusting, _dir) = serve_probe(&grants, None).await;
    let (status, reply) = common::post_json(
        untrusting,
        "/redis",
        &json!({"address": address, "command": "get", "key": key}),
    )
    .await;
    assert_ne!(status, StatusCode::OK, "an unknown CA was trusted: {reply}");
    assert!(
        reply.to_string().to_lowercase().contains("certificate")
            || reply.to_string().to_lowercase().contains("unknownissuer"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mqtts_reaches_the_broker_through_tls_with_the_configured_ca() {
    let Some(pki) = Pki::make() else { return };
    if !common::service_available("Mosquitto", MOSQUITTO) {
        return;
    }
    let (port, sessions) = proxy(Front::Tls, MOSQUITTO, pki.acceptor("good")).await;
    let topic = common::unique("rotor/tls");
    let (_subscriber, mut events) = common::mqtt_subscriber(&topic).await;
    let received = tokio::spawn(async move {
        loop {
            if let rumqttc::Event::Incoming(rumqttc::Packet::Publish(message)) =
                events.poll().await.unwrap()
            {
                return String::from_utf8(message.payload.to_vec()).unwrap();
            }
        }
    });
    let grants = format!("allowed_outbound_hosts = [\"mqtts://127.0.0.1:{port}\"]");
    let address = format!("mqtts://127.0.0.1:{port}");
    let (app, _dir) = serve_probe(&grants, Some(&pki.runtime_config())).await;
    let (status, reply) = common::post_json(
        app,
        "/mqtt",
        &json!({"address": address, "topic": topic, "payload": "over tls", "qos": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert!(sessions.load(Ordering::SeqCst) >= 1, "no TLS session");
    let payload = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .expect("the message did not arrive within 10 s")
        .unwrap();
    assert_eq!(payload, "over tls");

    let (untrusting, _dir) = serve_probe(&grants, None).await;
    assert_refused(
        common::post_json(
            untrusting,
            "/mqtt",
            &json!({"address": address, "topic": topic, "payload": "x", "qos": 1}),
        )
        .await,
        "mqtts, unknown CA",
        "unknownissuer",
    );
}

/// A one-request HTTPS server with certificate `name`: answers `hello over tls`, and counts
/// the requests it got.
async fn https_server(pki: &Pki, name: &str) -> (u16, Arc<AtomicUsize>) {
    let acceptor = pki.acceptor(name);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (acceptor, requests) = (acceptor.clone(), counted.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut byte = [0; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if tls.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                requests.fetch_add(1, Ordering::SeqCst);
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 14\r\nconnection: close\r\n\r\nhello over tls")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, requests)
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_https_trusts_what_client_tls_says_for_the_component_and_host() {
    let Some(pki) = Pki::make() else { return };
    let (port, requests) = https_server(&pki, "good").await;
    let grants = format!("allowed_outbound_hosts = [\"https://127.0.0.1:{port}\"]");
    let call = json!({"url": format!("https://127.0.0.1:{port}/greeting")});

    let (app, _dir) = serve_probe(&grants, Some(&pki.runtime_config())).await;
    let (status, reply) = common::post_json(app, "/outbound", &call).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["status"], 200, "{reply}");
    assert_eq!(reply["body"], "hello over tls", "{reply}");
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    // Without the entry, the test CA is no one's: the handshake fails, no request is made.
    let (untrusting, _dir) = serve_probe(&grants, None).await;
    let (status, reply) = common::post_json(untrusting, "/outbound", &call).await;
    assert_ne!(status, StatusCode::OK, "an unknown CA was trusted: {reply}");
    assert_eq!(requests.load(Ordering::SeqCst), 1, "{reply}");
}
