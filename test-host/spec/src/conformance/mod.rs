//! Conformance specs: language-neutral files that say "send this request, expect that
//! response", run against an app by `rotor test`.
//!
//! The format is Spin's `test.json5` from its conformance suite, so that suites written for
//! Spin run unchanged, Spin's own suite included (see [`suite`]), plus a few optional keys of
//! Rotor's own (marked below). A spec lives next to the app's `spin.toml` as `test.json5`.
//!
//! As in Spin, a response must match exactly: the status (200 when not given), the body (empty
//! when none of `body`, `json` and `body_contains` is given) and the headers, where every
//! header the response carries must be listed, but for the spec's `optional_headers` and
//! unless the response says `extra_headers: true`. Header names and values compare without
//! regard to case.
//!
//! Spin's preconditions `http-echo`, `tcp-echo`, `redis`, `mqtt` and `postgres` (without
//! `variable`: database `spin_dev`, loaded from the suite's `postgres-init/*.sql`) expose
//! ports for `%{port=N}` (80, 7, 6379, 1883 and 5432), which the requests and the manifest may
//! use; `%{source=NAME}` in the manifest is a component of the suite, built from source.
//! Rotor's `redis` and `mqtt` preconditions can also give channels and topics run-specific
//! names, for `publish` and `expect_published` steps.
//!
//! ```json5
//! {
//!   preconditions: [                                  // what the app needs around it
//!     { kind: "key-value-store", label: "default" },  // a fresh, empty store
//!     { kind: "sqlite", statements: "@migrations.sql" },  // Rotor: SQL run first
//!     { kind: "variables", values: { region: "eu" } },    // Rotor: as SPIN_VARIABLE_*
//!     {                                               // Rotor: a local backend whose URL
//!       kind: "http-backend", variable: "backend_url", //   becomes a variable's value
//!       routes: [{ path: "/users/1", json: { id: 1 } }],
//!     },
//!     {                                               // Rotor: a scratch database on the
//!       kind: "postgres", variable: "database_url",  //   local server (or kind "mysql"),
//!       statements: "@schema.sql",                    //   dropped after the run
//!     },
//!     {                                               // Rotor: a local Vault (KV v2) as the
//!       kind: "vault", prefix: "app",                 //   app's variables provider
//!       secrets: { api_key: "k-1" },
//!     },
//!   ],
//!   optional_headers: ["date", "transfer-encoding"],  // Rotor: any response may carry these
//!   invocations: [
//!     {
//!       name: "greets by name",                       // Rotor: shown in the report
//!       request: {
//!         method: "GET",                              // default GET
//!         path: "/hello?name=Ada",
//!         headers: [{ name: "accept", value: "text/plain" }],
//!         body: "",                                   // text; default empty
//!       },
//!       response: {
//!         status: 200,
//!         headers: [
//!           { name: "content-type", value: "text/plain; charset=utf-8" },
//!           { name: "x-trace", optional: true },      // may be absent; any value
//!         ],
//!         body: "Hello, Ada!\n",                      // exact, when given
//!         json: { greeting: "Hello" },                // Rotor: body is JSON equal to this
//!         body_contains: ["Ada"],                     // Rotor: each string is in the body
//!         absent_headers: ["x-internal"],             // Rotor: these must not be sent
//!         extra_headers: true,                        // Rotor: unlisted headers are fine
//!       },
//!     },
//!   ],
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use http::Method;
use serde::Deserialize;

use rotor_host::capabilities::StateOptions;
use rotor_host::engine::Engine;
use rotor_host::manifest::{toml_file, Manifest};
use rotor_host::{App, AppOptions};

use crate::client::{self, ReceivedResponse};
use crate::fixtures::{
    self, CannedRoute, DatabaseServer, FixtureServer, ScratchDatabase, TcpEchoServer,
};

pub mod suite;

/// The name of a spec file inside an app's directory.
pub const SPEC_FILE: &str = "test.json5";

/// A whole spec file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The requests to make, in order.
    pub invocations: Vec<Invocation>,
    /// What the app needs around it.
    #[serde(default)]
    pub preconditions: Vec<Precondition>,
    /// Headers any response may carry, with any value, without listing them (Rotor): for
    /// the transport's own, such as `date` and `transfer-encoding`.
    #[serde(default)]
    pub optional_headers: Vec<String>,
}

