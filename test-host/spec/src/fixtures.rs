//! Small local servers that stand in for an app's neighbours while it is tested: an HTTP
//! backend with canned answers and a HashiCorp Vault that serves KV v2 reads. `rotor test`
//! starts them for a spec's preconditions; the host's own tests use them too.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Deserialize;

/// A name part no other run, in this process or another, is using now: the process id, a
/// counter and the clock's nanoseconds, joined by `_`. Tables, databases, keys and channels
/// that tests share on real servers end with one, so that runs can go in parallel.
pub fn run_id() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// What a fixture does with one request.
pub enum Reply {
    /// Answer with this response.
    Respond(Response<Bytes>),
    /// Never answer (the connection stays open): a backend that hangs.
    Hang,
}

/// Decides the reply to each request; the request's body has been read whole.
pub type Handler = Arc<dyn Fn(&Request<Bytes>) -> Reply + Send + Sync>;

/// A running fixture; it stops when dropped.
pub struct FixtureServer {
    address: SocketAddr,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FixtureServer {
    /// Serves `handler` on an ephemeral port of 127.0.0.1.
    pub async fn start(handler: Handler) -> std::io::Result<FixtureServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let handler = handler.clone();
                        let counter = counter.clone();
                        async move {
                            counter.fetch_add(1, Ordering::SeqCst);
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes());
                            let request = Request::from_parts(parts, body.unwrap_or_default());
                            let reply = handler(&request);
                            let response = match reply {
                                Reply::Respond(response) => response,
                                Reply::Hang => {
                                    tokio::time::sleep(Duration::from_secs(3600)).await;
                                    Response::new(Bytes::new())
                                }
                            };
                            Ok::<_, Infallible>(response.map(Full::new))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(FixtureServer {
            address,
            hits,
            task,
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// How many requests it has received.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One canned answer of an HTTP backend fixture, as a conformance spec writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedRoute {
    /// The method it answers; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// The exact path (without the query) it answers.
    pub path: String,
    /// The status; 200 by default.
    #[serde(default = "ok")]
    pub status: u16,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body as text.
    #[serde(default)]
    pub body: Option<String>,
    /// The body as JSON (sent with `content-type: application/json`).
    #[serde(default)]
    pub json: Option<serde_json::Value>,
}

fn ok() -> u16 {
    200
}

/// A backend that answers each request with the first matching canned route, else 404.
pub fn canned(routes: Vec<CannedRoute>) -> Handler {
    Arc::new(move |request| {
        let route = routes.iter().find(|route| {
            route.path == request.uri().path()
                && route
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(request.method().as_str()))
        });
        let Some(route) = route else {
            return Reply::Respond(text(StatusCode::NOT_FOUND, "no such canned route"));
        };
        let mut builder = Response::builder().status(route.status);
        for (name, value) in &route.headers {
            builder = builder.header(name, value);
        }
        let body = match (&route.json, &route.body) {
            (Some(json), _) => {
                builder = builder.header("content-type", "application/json");
                Bytes::from(json.to_string())
            }
            (None, Some(body)) => Bytes::from(body.clone()),
            (None, None) => Bytes::new(),
        };
        Reply::Respond(
            builder
                .body(body)
                .unwrap_or_else(|e| text(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())),
        )
    })
}

/// An HTTP echo server: answers every request with status 200, `content-type: text/plain`
/// and the request's own body (the `http-echo` precondition of Spin's suite).
pub fn echo() -> Handler {
    Arc::new(|request| {
        let mut response = Response::new(request.body().clone());
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain"),
        );
        Reply::Respond(response)
    })
}

/// A TCP echo server on an ephemeral port of 127.0.0.1 (the `tcp-echo` precondition of
/// Spin's suite): every connection gets back what it sends. It stops when dropped.
pub struct TcpEchoServer {
    address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TcpEchoServer {
    /// Starts listening.
    pub async fn start() -> std::io::Result<TcpEchoServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut reader, mut writer) = stream.split();
                    let _ = tokio::io::copy(&mut reader, &mut writer).await;
                });
            }
        });
        Ok(TcpEchoServer { address, task })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for TcpEchoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A Vault that serves `GET /v1/{mount}/data/{path}` (KV version 2) from `secrets` (path →
/// value, served as the secret's `value` field) to requests carrying `token` in
/// `X-Vault-Token`; 403 for any other token, 404 for unknown paths.
pub fn fake_vault(token: &str, mount: &str, secrets: BTreeMap<String, String>) -> Handler {
    let token = token.to_owned();
    let prefix = format!("/v1/{}/data/", mount.trim_matches('/'));
    Arc::new(move |request| {
        let given = request.headers().get("x-vault-token").map(|v| v.as_bytes());
        if given != Some(token.as_bytes()) {
            return Reply::Respond(json(
                StatusCode::FORBIDDEN,
                serde_json::json!({ "errors": ["permission denied"] }),
            ));
        }
        let secret = request
            .uri()
            .path()
            .strip_prefix(&prefix)
            .and_then(|path| secrets.get(path));
        match secret {
            Some(value) if request.method() == http::Method::GET => Reply::Respond(json(
                StatusCode::OK,
                serde_json::json!({
                    "data": { "data": { "value": value }, "metadata": { "version": 1 } }
                }),
            )),
            _ => Reply::Respond(json(
                StatusCode::NOT_FOUND,
                serde_json::json!({ "errors": [] }),
            )),
        }
    })
}

fn text(status: StatusCode, body: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body.to_owned()));
    *response.status_mut() = status;
    response
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Bytes> {
    let mut response = text(status, &body.to_string());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The database servers a spec may ask for, and where Rotor looks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseServer {
    /// PostgreSQL on 127.0.0.1:5432, user `postgres`, trust authentication.
    Postgres,
    /// MySQL or MariaDB on 127.0.0.1:3306, user `root` without a password.
    Mysql,
}

impl DatabaseServer {
    /// The service's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            DatabaseServer::Postgres => "PostgreSQL",
            DatabaseServer::Mysql => "MySQL/MariaDB",
        }
    }

    /// The port it listens on.
    pub fn port(self) -> u16 {
        match self {
            DatabaseServer::Postgres => 5432,
            DatabaseServer::Mysql => 3306,
        }
    }

    /// `host:port` of the server.
    pub fn socket_address(self) -> &'static str {
        match self {
            DatabaseServer::Postgres => "127.0.0.1:5432",
            DatabaseServer::Mysql => "127.0.0.1:3306",
        }
    }

    fn admin_url(self, database: &str) -> String {
        match self {
            DatabaseServer::Postgres => format!("postgres://postgres@127.0.0.1:5432/{database}"),
            DatabaseServer::Mysql => format!("mysql://root@127.0.0.1:3306/{database}"),
        }
    }

    /// Whether the server accepts connections.
    pub fn is_running(self) -> bool {
        std::net::TcpStream::connect_timeout(
            &self
                .socket_address()
                .parse()
                .expect("a valid socket address"),
            Duration::from_secs(1),
        )
        .is_ok()
    }
}

