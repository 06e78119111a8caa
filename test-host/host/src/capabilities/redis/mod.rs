//! `fermyon:spin/redis@2.0.0`: outbound Redis commands and publishing, over one multiplexed
//! connection per address shared by every request of the app.
//!
//! A command that changes the state of the connection it runs on (`SELECT`, `MULTI`,
//! `SUBSCRIBE`, `AUTH`, `CLIENT`, ...) or blocks it (`BLPOP`, `WAIT`, ...) would change or
//! stall it for every other request too. The first such command a guest sends through
//! `execute` moves its `connection` resource to a connection of its own, which every later
//! command of that resource uses and which closes with it.
//!
//! An address must be granted in `allowed_outbound_hosts` (`redis://host:port`, or
//! `rediss://` for TLS); anything else is refused before any connection is made. A
//! `rediss://` server's certificate must chain to the platform's roots, or to the
//! `ca_roots_file` of a `[[client_tls]]` entry for the component and host (which then
//! replaces the platform's roots; `ca_use_webpki_roots` does not apply here), and name the
//! host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{ConnectionAddr, Value};
use tokio::sync::OnceCell;
use wasmtime::component::{Linker, Resource};

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use super::outbound::{OutboundClients, OutboundGrant};
use super::virtual_services::{RedisCall, RedisReply, VirtualConnection};
use crate::manifest::allowed_hosts::{AllowedHosts, Destination};
use bindings::fermyon::spin2_0_0::redis::{self as spin_redis, Error, RedisParameter, RedisResult};

/// Host bindings of `fermyon:spin/redis@2.0.0`, from `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/redis-host",
        imports: { default: async },
        with: {
            "fermyon:spin/redis@2.0.0.connection": super::OpenRedis,
        },
    });
}

/// How long connecting, and then each command, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How every shared Redis connection of the host (outbound Redis, Redis-backed key-value
/// stores) is made: the client's own default gives up on a reply after 500 ms, which a busy
/// host or server exceeds under load and turns into a failed request.
pub(crate) fn connection_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_number_of_retries(1)
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT))
}

/// The outbound Redis capability.
pub struct Redis;

/// What one component may reach: the app's connections, at the addresses it is granted.
pub type RedisGrant = OutboundClients<RedisConnections>;

impl Capability for Redis {
    type App = Arc<RedisConnections>;
    type Grant = RedisGrant;

    fn load(_: &AppContext<'_>) -> anyhow::Result<Self::App> {
        Ok(Arc::default())
    }

    fn grant(app: &Self::App, component: &ComponentContext<'_>) -> anyhow::Result<RedisGrant> {
        Ok(OutboundClients::new(app, component.outbound))
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, RedisGrant>,
    ) -> wasmtime::Result<()> {
        spin_redis::add_to_linker::<_, HasView<RedisGrant>>(linker, view)
    }
}

/// The connections of every address the app's components have used.
#[derive(Default)]
pub struct RedisConnections {
    by_address: Mutex<HashMap<String, Arc<OnceCell<ConnectionManager>>>>,
}

/// A connection the guest has opened: the handle behind the `connection` resource.
pub struct OpenRedis {
    /// The app's connection to the address, or a unit test's stand-in.
    shared: Link,
    /// How to make an own connection; `None` for a stand-in, which needs none.
    client: Option<redis::Client>,
    /// The resource's own connection, from its first command that changes or blocks one.
    own: Option<MultiplexedConnection>,
}

/// What a command runs on: the app's shared connection or a resource's own.
#[derive(Clone)]
enum Link {
    Shared(ConnectionManager),
    Own(MultiplexedConnection),
    Virtual(Arc<VirtualConnection>),
}

/// Commands that change the state of the connection they run on, or block it until
/// something happens; they never run on the shared connection.
const NEEDS_OWN_CONNECTION: &[&str] = &[
    // connection state
    "AUTH",
    "HELLO",
    "SELECT",
    "CLIENT",
    "RESET",
    "QUIT",
    "READONLY",
    "READWRITE",
    "ASKING",
    // transactions
    "MULTI",
    "EXEC",
    "DISCARD",
    "WATCH",
    "UNWATCH",
    // publish/subscribe and monitoring, which take the connection over
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "SSUBSCRIBE",
    "UNSUBSCRIBE",
    "PUNSUBSCRIBE",
    "SUNSUBSCRIBE",
    "MONITOR",
    "SYNC",
    "PSYNC",
    // blocking
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BLMOVE",
    "BLMPOP",
    "BZPOPMIN",
    "BZPOPMAX",
    "BZMPOP",
    "XREAD",
    "XREADGROUP",
    "WAIT",
    "WAITAOF",
];

/// Whether `command` must not run on the shared connection.
fn needs_own_connection(command: &str) -> bool {
    NEEDS_OWN_CONNECTION
        .iter()
        .any(|name| name.eq_ignore_ascii_case(command.trim()))
}

