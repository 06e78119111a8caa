//! Unit tests for Rotor and Spin apps, from ordinary `cargo test`.
//!
//! [`VirtualHost`] loads an app from its `spin.toml` and runs its built components as
//! `rotor up` would, except that nothing leaves the process:
//!
//! - key-value stores are in memory, and a test seeds them ([`VirtualHostBuilder::key_value`])
//!   and reads them ([`VirtualHost::key_value`]);
//! - SQLite databases are in memory too; a test seeds them with SQL
//!   ([`VirtualHostBuilder::sqlite`]) and reads them ([`VirtualHost::sqlite`]);
//! - variables come from the manifest's defaults and [`VirtualHostBuilder::variable`], never
//!   from the environment;
//! - outbound HTTP, PostgreSQL, MySQL, Redis and MQTT calls are answered by stubs
//!   ([`stubs`]); a call no stub answers fails in the guest *and* fails the test, naming the
//!   call and the stub that would answer it;
//! - raw sockets (`wasi:sockets`) have no stand-in and are refused.
//!
//! Every write, statement, request and message is recorded ([`HostCall`]); [`Calls`] asserts
//! on them and prints a diff when they differ. The manifest's grants still hold: a component
//! reaches only the stores, databases and hosts its manifest entry lists, so a unit test also
//! catches a grant the app forgot.
//!
//! ```no_run
//! use rotor_test::{stubs::HttpStub, VirtualHost};
//!
//! let host = VirtualHost::builder(env!("CARGO_MANIFEST_DIR"))
//!     .variable("api_base", "https://api.example.com")
//!     .stub(HttpStub::get("https://api.example.com/users/*").json(&serde_json::json!({"name": "Ada"})))
//!     .load()
//!     .unwrap();
//! let response = host.get("/users/1");
//! response.assert_status(200);
//! host.calls().assert_lines(&["http GET https://api.example.com/users/1"]);
//! ```
//!
//! The host drives its own runtime, so its methods block: call them from plain `#[test]`
//! functions, not from inside an async runtime (`#[tokio::test]`), where blocking would panic.
//!
//! The components must be built first (`cargo build --target wasm32-wasip2 --release`, or
//! [`VirtualHostBuilder::build_first`]); compiled code is cached, so after the first test a
//! host loads in milliseconds.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod calls;
mod response;
mod services;
pub mod stubs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use rotor_host::capabilities::StateOptions;
use rotor_host::engine::{Engine, EngineConfig};
use rotor_host::manifest::Manifest;
use rotor_host::{App, AppOptions};

pub use calls::{Calls, HostCall};
pub use response::TestResponse;
pub use rotor_host::capabilities::virtual_services::{
    HttpCall, HttpFailure, MqttCall, RedisCall, RedisReply, SqlCall, SqlValue,
};
use services::Recorder;
pub use stubs::Stub;

/// How to load an app into a [`VirtualHost`].
pub struct VirtualHostBuilder {
    manifest: PathBuf,
    variables: BTreeMap<String, String>,
    key_values: Vec<(String, String, Vec<u8>)>,
    sqlite: Vec<(String, String)>,
    stubs: Vec<Stub>,
    build_first: bool,
    allow_unstubbed: bool,
    request_deadline: Option<Duration>,
}

impl VirtualHostBuilder {
    /// Sets variable `name` (as `rotor up --variable` does): it comes before the manifest's
    /// default.
    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.variables.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Puts `value` under `key` in key-value store `store` before the app starts; not
    /// recorded as a call.
    pub fn key_value(mut self, store: &str, key: &str, value: impl Into<Vec<u8>>) -> Self {
        self.key_values
            .push((store.to_owned(), key.to_owned(), value.into()));
        self
    }

    /// Runs `sql` (one or more statements) on SQLite database `database` before the app
    /// starts: a schema, rows. Not recorded as a call.
    pub fn sqlite(mut self, database: &str, sql: &str) -> Self {
        self.sqlite.push((database.to_owned(), sql.to_owned()));
        self
    }

    /// Adds a stub for outbound calls ([`stubs`]); later ones take precedence.
    pub fn stub(mut self, stub: impl Into<Stub>) -> Self {
        self.stubs.push(stub.into());
        self
    }

