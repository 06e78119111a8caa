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

use rotor_host::capabilities::StateOptions;
use rotor_host::engine::Engine;
use rotor_host::manifest::{toml_file, Manifest};
use rotor_host::{App, AppOptions};

use crate::client::{self};
use crate::fixtures::{self, DatabaseServer, FixtureServer, ScratchDatabase, TcpEchoServer};

pub mod check;
pub mod kit;
pub mod pubsub;
pub mod spec;
pub mod suite;

pub use check::check;
use pubsub::expect_heard;
pub use pubsub::{MqttTopics, RedisChannels};
pub use spec::*;

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

/// The outcome of one invocation.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The app directory.
    pub app: PathBuf,
    /// The invocation's name.
    pub name: String,
    /// `Err` with the differences when it failed.
    pub outcome: Result<(), String>,
    /// Why the case was not run, when it was not (its `outcome` is then `Ok`): a step or
    /// precondition that needs control of the host, under `rotor test --against`.
    pub skipped: Option<String>,
}

impl CaseResult {
    /// Prints the report's line for the case: `PASS`, `FAIL` with the differences, or `SKIP`
    /// with why.
    pub fn print(&self) {
        let app = self.app.display();
        match (&self.skipped, &self.outcome) {
            (Some(why), _) => println!("SKIP {app}: {} ({why})", self.name),
            (None, Ok(())) => println!("PASS {app}: {}", self.name),
            (None, Err(problems)) => println!("FAIL {app}: {}{problems}", self.name),
        }
    }
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
    let mut around = Preconditions::set_up(&spec, app_dir, spec_dir).await?;
    let manifest_path = app_dir.join("spin.toml");
    let manifest_text =
        suite::manifest_text(app_dir, &toml_file::read(&manifest_path)?, &around.ports)?;
    let mut manifest = Manifest::parse(&manifest_path, &manifest_text)?;
    for invocation in &mut spec.invocations {
        if let Some(request) = &mut invocation.request {
            request.substitute(&around.ports)?;
        }
    }
    if let Some(isolated) = &around.redis_channels {
        for trigger in &mut manifest.redis_triggers {
            trigger.channel = isolated.name(&trigger.channel);
        }
    }
    let runtime_config = if around.runtime_config.is_empty() {
        None
    } else {
        let path = state.path().join("runtime-config.toml");
        std::fs::write(&path, &around.runtime_config)?;
        Some(path)
    };
    let app = App::load(
        &manifest,
        &AppOptions {
            engine,
            state: StateOptions {
                state_dir: Some(state.path().to_owned()),
                runtime_config,
                environment: Some(std::mem::take(&mut around.environment)),
                variables: Default::default(),
                output: Default::default(),
                virtual_services: None,
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
    if let Some(isolated) = &around.redis_channels {
        if !manifest.redis_triggers.is_empty() {
            isolated.wait_for_subscribers(&manifest).await?;
        }
    }
    let address = serving.address;
    let running = RunningApp {
        address,
        redis: around.redis_channels.take(),
        mqtt: around.mqtt_topics.take(),
    };
    let mut results = Vec::new();
    for invocation in &spec.invocations {
        let name = invocation.display_name();
        let result = CaseResult {
            app: app_dir.to_owned(),
            name,
            outcome: invocation.run(&running, &spec.optional_headers).await,
            skipped: None,
        };
        result.print();
        results.push(result);
    }
    if let Err(error) = serving.stop().await {
        tracing::warn!("stopping the app failed: {error:#}");
    }
    drop(running);
    around.tear_down().await;
    Ok(results)
}

/// What a spec's preconditions set up around the app: stand-in services, scratch databases,
/// isolated channels, and the variables and runtime config that point the app at them.
struct Preconditions {
    environment: BTreeMap<String, String>,
    runtime_config: String,
    fixtures: Vec<FixtureServer>,
    tcp_echo: Option<TcpEchoServer>,
    databases: Vec<ScratchDatabase>,
    redis_channels: Option<RedisChannels>,
    mqtt_topics: Option<MqttTopics>,
    ports: suite::Ports,
}

impl Preconditions {
    /// Sets up every precondition of `spec` but `sqlite`, which runs once the app is loaded.
    async fn set_up(spec: &Spec, app_dir: &Path, spec_dir: &Path) -> anyhow::Result<Self> {
        let mut around = Preconditions {
            environment: std::env::vars().collect(),
            runtime_config: String::new(),
            fixtures: Vec::new(),
            tcp_echo: None,
            databases: Vec::new(),
            redis_channels: None,
            mqtt_topics: None,
            ports: suite::Ports::default(),
        };
        for precondition in &spec.preconditions {
            match precondition {
                Precondition::HttpEcho => {
                    let echo = FixtureServer::start(fixtures::echo()).await?;
                    around.ports.expose(80, echo.address().port());
                    around.fixtures.push(echo);
                }
                Precondition::TcpEcho => {
                    let echo = TcpEchoServer::start().await?;
                    around.ports.expose(7, echo.address().port());
                    around.tcp_echo = Some(echo);
                }
                Precondition::Mqtt { topics, variables } => {
                    let isolated = MqttTopics::start(topics)
                        .await
                        .with_context(|| format!("{}: precondition mqtt", app_dir.display()))?;
                    for (variable, topic) in variables {
                        around
                            .environment
                            .insert(variable_env(variable), isolated.name(topic));
                    }
                    around.ports.expose(1883, 1883);
                    around.mqtt_topics = Some(isolated);
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
                            .with_context(|| {
                                format!("{}: precondition postgres", app_dir.display())
                            })?;
                    around.ports.expose(5432, 5432);
                    around.databases.push(database);
                }
                Precondition::Variables { values } => {
                    for (name, value) in values {
                        around.environment.insert(variable_env(name), value.clone());
                    }
                }
                Precondition::HttpBackend { variable, routes } => {
                    let backend = FixtureServer::start(fixtures::canned(routes.clone())).await?;
                    around
                        .environment
                        .insert(variable_env(variable), backend.url());
                    around.fixtures.push(backend);
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
                    let vault =
                        FixtureServer::start(fixtures::fake_vault(token, mount, paths)).await?;
                    let _ = write!(
                        around.runtime_config,
                        "[[config_provider]]\ntype = \"vault\"\nurl = \"{}\"\ntoken = \"{token}\"\nmount = \"{mount}\"\nprefix = \"{prefix}\"\n\n",
                        vault.url()
                    );
                    around.fixtures.push(vault);
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
                    let database =
                        ScratchDatabase::create(server, &sql)
                            .await
                            .with_context(|| {
                                format!("{}: precondition {}", app_dir.display(), server.name())
                            })?;
                    around
                        .environment
                        .insert(variable_env(variable), database.url());
                    around.ports.expose(server.port(), server.port());
                    around.databases.push(database);
                }
                Precondition::Redis {
                    channels,
                    variables,
                } => {
                    let isolated = RedisChannels::start(channels)
                        .await
                        .with_context(|| format!("{}: precondition redis", app_dir.display()))?;
                    for (variable, channel) in variables {
                        around
                            .environment
                            .insert(variable_env(variable), isolated.name(channel));
                    }
                    around.ports.expose(6379, 6379);
                    around.redis_channels = Some(isolated);
                }
                Precondition::KeyValueStore { .. } | Precondition::Sqlite { .. } => {}
            }
        }
        Ok(around)
    }

    /// Stops the stand-in services and drops the scratch databases.
    async fn tear_down(self) {
        drop(self.fixtures);
        drop(self.tcp_echo);
        for database in self.databases {
            if let Err(error) = database.remove().await {
                tracing::warn!("dropping a scratch database failed: {error:#}");
            }
        }
    }
}

/// SQL from a spec: the text itself, or `@FILE` relative to the spec's directory.
fn read_sql_argument(argument: &str, spec_dir: &Path) -> anyhow::Result<String> {
    match argument.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(spec_dir.join(file))
            .with_context(|| format!("cannot read {}", spec_dir.join(file).display())),
        None => Ok(argument.to_owned()),
    }
}

/// The environment variable that provides application variable `name`.
fn variable_env(name: &str) -> String {
    format!(
        "{}{}",
        rotor_host::capabilities::variables::resolve::ENVIRONMENT_PREFIX,
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

/// Totals over many cases, with the closing line `N passed, N failed`, and `, N skipped`
/// when some were.
pub fn summary(results: &[CaseResult]) -> (usize, usize, String) {
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    let skipped = results.iter().filter(|r| r.skipped.is_some()).count();
    let passed = results.len() - failed - skipped;
    let mut line = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        write!(line, ", {skipped} skipped").expect("writing to a String");
    }
    (passed, failed, line)
}

/// Runs the spec in `spec_file` against an app already running at `base_url` (`http://HOST
/// [:PORT][/PREFIX]`): on another host, or deployed to Spin or SpinKube.
///
/// Requests go to `HOST:PORT`, with `PREFIX` before each path and `host: HOST[:PORT]` unless
/// the request sets its own. What only a host that runs the app can do is reported as
/// skipped, never passed: every precondition (stores, databases, backends, variables and
/// channels are the deployment's business), `publish` and `expect_published` steps, and
/// requests that use a precondition's `%{port=N}`. The labels say `against BASE_URL`.
pub async fn run_spec_against(base_url: &str, spec_file: &Path) -> anyhow::Result<Vec<CaseResult>> {
    let spec = Spec::load(spec_file)?;
    let target = Target::parse(base_url)?;
    let label = PathBuf::from(format!("against {base_url}"));
    let address = tokio::net::lookup_host(&target.authority)
        .await
        .with_context(|| format!("cannot resolve {}", target.authority))?
        .next()
        .with_context(|| format!("{} resolves to no address", target.authority))?;
    let needs_the_host = |what: String| CaseResult {
        app: label.clone(),
        name: what,
        outcome: Ok(()),
        skipped: Some("needs the host".to_owned()),
    };
    let mut results = Vec::new();
    for precondition in &spec.preconditions {
        results.push(needs_the_host(format!(
            "precondition {}",
            precondition.kind()
        )));
    }
    for invocation in &spec.invocations {
        let name = invocation.display_name();
        let request = match (&invocation.request, &invocation.response) {
            (Some(request), Some(_)) if !request.path.contains("%{") => request,
            _ => {
                results.push(needs_the_host(name));
                continue;
            }
        };
        let mut request = request.clone();
        request.path = format!("{}{}", target.prefix, request.path);
        if !request
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("host"))
        {
            request.headers.push(SpecHeader {
                name: "host".into(),
                value: Some(target.authority.clone()),
                optional: false,
            });
        }
        let step = Invocation {
            request: Some(request),
            ..invocation.clone()
        };
        let running = RunningApp {
            address: Some(address),
            redis: None,
            mqtt: None,
        };
        results.push(CaseResult {
            app: label.clone(),
            name,
            outcome: step.run(&running, &spec.optional_headers).await,
            skipped: None,
        });
    }
    results.iter().for_each(CaseResult::print);
    Ok(results)
}

/// Where `run_spec_against` sends requests.
struct Target {
    /// `HOST:PORT`, the port defaulting to 80.
    authority: String,
    /// The path before each request's own, without a trailing `/`.
    prefix: String,
}

impl Target {
    fn parse(base_url: &str) -> anyhow::Result<Target> {
        let uri: http::Uri = base_url
            .parse()
            .with_context(|| format!("{base_url} is not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => anyhow::bail!(
                "{base_url}: the runner speaks plain HTTP only; reach a TLS deployment through a local port-forward (kubectl port-forward, or a proxy) and give its http:// URL"
            ),
            _ => anyhow::bail!("{base_url}: expected an http:// URL"),
        }
        let host = uri
            .host()
            .with_context(|| format!("{base_url} has no host"))?;
        let authority = format!("{host}:{}", uri.port_u16().unwrap_or(80));
        let prefix = uri.path().trim_end_matches('/').to_owned();
        Ok(Target { authority, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ReceivedResponse;

    #[test]
    fn targets_are_plain_http_urls_with_an_optional_prefix() {
        let target = Target::parse("http://apps.example:8080/hello-app/").unwrap();
        assert_eq!(target.authority, "apps.example:8080");
        assert_eq!(target.prefix, "/hello-app");
        let target = Target::parse("http://127.0.0.1").unwrap();
        assert_eq!(target.authority, "127.0.0.1:80");
        assert_eq!(target.prefix, "");
        let https = Target::parse("https://apps.example").err().unwrap();
        assert!(https.to_string().contains("port-forward"), "{https}");
        assert!(Target::parse("apps.example").is_err());
    }

    #[test]
    fn skipped_cases_are_counted_apart() {
        let case = |outcome: Result<(), String>, skipped: Option<&str>| CaseResult {
            app: PathBuf::from("app"),
            name: "case".into(),
            outcome,
            skipped: skipped.map(str::to_owned),
        };
        let results = [
            case(Ok(()), None),
            case(Err("differs".into()), None),
            case(Ok(()), Some("needs the host")),
        ];
        let (passed, failed, line) = summary(&results);
        assert_eq!((passed, failed), (1, 1));
        assert_eq!(line, "1 passed, 1 failed, 1 skipped");
        assert_eq!(summary(&results[..1]).2, "1 passed, 0 failed");
    }

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