/// Where `address` points, for the grant check; `Err` when it is not a Redis URL.
pub fn destination(address: &str) -> Result<(redis::Client, Destination), Error> {
    let client = redis::Client::open(address).map_err(|_| Error::InvalidAddress)?;
    let (scheme, host, port) = match client.get_connection_info().addr() {
        ConnectionAddr::Tcp(host, port) => ("redis", host.clone(), *port),
        ConnectionAddr::TcpTls { host, port, .. } => ("rediss", host.clone(), *port),
        _ => return Err(Error::InvalidAddress),
    };
    Ok((client, Destination { scheme, host, port }))
}

impl RedisConnections {
    /// Checks the grant, then returns the app's connection to `address`, making it on first
    /// use; a `rediss://` one trusts what `outbound` trusts for the host.
    pub async fn open(
        &self,
        allowed: &AllowedHosts,
        outbound: &OutboundGrant,
        address: &str,
    ) -> Result<OpenRedis, Error> {
        let (mut client, destination) = destination(address)?;
        // Spin's answer to an ungranted address, which its conformance suite checks for; the
        // reason is in the log.
        allowed
            .check(&destination)
            .map_err(|_| Error::InvalidAddress)?;
        if let Some(stand_in) = outbound.virtual_connection(address) {
            return Ok(OpenRedis {
                shared: Link::Virtual(Arc::new(stand_in)),
                client: None,
                own: None,
            });
        }
        let mut key = address.to_owned();
        if destination.scheme == "rediss" {
            let trust = outbound.tls_trust(&destination.host);
            if trust.extra_roots_pem.is_some() || trust.client_identity.is_some() {
                let certificates = redis::TlsCertificates {
                    client_tls: trust.client_identity.as_ref().map(|identity| {
                        redis::ClientTlsConfig {
                            client_cert: identity.chain_pem.clone(),
                            client_key: identity.key_pem.clone(),
                        }
                    }),
                    root_cert: trust.extra_roots_pem.clone(),
                };
                client = redis::Client::build_with_tls(address, certificates)
                    .map_err(|e| Error::Other(format!("the TLS settings for Redis: {e}")))?;
                key = format!("{address}\u{0}{:x}", trust.fingerprint);
            }
        }
        let cell = self
            .by_address
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        let connection = cell
            .get_or_try_init(|| {
                ConnectionManager::new_with_config(client.clone(), connection_config())
            })
            .await
            .map_err(|e| Error::Other(format!("connecting to Redis: {e}")))?
            .clone();
        Ok(OpenRedis {
            shared: Link::Shared(connection),
            client: Some(client),
            own: None,
        })
    }
}

fn command_failed(error: redis::RedisError) -> Error {
    if error.to_string().contains("WRONGTYPE") {
        Error::TypeError
    } else {
        Error::Other(error.to_string())
    }
}

/// Flattens a reply into the WIT's results: arrays become their elements.
fn to_results(value: Value, out: &mut Vec<RedisResult>) {
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Int(n) => out.push(RedisResult::Int64(n)),
        Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        Value::SimpleString(text) => out.push(RedisResult::Status(text)),
        Value::Okay => out.push(RedisResult::Status("OK".to_owned())),
        Value::Boolean(b) => out.push(RedisResult::Int64(b.into())),
        Value::Double(d) => out.push(RedisResult::Binary(d.to_string().into_bytes())),
        Value::VerbatimString { text, .. } => out.push(RedisResult::Binary(text.into_bytes())),
        Value::Array(items) | Value::Set(items) => {
            for item in items {
                to_results(item, out);
            }
        }
        Value::Map(pairs) => {
            for (key, value) in pairs {
                to_results(key, out);
                to_results(value, out);
            }
        }
        Value::Attribute { data, .. } => to_results(*data, out),
        other => out.push(RedisResult::Binary(format!("{other:?}").into_bytes())),
    }
}

impl View<'_, RedisGrant> {
    fn redis(&mut self, connection: &Resource<OpenRedis>) -> Result<Link, Error> {
        let open = self
            .table
            .get(connection)
            .map_err(|_| Error::Other("no such connection".into()))?;
        Ok(match &open.own {
            Some(own) => Link::Own(own.clone()),
            None => open.shared.clone(),
        })
    }

    /// The resource's own connection, made on first use.
    async fn own_connection(&mut self, connection: &Resource<OpenRedis>) -> Result<Link, Error> {
        let open = self
            .table
            .get_mut(connection)
            .map_err(|_| Error::Other("no such connection".into()))?;
        let Some(client) = &open.client else {
            return Ok(open.shared.clone());
        };
        if open.own.is_none() {
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(TIMEOUT))
                .set_response_timeout(Some(TIMEOUT));
            let own = client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(|e| Error::Other(format!("connecting to Redis: {e}")))?;
            open.own = Some(own);
        }
        Ok(Link::Own(open.own.clone().expect("made above")))
    }
}