    /// Runs the components' `[component.NAME.build]` commands before loading, once per
    /// manifest per test process.
    pub fn build_first(mut self) -> Self {
        self.build_first = true;
        self
    }

    /// Lets calls no stub answers go by (the guest still gets its error) instead of failing
    /// the test: for tests of how an app copes with a server that is not there.
    pub fn allow_unstubbed_calls(mut self) -> Self {
        self.allow_unstubbed = true;
        self
    }

    /// How long one request or message may run (the engine's default otherwise).
    pub fn request_deadline(mut self, deadline: Duration) -> Self {
        self.request_deadline = Some(deadline);
        self
    }

    /// Loads the app: reads its manifest, compiles (or takes from the cache) and links its
    /// components, fills its variables and seeds its stores.
    pub fn load(self) -> anyhow::Result<VirtualHost> {
        let manifest_path = rotor_host::manifest::locate(&self.manifest);
        let manifest = Manifest::load(&manifest_path)?;
        if self.build_first {
            build_once(&manifest)?;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the virtual host's runtime")?;
        let engine = match self.request_deadline {
            None => shared_engine()?,
            Some(deadline) => Engine::new(EngineConfig {
                request_deadline: deadline,
                ..EngineConfig::default()
            })?,
        };
        let recorder = Recorder::new();
        for stub in self.stubs {
            recorder.add_stub(stub);
        }
        for (store, key, value) in self.key_values {
            recorder.store(&store).seed(&key, value);
        }
        // Stores and databases are in memory; this holds whatever else an app keeps.
        let state_dir = tempfile::tempdir().context("a directory for the app's state")?;
        let options = AppOptions {
            engine,
            state: StateOptions {
                state_dir: Some(state_dir.path().to_owned()),
                environment: Some(BTreeMap::new()),
                variables: self.variables,
                virtual_services: Some(recorder.clone()),
                ..StateOptions::default()
            },
        };
        let app = runtime.block_on(App::load(&manifest, &options))?;
        for (database, sql) in &self.sqlite {
            let found = app
                .capabilities()
                .sqlite_database(database)
                .with_context(|| {
                    format!(
                        "{}: no component uses SQLite database `{database}`",
                        manifest_path.display()
                    )
                })?;
            found
                .run_script(sql)
                .map_err(|e| anyhow::anyhow!("seeding SQLite database `{database}`: {e}"))?;
        }
        Ok(VirtualHost {
            app,
            recorder,
            allow_unstubbed: self.allow_unstubbed,
            _state_dir: state_dir,
            runtime,
        })
    }
}

/// The engine every virtual host with the default deadline shares: one compiled-code cache
/// in memory and on disk for the whole test process.
fn shared_engine() -> anyhow::Result<Arc<Engine>> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine.clone());
    }
    let engine = Engine::new(EngineConfig::default())?;
    Ok(ENGINE.get_or_init(|| engine).clone())
}

/// Runs a manifest's build commands, once per manifest per process.
fn build_once(manifest: &Manifest) -> anyhow::Result<()> {
    static BUILT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if built.contains(&manifest.path) {
        return Ok(());
    }
    rotor_host::build::build_all(manifest)?;
    built.push(manifest.path.clone());
    Ok(())
}

/// An app loaded with virtual stores and servers; see the crate's documentation.
pub struct VirtualHost {
    app: App,
    recorder: Arc<Recorder>,
    allow_unstubbed: bool,
    _state_dir: tempfile::TempDir,
    // Last, so that the app's tasks end before their runtime does.
    runtime: tokio::runtime::Runtime,
}

impl VirtualHost {
    /// Starts loading the app whose manifest is `app` (a `spin.toml`, or the directory that
    /// holds one).
    pub fn builder(app: impl AsRef<Path>) -> VirtualHostBuilder {
        VirtualHostBuilder {
            manifest: app.as_ref().to_owned(),
            variables: BTreeMap::new(),
            key_values: Vec::new(),
            sqlite: Vec::new(),
            stubs: Vec::new(),
            build_first: false,
            allow_unstubbed: false,
            request_deadline: None,
        }
    }

