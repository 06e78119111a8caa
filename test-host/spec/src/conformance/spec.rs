//! The spec format: Spin's `test.json5` and Rotor's additions.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;

use super::suite;
use crate::fixtures::{CannedRoute, DatabaseServer};

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

impl Precondition {
    /// The `kind` the spec writes.
    pub fn kind(&self) -> &'static str {
        match self {
            Precondition::KeyValueStore { .. } => "key-value-store",
            Precondition::Sqlite { .. } => "sqlite",
            Precondition::HttpEcho => "http-echo",
            Precondition::TcpEcho => "tcp-echo",
            Precondition::Mqtt { .. } => "mqtt",
            Precondition::Variables { .. } => "variables",
            Precondition::HttpBackend { .. } => "http-backend",
            Precondition::Postgres { .. } => "postgres",
            Precondition::Mysql { .. } => "mysql",
            Precondition::Redis { .. } => "redis",
            Precondition::Vault { .. } => "vault",
        }
    }
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

#[cfg(test)]
mod tests {
    use super::Precondition;

    #[test]
    fn a_precondition_names_the_kind_it_was_written_with() {
        for kind in [
            r#"{kind: "key-value-store"}"#,
            r#"{kind: "sqlite"}"#,
            r#"{kind: "http-echo"}"#,
            r#"{kind: "tcp-echo"}"#,
            r#"{kind: "mqtt"}"#,
            r#"{kind: "variables", values: {}}"#,
            r#"{kind: "http-backend", variable: "url", routes: []}"#,
            r#"{kind: "postgres"}"#,
            r#"{kind: "mysql", variable: "url"}"#,
            r#"{kind: "redis"}"#,
            r#"{kind: "vault", secrets: {}}"#,
        ] {
            let precondition: Precondition =
                json5::from_str(kind).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert!(
                kind.contains(&format!("\"{}\"", precondition.kind())),
                "{kind}"
            );
        }
    }
}