async fn run<T: redis::FromRedisValue>(link: Link, command: redis::Cmd) -> Result<T, Error> {
    match link {
        Link::Shared(mut connection) => command.query_async(&mut connection).await,
        Link::Own(mut connection) => command.query_async(&mut connection).await,
        Link::Virtual(stand_in) => return virtual_command(&stand_in, &command).await,
    }
    .map_err(command_failed)
}

/// Hands `command` to a unit test's services and reads their answer as Redis's.
async fn virtual_command<T: redis::FromRedisValue>(
    stand_in: &VirtualConnection,
    command: &redis::Cmd,
) -> Result<T, Error> {
    let mut words = command.args_iter().filter_map(|argument| match argument {
        redis::Arg::Simple(bytes) => Some(bytes.to_vec()),
        _ => None,
    });
    let name = words.next().unwrap_or_default();
    let call = RedisCall {
        component: stand_in.component.clone(),
        address: stand_in.address.clone(),
        command: String::from_utf8_lossy(&name).to_ascii_uppercase(),
        arguments: words.collect(),
    };
    let replies = stand_in.services.redis(call).await.map_err(Error::Other)?;
    let mut values: Vec<Value> = replies
        .into_iter()
        .map(|reply| match reply {
            RedisReply::Nil => Value::Nil,
            RedisReply::Status(status) if status == "OK" => Value::Okay,
            RedisReply::Status(status) => Value::SimpleString(status),
            RedisReply::Int(n) => Value::Int(n),
            RedisReply::Binary(bytes) => Value::BulkString(bytes),
        })
        .collect();
    let value = if values.len() == 1 {
        values.remove(0)
    } else {
        Value::Array(values)
    };
    T::from_redis_value(value).map_err(|e| Error::Other(format!("the stub's answer: {e}")))
}

impl spin_redis::Host for View<'_, RedisGrant> {}

impl spin_redis::HostConnection for View<'_, RedisGrant> {
    async fn open(&mut self, address: String) -> Result<Resource<OpenRedis>, Error> {
        let allowed = self
            .grant
            .outbound
            .allowed_hosts()
            .await
            .map_err(Error::Other)?;
        let open = self
            .grant
            .clients
            .open(&allowed, &self.grant.outbound, &address)
            .await?;
        self.table.push(open).map_err(|_| Error::TooManyConnections)
    }

    async fn publish(
        &mut self,
        connection: Resource<OpenRedis>,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<(), Error> {
        let connection = self.redis(&connection)?;
        run::<i64>(
            connection,
            redis::cmd("PUBLISH").arg(channel).arg(payload).clone(),
        )
        .await
        .map(drop)
    }

    async fn get(
        &mut self,
        connection: Resource<OpenRedis>,
        key: String,
    ) -> Result<Option<Vec<u8>>, Error> {
        let connection = self.redis(&connection)?;
        run(connection, redis::cmd("GET").arg(key).clone()).await
    }

    async fn set(
        &mut self,
        connection: Resource<OpenRedis>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        let connection = self.redis(&connection)?;
        run::<()>(connection, redis::cmd("SET").arg(key).arg(value).clone()).await
    }

    async fn incr(&mut self, connection: Resource<OpenRedis>, key: String) -> Result<i64, Error> {
        let connection = self.redis(&connection)?;
        run(connection, redis::cmd("INCR").arg(key).clone()).await
    }

    async fn del(
        &mut self,
        connection: Resource<OpenRedis>,
        keys: Vec<String>,
    ) -> Result<u32, Error> {
        let connection = self.redis(&connection)?;
        run(connection, redis::cmd("DEL").arg(keys).clone()).await
    }

    async fn sadd(
        &mut self,
        connection: Resource<OpenRedis>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32, Error> {
        let connection = self.redis(&connection)?;
        run(connection, redis::cmd("SADD").arg(key).arg(values).clone()).await
    }

    async fn smembers(
        &mut self,
        connection: Resource<OpenRedis>,
        key: String,
    ) -> Result<Vec<String>, Error> {
        let connection = self.redis(&connection)?;
        run(connection, redis::cmd("SMEMBERS").arg(key).clone()).await
    }

    async fn srem(
        &mut self,
        connection: Resource<OpenRedis>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32, Error> {
        let connection = self.redis(&connection)?;
        run(connection, redis::cmd("SREM").arg(key).arg(values).clone()).await
    }

    async fn execute(
        &mut self,
        connection: Resource<OpenRedis>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> Result<Vec<RedisResult>, Error> {
        let connection = if needs_own_connection(&command) {
            self.own_connection(&connection).await?
        } else {
            self.redis(&connection)?
        };
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(n) => cmd.arg(n),
                RedisParameter::Binary(bytes) => cmd.arg(bytes),
            };
        }
        let value: Value = run(connection, cmd).await?;
        let mut results = Vec::new();
        to_results(value, &mut results);
        Ok(results)
    }

    async fn drop(&mut self, connection: Resource<OpenRedis>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}