/// Something the app needs before its requests run. Every run starts from empty storage.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Precondition {
    /// A key-value store (Spin's kind): the app gets a fresh, empty one.
    KeyValueStore {
        /// The store's label; `default` when absent.
        #[serde(default)]
        label: Option<String>,
    },
    /// A SQLite database (Spin's kind): the app's default database starts empty, then
    /// `statements` run in it (Rotor): SQL, or `@FILE` relative to the spec's directory, like
    /// `rotor up --sqlite`.
    Sqlite {
        /// The SQL to run against the default database.
        #[serde(default)]
        statements: Option<String>,
    },
    /// Spin's HTTP echo server: answers any request with 200 and the request's body, as
    /// `text/plain`. Its port is `%{port=80}`.
    HttpEcho,
    /// Spin's TCP echo server: sends back what it receives. Its port is `%{port=7}`.
    TcpEcho,
    /// The local MQTT broker (127.0.0.1:1883), as `%{port=1883}` (Spin's kind). As with
    /// `redis`, each of `topics` gets a name of its own for the run (Rotor): the
    /// `expect_published` steps listen on it, and each variable of `variables` (name →
    /// topic) receives it.
    Mqtt {
        /// The topics to isolate and listen on.
        #[serde(default)]
        topics: Vec<String>,
        /// Application variables that receive a topic's run-specific name.
        #[serde(default)]
        variables: BTreeMap<String, String>,
    },
    /// Values for application variables, as if set in the environment (Rotor).
    Variables {
        /// Variable name to value.
        values: BTreeMap<String, String>,
    },
    /// A local HTTP backend with canned answers (Rotor): its `http://127.0.0.1:PORT`
    /// becomes the value of application variable `variable`, so that the manifest can
    /// template it into `allowed_outbound_hosts` and the app can call it.
    HttpBackend {
        /// The application variable that receives the backend's URL.
        variable: String,
        /// The answers, first match wins; anything else is a 404.
        routes: Vec<CannedRoute>,
    },
    /// A fresh PostgreSQL database on the local server (127.0.0.1:5432, `%{port=5432}`), set
    /// up with `statements` (SQL, or `@FILE` relative to the spec's directory); its address
    /// becomes the value of application variable `variable`, and it is dropped after the run
    /// (Rotor). Without `variable`, as in Spin's suite: database `spin_dev`, created afresh
    /// from the `postgres-init/*.sql` files of the suite's checkout.
    Postgres {
        /// The application variable that receives the database's address.
        #[serde(default)]
        variable: Option<String>,
        /// The schema and data to start from.
        #[serde(default)]
        statements: Option<String>,
    },
    /// The same on the local MySQL or MariaDB server (127.0.0.1:3306) (Rotor).
    Mysql {
        /// The application variable that receives the database's address.
        variable: String,
        /// The schema and data to start from.
        #[serde(default)]
        statements: Option<String>,
    },
    /// The local Redis server (127.0.0.1:6379) for publish steps and Redis triggers
    /// (Rotor). Each channel in `channels` gets a name of its own for the run, so that runs
    /// do not hear each other: the manifest's `[[trigger.redis]]` channels, the publish and
    /// expect steps, and each variable of `variables` (name → channel) use it.
    Redis {
        /// The channels to isolate, as the manifest and the steps name them.
        #[serde(default)]
        channels: Vec<String>,
        /// Application variables that receive a channel's run-specific name.
        #[serde(default)]
        variables: BTreeMap<String, String>,
    },
    /// A local HashiCorp Vault (KV version 2) holding `secrets`, configured as the app's
    /// variables provider (Rotor).
    Vault {
        /// The token the app's runtime config presents.
        #[serde(default = "vault_token")]
        token: String,
        /// The KV mount.
        #[serde(default = "vault_mount")]
        mount: String,
        /// The path under the mount the secrets are kept at.
        #[serde(default)]
        prefix: Option<String>,
        /// Variable name to secret value.
        secrets: BTreeMap<String, String>,
    },
}

fn vault_token() -> String {
    "rotor-test-token".to_owned()
}

fn vault_mount() -> String {
    "secret".to_owned()
}

/// One request and the response it must get.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invocation {
    /// A name for the report (Rotor); defaults to `METHOD path`.
    #[serde(default)]
    pub name: Option<String>,
    /// What to send.
    #[serde(default)]
    pub request: Option<SpecRequest>,
    /// What must come back.
    #[serde(default)]
    pub response: Option<SpecResponse>,
    /// Repeat the request for up to this many milliseconds until the response matches,
    /// for effects that happen in the background, such as a message being handled (Rotor).
    #[serde(default)]
    pub retry_ms: Option<u64>,
    /// Instead of a request: publish a message on a Redis channel (Rotor).
    #[serde(default)]
    pub publish: Option<PublishStep>,
    /// Instead of a request: a message the app must have published on a Redis channel
    /// (Rotor).
    #[serde(default)]
    pub expect_published: Option<ExpectPublished>,
}