    /// Loads the app at `app` with nothing seeded and nothing stubbed.
    pub fn load(app: impl AsRef<Path>) -> anyhow::Result<VirtualHost> {
        VirtualHost::builder(app).load()
    }

    /// Sends `request` to the app's HTTP routes. Panics (failing the test) when the app made
    /// a call no stub answered, unless [`VirtualHostBuilder::allow_unstubbed_calls`].
    #[track_caller]
    pub fn request(&self, request: http::Request<impl Into<Bytes>>) -> TestResponse {
        let Some(http) = self.app.http() else {
            panic!("the app has no HTTP routes");
        };
        let (mut parts, body) = request.into_parts();
        if !parts.headers.contains_key(http::header::HOST) {
            parts.headers.insert(
                http::header::HOST,
                http::HeaderValue::from_static("localhost:3000"),
            );
        }
        let request = http::Request::from_parts(parts, Full::new(body.into()));
        let response = self.runtime.block_on(async {
            let response = http.handle(request, ([127, 0, 0, 1], 40000).into()).await;
            TestResponse::read(response).await
        });
        self.check_stubbed();
        response
    }

    /// Sends a request with `method` to `path` (with its query), with `body`.
    #[track_caller]
    pub fn send(&self, method: &str, path: &str, body: impl Into<Bytes>) -> TestResponse {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .body(body.into())
            .unwrap_or_else(|e| panic!("{method} {path} is not a valid request: {e}"));
        self.request(request)
    }

    /// `GET path`.
    #[track_caller]
    pub fn get(&self, path: &str) -> TestResponse {
        self.send("GET", path, Bytes::new())
    }

    /// `POST path` with a JSON body.
    #[track_caller]
    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> TestResponse {
        let request = http::Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", "application/json")
            .body(body.to_string())
            .unwrap_or_else(|e| panic!("POST {path} is not a valid request: {e}"));
        self.request(request)
    }

    /// Hands a message on `channel` to the components the app's Redis triggers subscribe
    /// there, as if it had been published; the handler's failure is the error. Returns how
    /// many handlers ran. Panics on unstubbed calls, as [`VirtualHost::request`] does.
    #[track_caller]
    pub fn deliver_redis_message(
        &self,
        channel: &str,
        payload: impl AsRef<[u8]>,
    ) -> anyhow::Result<usize> {
        let Some(redis) = self.app.redis() else {
            panic!("the app has no Redis triggers");
        };
        let delivered = self
            .runtime
            .block_on(redis.deliver(channel, payload.as_ref()));
        self.check_stubbed();
        delivered
    }

    /// Adds a stub after loading; it takes precedence over earlier ones.
    pub fn stub(&self, stub: impl Into<Stub>) {
        self.recorder.add_stub(stub.into());
    }

    /// Every call recorded so far.
    pub fn calls(&self) -> Calls {
        self.recorder.calls()
    }

    /// Every call recorded so far, which later calls to this and to [`VirtualHost::calls`]
    /// no longer include: to look at one request's calls.
    pub fn take_calls(&self) -> Calls {
        self.recorder.take_calls()
    }

    /// The value under `key` in key-value store `store`.
    pub fn key_value(&self, store: &str, key: &str) -> Option<Vec<u8>> {
        self.recorder.store(store).value(key)
    }

    /// The keys of key-value store `store`, sorted.
    pub fn key_value_keys(&self, store: &str) -> Vec<String> {
        self.recorder.store(store).keys()
    }

    /// The rows `query` reads from SQLite database `database`; panics when the app has no
    /// such database or the query fails.
    #[track_caller]
    pub fn sqlite(&self, database: &str, query: &str) -> Vec<Vec<SqlValue>> {
        let Some(found) = self.app.capabilities().sqlite_database(database) else {
            panic!("no component of the app uses SQLite database `{database}`");
        };
        found
            .query_rows(query)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
    }

    #[track_caller]
    fn check_stubbed(&self) {
        let unstubbed = self.recorder.take_unstubbed();
        if !unstubbed.is_empty() && !self.allow_unstubbed {
            panic!(
                "the app made {} call(s) that no stub answers:\n  {}",
                unstubbed.len(),
                unstubbed.join("\n  ")
            );
        }
    }
}