/// A database of its own for one spec run, created empty on a real server and dropped by
/// [`ScratchDatabase::remove`].
pub struct ScratchDatabase {
    server: DatabaseServer,
    name: String,
}

impl ScratchDatabase {
    /// Creates a fresh database on `server` and runs `sql` (any number of statements) in it.
    pub async fn create(server: DatabaseServer, sql: &str) -> anyhow::Result<ScratchDatabase> {
        ScratchDatabase::create_named(server, &format!("rotor_spec_{}", run_id()), sql).await
    }

    /// Creates database `name` on `server` afresh, dropping any database of that name first,
    /// and runs `sql` in it. For suites that expect a fixed name, such as Spin's `spin_dev`.
    pub async fn create_named(
        server: DatabaseServer,
        name: &str,
        sql: &str,
    ) -> anyhow::Result<ScratchDatabase> {
        use anyhow::Context as _;
        if !server.is_running() {
            anyhow::bail!(
                "this spec needs {} at {}, and nothing answers there",
                server.name(),
                server.socket_address()
            );
        }
        let scratch = ScratchDatabase {
            server,
            name: name.to_owned(),
        };
        match server {
            DatabaseServer::Postgres => {
                let admin = postgres_client(&server.admin_url("postgres")).await?;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .with_context(|| format!("dropping an earlier PostgreSQL database {name}"))?;
                admin
                    .batch_execute(&format!("CREATE DATABASE {}", scratch.name))
                    .await
                    .context("creating a scratch PostgreSQL database")?;
                let client = postgres_client(&scratch.url()).await?;
                client
                    .batch_execute(sql)
                    .await
                    .context("running the spec's PostgreSQL statements")?;
            }
            DatabaseServer::Mysql => {
                use mysql_async::prelude::Queryable as _;
                let mut admin = mysql_async::Conn::from_url(server.admin_url("")).await?;
                admin
                    .query_drop(format!("DROP DATABASE IF EXISTS {name}"))
                    .await
                    .with_context(|| format!("dropping an earlier MySQL database {name}"))?;
                admin
                    .query_drop(format!("CREATE DATABASE {}", scratch.name))
                    .await
                    .context("creating a scratch MySQL database")?;
                let mut conn = mysql_async::Conn::from_url(scratch.url()).await?;
                conn.query_drop(sql)
                    .await
                    .context("running the spec's MySQL statements")?;
                let _ = conn.disconnect().await;
                let _ = admin.disconnect().await;
            }
        }
        Ok(scratch)
    }

    /// The address an app connects to it with.
    pub fn url(&self) -> String {
        self.server.admin_url(&self.name)
    }

    /// Drops the database.
    pub async fn remove(self) -> anyhow::Result<()> {
        match self.server {
            DatabaseServer::Postgres => {
                let admin = postgres_client(&self.server.admin_url("postgres")).await?;
                admin
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ))
                    .await?;
            }
            DatabaseServer::Mysql => {
                use mysql_async::prelude::Queryable as _;
                let mut admin = mysql_async::Conn::from_url(self.server.admin_url("")).await?;
                admin
                    .query_drop(format!("DROP DATABASE IF EXISTS {}", self.name))
                    .await?;
                let _ = admin.disconnect().await;
            }
        }
        Ok(())
    }
}

async fn postgres_client(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}