/// A message to publish on a channel of the `redis` precondition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishStep {
    /// The channel, as the manifest names it.
    pub channel: String,
    /// The payload as text.
    #[serde(default)]
    pub body: Option<String>,
    /// The payload as JSON.
    #[serde(default)]
    pub json: Option<serde_json::Value>,
}

/// A message that must have been published on a channel of the `redis` precondition, or
/// on a topic of the `mqtt` precondition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectPublished {
    /// The Redis channel, as the manifest names it.
    #[serde(default)]
    pub channel: Option<String>,
    /// The MQTT topic, as the `mqtt` precondition names it.
    #[serde(default)]
    pub topic: Option<String>,
    /// The payload must be JSON equal to this.
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    /// The payload must be exactly this text.
    #[serde(default)]
    pub body: Option<String>,
    /// How long to wait for it; 3000 ms by default.
    #[serde(default)]
    pub within_ms: Option<u64>,
}

/// A request to send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecRequest {
    /// The method; `GET` by default.
    #[serde(default)]
    pub method: Option<String>,
    /// Path and query.
    pub path: String,
    /// Headers to send.
    #[serde(default)]
    pub headers: Vec<SpecHeader>,
    /// The body, as text.
    #[serde(default)]
    pub body: Option<String>,
}

/// A header of a request or an expected response.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecHeader {
    /// The name, matched case-insensitively.
    pub name: String,
    /// The value; in an expected response, `None` accepts any value.
    #[serde(default)]
    pub value: Option<String>,
    /// In an expected response: the header may be absent.
    #[serde(default)]
    pub optional: bool,
}

/// What a response must look like.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecResponse {
    /// The status; 200 by default.
    #[serde(default = "ok")]
    pub status: u16,
    /// Headers that must be present (unless optional) with these values (when given).
    #[serde(default)]
    pub headers: Vec<SpecHeader>,
    /// The exact body, as text.
    #[serde(default)]
    pub body: Option<String>,
    /// A JSON value the body must equal (Rotor).
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    /// Strings the body must contain (Rotor).
    #[serde(default)]
    pub body_contains: Vec<String>,
    /// Headers that must not be in the response (Rotor).
    #[serde(default)]
    pub absent_headers: Vec<String>,
    /// The response may carry headers that `headers` does not list (Rotor).
    #[serde(default)]
    pub extra_headers: bool,
}

fn ok() -> u16 {
    200
}

impl SpecRequest {
    /// Fills in `%{port=N}` in the path, the header values and the body.
    pub fn substitute(&mut self, ports: &suite::Ports) -> anyhow::Result<()> {
        self.path = ports.substitute(&self.path)?;
        for header in &mut self.headers {
            if let Some(value) = &mut header.value {
                *value = ports.substitute(value)?;
            }
        }
        if let Some(body) = &mut self.body {
            *body = ports.substitute(body)?;
        }
        Ok(())
    }
}

impl Spec {
    /// Reads a spec file.
    pub fn load(path: &Path) -> anyhow::Result<Spec> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        json5::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

impl Invocation {
    /// The name shown in reports.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match (&self.request, &self.publish, &self.expect_published) {
            (Some(request), _, _) => format!(
                "{} {}",
                request.method.as_deref().unwrap_or("GET"),
                request.path
            ),
            (None, Some(step), _) => format!("publish on {}", step.channel),
            (None, None, Some(step)) => format!(
                "expect a message on {}",
                step.channel
                    .as_ref()
                    .or(step.topic.as_ref())
                    .map_or("?", |s| s)
            ),
            (None, None, None) => "an empty step".to_owned(),
        }
    }

    /// Runs the step against the app; `Err` says what differed. `optional_headers` may be
    /// in any response.
    pub async fn run(&self, app: &RunningApp, optional_headers: &[String]) -> Result<(), String> {
        match (
            &self.request,
            &self.response,
            &self.publish,
            &self.expect_published,
        ) {
            (Some(request), Some(response), None, None) => {
                let address = app
                    .address
                    .ok_or("the app has no HTTP trigger to send the request to")?;
                let deadline = std::time::Instant::now()
                    + std::time::Duration::from_millis(self.retry_ms.unwrap_or(0));
                loop {
                    let outcome =
                        send_and_check(address, request, response, optional_headers).await;
                    if outcome.is_ok() || std::time::Instant::now() >= deadline {
                        return outcome;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
            (None, None, Some(step), None) => {
                let redis = app
                    .redis
                    .as_ref()
                    .ok_or("publishing needs the redis precondition")?;
                let payload = match (&step.json, &step.body) {
                    (Some(json), _) => json.to_string().into_bytes(),
                    (None, Some(body)) => body.clone().into_bytes(),
                    (None, None) => Vec::new(),
                };
                redis.publish(&step.channel, payload).await
            }
            (None, None, None, Some(step)) => match (&step.channel, &step.topic) {
                (Some(channel), None) => {
                    let redis = app
                        .redis
                        .as_ref()
                        .ok_or("expecting a message on a channel needs the redis precondition")?;
                    expect_heard(&redis.heard, &redis.name(channel), channel, step).await
                }
                (None, Some(topic)) => {
                    let mqtt = app
                        .mqtt
                        .as_ref()
                        .ok_or("expecting a message on a topic needs the mqtt precondition")?;
                    expect_heard(&mqtt.heard, &mqtt.name(topic), topic, step).await
                }
                _ => Err("expect_published names either a channel or a topic".into()),
            },
            _ => {
                Err("a step is a request with a response, a publish, or an expect_published".into())
            }
        }
    }
}

async fn send_and_check(
    address: SocketAddr,
    request: &SpecRequest,
    expected: &SpecResponse,
    optional_headers: &[String],
) -> Result<(), String> {
    // Spin's suite writes methods in lower case.
    let method = request
        .method
        .as_deref()
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("bad method {method:?} in the spec"))?;
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone().unwrap_or_default()))
        .collect();
    let body = request.body.clone().unwrap_or_default();
    let response = client::send(address, method, &request.path, &headers, body)
        .await
        .map_err(|e| format!("request failed: {e:#}"))?;
    check(expected, &response, optional_headers)
}

/// What the steps of a spec run against: the app's HTTP address and its Redis channels.
pub struct RunningApp {
    /// Where the app serves HTTP, when it has HTTP triggers.
    pub address: Option<SocketAddr>,
    /// The `redis` precondition's channels, when there is one.
    pub redis: Option<RedisChannels>,
    /// The `mqtt` precondition's topics, when there is one.
    pub mqtt: Option<MqttTopics>,
}

/// Every message heard on the isolated channels: (channel, payload), in order of arrival.
type Heard = Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// The run-specific channels of the `redis` precondition, and what was published on them.
pub struct RedisChannels {
    client: redis::Client,
    names: BTreeMap<String, String>,
    heard: Heard,
    listener: tokio::task::JoinHandle<()>,
}

impl RedisChannels {
    const ADDRESS: &'static str = "redis://127.0.0.1:6379";

    /// Gives each of `channels` a run-specific name and starts listening on them.
    pub async fn start(channels: &[String]) -> anyhow::Result<RedisChannels> {
        if std::net::TcpStream::connect("127.0.0.1:6379").is_err() {
            anyhow::bail!("this spec needs Redis at 127.0.0.1:6379, and nothing answers there");
        }
        let run = fixtures::run_id();
        let names: BTreeMap<String, String> = channels
            .iter()
            .map(|c| (c.clone(), format!("{c}-run-{run}")))
            .collect();
        let client = redis::Client::open(Self::ADDRESS)?;
        let mut pubsub = client.get_async_pubsub().await?;
        for name in names.values() {
            pubsub.subscribe(name).await?;
        }
        let heard: Heard = Arc::default();
        let sink = heard.clone();
        let listener = tokio::spawn(async move {
            use futures_util::StreamExt as _;
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push((
                    message.get_channel_name().to_owned(),
                    message.get_payload_bytes().to_vec(),
                ));
            }
        });
        Ok(RedisChannels {
            client,
            names,
            heard,
            listener,
        })
    }

    /// The run-specific name of `channel`, or `channel` itself when it is not isolated.
    pub fn name(&self, channel: &str) -> String {
        self.names
            .get(channel)
            .cloned()
            .unwrap_or_else(|| channel.to_owned())
    }

    /// Waits until the app's Redis trigger has subscribed to each of its channels, so that
    /// no published message falls into the gap before it listens.
    pub async fn wait_for_subscribers(&self, manifest: &Manifest) -> anyhow::Result<()> {
        let mut connection = self.client.get_multiplexed_async_connection().await?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        for trigger in &manifest.redis_triggers {
            // Our own listener is subscribed to the isolated channels too.
            let others = if self.names.values().any(|n| *n == trigger.channel) {
                2
            } else {
                1
            };
            loop {
                let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(&trigger.channel)
                    .query_async(&mut connection)
                    .await?;
                if counts.first().is_some_and(|(_, n)| *n >= others) {
                    break;
                }
                if std::time::Instant::now() >= deadline {
                    anyhow::bail!(
                        "the Redis trigger did not subscribe to {:?} within 10 s",
                        trigger.channel
                    );
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<(), String> {
        let mut connection = self
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| format!("connecting to Redis: {e}"))?;
        redis::cmd("PUBLISH")
            .arg(self.name(channel))
            .arg(payload)
            .query_async::<i64>(&mut connection)
            .await
            .map(drop)
            .map_err(|e| format!("publishing: {e}"))
    }
}

impl Drop for RedisChannels {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Waits for a message matching `step` among those `heard` on `name` (shown as `shown`).
async fn expect_heard(
    heard: &Heard,
    name: &str,
    shown: &str,
    step: &ExpectPublished,
) -> Result<(), String> {
    let wait = std::time::Duration::from_millis(step.within_ms.unwrap_or(3000));
    let deadline = std::time::Instant::now() + wait;
    loop {
        let messages: Vec<Vec<u8>> = heard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(on, _)| on == name)
            .map(|(_, payload)| payload.clone())
            .collect();
        let found = messages.iter().any(|payload| {
            let json_ok = step.json.as_ref().is_none_or(|json| {
                serde_json::from_slice::<serde_json::Value>(payload).is_ok_and(|p| p == *json)
            });
            let body_ok = step
                .body
                .as_ref()
                .is_none_or(|body| payload.as_slice() == body.as_bytes());
            json_ok && body_ok
        });
        if found {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            let messages: Vec<String> = messages
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            return Err(format!(
                "\n  no matching message on {shown} within {wait:?}; heard {messages:?}"
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The run-specific topics of the `mqtt` precondition, and what was published on them.
pub struct MqttTopics {
    names: BTreeMap<String, String>,
    heard: Heard,
    listener: tokio::task::JoinHandle<()>,
}

impl MqttTopics {
    /// Gives each of `topics` a run-specific name and subscribes to them on the local broker,
    /// returning once the broker has confirmed every subscription.
    pub async fn start(topics: &[String]) -> anyhow::Result<MqttTopics> {
        use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
        if std::net::TcpStream::connect("127.0.0.1:1883").is_err() {
            anyhow::bail!(
                "this spec needs an MQTT broker at 127.0.0.1:1883, and nothing answers there"
            );
        }
        let run = fixtures::run_id();
        let names: BTreeMap<String, String> = topics
            .iter()
            .map(|t| (t.clone(), format!("{t}-run-{run}")))
            .collect();
        let options = MqttOptions::new(format!("rotor-test-{run}"), "127.0.0.1", 1883);
        let (client, mut events) = AsyncClient::new(options, 16);
        for name in names.values() {
            client.subscribe(name, QoS::ExactlyOnce).await?;
        }
        let mut confirmed = 0;
        let subscribing = async {
            while confirmed < names.len() {
                if let Event::Incoming(Packet::SubAck(_)) = events.poll().await? {
                    confirmed += 1;
                }
            }
            anyhow::Ok(())
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), subscribing)
            .await
            .map_err(|_| anyhow::anyhow!("the MQTT broker did not confirm the subscriptions"))??;
        let heard: Heard = Arc::default();
        let sink = heard.clone();
        let listener = tokio::spawn(async move {
            // The client must live as long as the event loop it feeds.
            let _client = client;
            while let Ok(event) = events.poll().await {
                if let Event::Incoming(Packet::Publish(message)) = event {
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((message.topic.clone(), message.payload.to_vec()));
                }
            }
        });
        Ok(MqttTopics {
            names,
            heard,
            listener,
        })
    }

    /// The run-specific name of `topic`, or `topic` itself when it is not isolated.
    pub fn name(&self, topic: &str) -> String {
        self.names
            .get(topic)
            .cloned()
            .unwrap_or_else(|| topic.to_owned())
    }
}

impl Drop for MqttTopics {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Compares a received response with what the spec expects; lists every difference. A
/// header that is neither listed nor among `optional_headers` is a difference, unless the
/// response allows `extra_headers`.
pub fn check(
    expected: &SpecResponse,
    actual: &ReceivedResponse,
    optional_headers: &[String],
) -> Result<(), String> {
    let mut problems = String::new();
    if actual.status.as_u16() != expected.status {
        let _ = write!(
            problems,
            "\n  status: expected {}, got {}",
            expected.status,
            actual.status.as_u16()
        );
    }
    for header in &expected.headers {
        match (actual.headers.get(header.name.as_str()), &header.value) {
            (None, _) if header.optional => {}
            (None, _) => {
                let _ = write!(problems, "\n  header {}: missing", header.name);
            }
            (Some(got), Some(want)) if !got.as_bytes().eq_ignore_ascii_case(want.as_bytes()) => {
                let _ = write!(
                    problems,
                    "\n  header {}: expected {want:?}, got {got:?}",
                    header.name
                );
            }
            (Some(_), _) => {}
        }
    }
    if !expected.extra_headers {
        for (name, value) in &actual.headers {
            let listed = expected
                .headers
                .iter()
                .map(|h| &h.name)
                .chain(optional_headers)
                .any(|listed| listed.eq_ignore_ascii_case(name.as_str()));
            if !listed {
                let _ = write!(problems, "\n  header {name}: not expected, got {value:?}");
            }
        }
    }
    for name in &expected.absent_headers {
        if let Some(value) = actual.headers.get(name.as_str()) {
            let _ = write!(problems, "\n  header {name}: must be absent, got {value:?}");
        }
    }
    let text = actual.text();
    let body_unchecked =
        expected.body.is_none() && expected.json.is_none() && expected.body_contains.is_empty();
    let exact_body = match &expected.body {
        Some(body) => Some(body.as_str()),
        None if body_unchecked => Some(""),
        None => None,
    };
    if let Some(body) = exact_body {
        if text != body {
            let _ = write!(problems, "\n  body: expected {body:?}, got {text:?}");
        }
    }
    if let Some(json) = &expected.json {
        match serde_json::from_slice::<serde_json::Value>(&actual.body) {
            Ok(got) if &got == json => {}
            Ok(got) => {
                let _ = write!(problems, "\n  json body: expected {json}, got {got}");
            }
            Err(e) => {
                let _ = write!(
                    problems,
                    "\n  json body: expected {json}, got invalid JSON ({e}): {text:?}"
                );
            }
        }
    }
    for needle in &expected.body_contains {
        if !text.contains(needle.as_str()) {
            let _ = write!(
                problems,
                "\n  body: expected to contain {needle:?}, got {text:?}"
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The outcome of one invocation.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The app directory.
    pub app: PathBuf,
    /// The invocation's name.
    pub name: String,
    /// `Err` with the differences when it failed.
    pub outcome: Result<(), String>,
}

/// Runs the spec of the app in `app_dir` against a fresh host, printing one line per case.
pub async fn run_app(app_dir: &Path, engine: Arc<Engine>) -> anyhow::Result<Vec<CaseResult>> {
    run_spec(app_dir, &app_dir.join(SPEC_FILE), engine).await
}

/// Runs the spec in `spec_file` against the app in `app_dir`: how one spec checks twins in
/// different languages. `@FILE` arguments of the spec are read beside the spec.
pub async fn run_spec(
    app_dir: &Path,
    spec_file: &Path,
    engine: Arc<Engine>,
) -> anyhow::Result<Vec<CaseResult>> {
    let mut spec = Spec::load(spec_file)?;
    let spec_dir = spec_file.parent().unwrap_or(Path::new("."));
    let state = tempfile::tempdir()?;
    let mut environment: BTreeMap<String, String> = std::env::vars().collect();
    let mut runtime_config = String::new();
    let mut fixtures: Vec<FixtureServer> = Vec::new();
    let mut tcp_echo: Option<TcpEchoServer> = None;
    let mut databases: Vec<ScratchDatabase> = Vec::new();
    let mut redis_channels: Option<RedisChannels> = None;
    let mut mqtt_topics: Option<MqttTopics> = None;
    let mut ports = suite::Ports::default();
    for precondition in &spec.preconditions {
        match precondition {
            Precondition::HttpEcho => {
                let echo = FixtureServer::start(fixtures::echo()).await?;
                ports.expose(80, echo.address().port());
                fixtures.push(echo);
            }
            Precondition::TcpEcho => {
                let echo = TcpEchoServer::start().await?;
                ports.expose(7, echo.address().port());
                tcp_echo = Some(echo);
            }
            Precondition::Mqtt { topics, variables } => {
                let isolated = MqttTopics::start(topics)
                    .await
                    .with_context(|| format!("{}: precondition mqtt", app_dir.display()))?;
                for (variable, topic) in variables {
                    environment.insert(variable_env(variable), isolated.name(topic));
                }
                ports.expose(1883, 1883);
                mqtt_topics = Some(isolated);
            }
            Precondition::Postgres {
                variable: None,
                statements,
            } => {
                let sql = match statements {
                    Some(argument) => read_sql_argument(argument, spec_dir)?,
                    None => suite::postgres_init_sql(app_dir)?,
                };
                let database =
                    ScratchDatabase::create_named(DatabaseServer::Postgres, "spin_dev", &sql)
                        .await
                        .with_context(|| format!("{}: precondition postgres", app_dir.display()))?;
                ports.expose(5432, 5432);
                databases.push(database);
            }
            Precondition::Variables { values } => {
                for (name, value) in values {
                    environment.insert(variable_env(name), value.clone());
                }
            }
            Precondition::HttpBackend { variable, routes } => {
                let backend = FixtureServer::start(fixtures::canned(routes.clone())).await?;
                environment.insert(variable_env(variable), backend.url());
                fixtures.push(backend);
            }
            Precondition::Vault {
                token,
                mount,
                prefix,
                secrets,
            } => {
                let prefix = prefix.as_deref().unwrap_or("").trim_matches('/');
                let paths = secrets
                    .iter()
                    .map(|(name, value)| match prefix {
                        "" => (name.clone(), value.clone()),
                        prefix => (format!("{prefix}/{name}"), value.clone()),
                    })
                    .collect();
                let vault = FixtureServer::start(fixtures::fake_vault(token, mount, paths)).await?;
                let _ = write!(
                    runtime_config,
                    "[[config_provider]]\ntype = \"vault\"\nurl = \"{}\"\ntoken = \"{token}\"\nmount = \"{mount}\"\nprefix = \"{prefix}\"\n\n",
                    vault.url()
                );
                fixtures.push(vault);
            }
            Precondition::Postgres {
                variable: Some(variable),
                statements,
            }
            | Precondition::Mysql {
                variable,
                statements,
            } => {
                let server = match precondition {
                    Precondition::Postgres { .. } => DatabaseServer::Postgres,
                    _ => DatabaseServer::Mysql,
                };
                let sql = match statements {
                    Some(argument) => read_sql_argument(argument, spec_dir)?,
                    None => String::new(),
                };
                let database = ScratchDatabase::create(server, &sql)
                    .await
                    .with_context(|| {
                        format!("{}: precondition {}", app_dir.display(), server.name())
                    })?;
                environment.insert(variable_env(variable), database.url());
                ports.expose(server.port(), server.port());
                databases.push(database);
            }
            Precondition::Redis {
                channels,
                variables,
            } => {
                let isolated = RedisChannels::start(channels)
                    .await
                    .with_context(|| format!("{}: precondition redis", app_dir.display()))?;
                for (variable, channel) in variables {
                    environment.insert(variable_env(variable), isolated.name(channel));
                }
                ports.expose(6379, 6379);
                redis_channels = Some(isolated);
            }
            Precondition::KeyValueStore { .. } | Precondition::Sqlite { .. } => {}
        }
    }
    let manifest_path = app_dir.join("spin.toml");
    let manifest_text =
        suite::manifest_text(app_dir, &toml_file::read(&manifest_path)?, &ports)?;
    let mut manifest = Manifest::parse(&manifest_path, &manifest_text)?;
    for invocation in &mut spec.invocations {
        if let Some(request) = &mut invocation.request {
            request.substitute(&ports)?;
        }
    }
    if let Some(isolated) = &redis_channels {
        for trigger in &mut manifest.redis_triggers {
            trigger.channel = isolated.name(&trigger.channel);
        }
    }
    let runtime_config = if runtime_config.is_empty() {
        None
    } else {
        let path = state.path().join("runtime-config.toml");
        std::fs::write(&path, runtime_config)?;
        Some(path)
    };
    let app = App::load(
        &manifest,
        &AppOptions {
            engine,
            state: StateOptions {
                state_dir: Some(state.path().to_owned()),
                runtime_config,
                environment: Some(environment),
            },
        },
    )
    .await?;
    for precondition in &spec.preconditions {
        if let Precondition::Sqlite {
            statements: Some(statements),
        } = precondition
        {
            app.capabilities()
                .sqlite_database("default")
                .expect("every app has a default database")
                .run_script_argument(statements, spec_dir)
                .with_context(|| format!("{}: precondition sqlite", app_dir.display()))?;
        }
    }
    let serving = app.start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    if let Some(isolated) = &redis_channels {
        if !manifest.redis_triggers.is_empty() {
            isolated.wait_for_subscribers(&manifest).await?;
        }
    }
    let address = serving.address;
    let running = RunningApp {
        address,
        redis: redis_channels,
        mqtt: mqtt_topics,
    };
    let mut results = Vec::new();
    for invocation in &spec.invocations {
        let name = invocation.display_name();
        let outcome = invocation.run(&running, &spec.optional_headers).await;
        match &outcome {
            Ok(()) => println!("PASS {}: {name}", app_dir.display()),
            Err(problems) => println!("FAIL {}: {name}{problems}", app_dir.display()),
        }
        results.push(CaseResult {
            app: app_dir.to_owned(),
            name,
            outcome,
        });
    }
    if let Err(error) = serving.stop().await {
        tracing::warn!("stopping the app failed: {error:#}");
    }
    drop(running);
    drop(fixtures);
    drop(tcp_echo);
    for database in databases {
        if let Err(error) = database.remove().await {
            tracing::warn!("dropping a scratch database failed: {error:#}");
        }
    }
    Ok(results)
}

/// SQL from a spec: the text itself, or `@FILE` relative to the spec's directory.
fn read_sql_argument(argument: &str, spec_dir: &Path) -> anyhow::Result<String> {
    match argument.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(spec_dir.join(file))
            .with_context(|| format!("cannot read {}", spec_dir.join(file).display())),
        None => Ok(argument.to_owned()),
    }
}

impl Spec {
    /// Whether the spec needs the local Redis server.
    pub fn needs_redis(&self) -> bool {
        self.preconditions
            .iter()
            .any(|p| matches!(p, Precondition::Redis { .. }))
    }

    /// Whether the spec needs the local MQTT broker.
    pub fn needs_mqtt(&self) -> bool {
        self.preconditions
            .iter()
            .any(|p| matches!(p, Precondition::Mqtt { .. }))
    }

    /// The database servers the spec's preconditions need.
    pub fn database_servers(&self) -> Vec<DatabaseServer> {
        self.preconditions
            .iter()
            .filter_map(|p| match p {
                Precondition::Postgres { .. } => Some(DatabaseServer::Postgres),
                Precondition::Mysql { .. } => Some(DatabaseServer::Mysql),
                _ => None,
            })
            .collect()
    }
}

/// The environment variable that provides application variable `name`.
fn variable_env(name: &str) -> String {
    format!(
        "{}{}",
        rotor_host::capabilities::variables::ENVIRONMENT_PREFIX,
        name.to_ascii_uppercase()
    )
}

/// The app directories under `path`: `path` itself when it holds a spec, else its children
/// that do, sorted.
pub fn find_apps(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.join(SPEC_FILE).exists() {
        return Ok(vec![path.to_owned()]);
    }
    let mut apps = Vec::new();
    for entry in
        std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?
    {
        let dir = entry?.path();
        if dir.join(SPEC_FILE).exists() && dir.join("spin.toml").exists() {
            apps.push(dir);
        }
    }
    apps.sort();
    if apps.is_empty() {
        anyhow::bail!(
            "no {SPEC_FILE} with a spin.toml beside it in {} or its subdirectories",
            path.display()
        );
    }
    Ok(apps)
}

/// Totals over many cases, with the closing line `N passed, N failed`.
pub fn summary(results: &[CaseResult]) -> (usize, usize, String) {
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    let passed = results.len() - failed;
    (passed, failed, format!("{passed} passed, {failed} failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(headers: &[(&str, &str)], body: &str) -> ReceivedResponse {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        ReceivedResponse {
            status: http::StatusCode::OK,
            headers: map,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    fn expected(json5: &str) -> SpecResponse {
        json5::from_str(json5).unwrap()
    }

    #[test]
    fn every_header_must_be_listed_unless_allowed() {
        let actual = received(&[("content-type", "text/plain"), ("date", "today")], "");
        let listed = expected(r#"{ headers: [{ name: "Content-Type", value: "TEXT/PLAIN" }] }"#);
        let problems = check(&listed, &actual, &[]).unwrap_err();
        assert!(problems.contains("header date: not expected"), "{problems}");
        assert!(!problems.contains("content-type"), "{problems}");
        assert_eq!(check(&listed, &actual, &["Date".to_owned()]), Ok(()));
        let relaxed = expected(r#"{ extra_headers: true }"#);
        assert_eq!(check(&relaxed, &actual, &[]), Ok(()));
    }

    #[test]
    fn listed_headers_must_be_present_unless_optional() {
        let actual = received(&[], "");
        let spec = expected(
            r#"{ headers: [{ name: "x-a" }, { name: "x-b", optional: true }, { name: "x-c", value: "1" }] }"#,
        );
        let problems = check(&spec, &actual, &[]).unwrap_err();
        assert!(problems.contains("header x-a: missing"), "{problems}");
        assert!(problems.contains("header x-c: missing"), "{problems}");
        assert!(!problems.contains("x-b"), "{problems}");
        let wrong = received(&[("x-a", "anything"), ("x-c", "2")], "");
        let problems = check(&spec, &wrong, &[]).unwrap_err();
        assert!(
            problems.contains("header x-c: expected \"1\", got \"2\""),
            "{problems}"
        );
    }

    #[test]
    fn a_body_is_empty_unless_the_spec_says_otherwise() {
        let actual = received(&[], r#"{"ok":true}"#);
        let problems = check(&expected("{}"), &actual, &[]).unwrap_err();
        assert!(problems.contains("body: expected \"\""), "{problems}");
        assert_eq!(
            check(&expected("{ json: { ok: true } }"), &actual, &[]),
            Ok(())
        );
        assert_eq!(
            check(&expected(r#"{ body_contains: ["ok"] }"#), &actual, &[]),
            Ok(())
        );
        assert!(check(&expected(r#"{ body: "{}" }"#), &actual, &[]).is_err());
    }
}
