//! PostgreSQL on tokio-postgres, with a pool of connections per address shared by every
//! request of the app, behind three interfaces: Spin 3's `spin:postgres/postgres@4.0.0` (dates
//! and times, UUID, JSON, numeric, ranges, arrays, intervals: [`v4`]), and, answered through
//! the same code, Spin 3.0's `spin:postgres/postgres@3.0.0` (`v3`) and Spin 2's
//! `fermyon:spin/postgres@2.0.0` (`v2`).
//!
//! An address must be granted in `allowed_outbound_hosts` (`postgres://host:port`); anything
//! else is `connection-failed` and no connection is made. Its `sslmode` says whether the
//! connection uses TLS and how much it checks ([`tls`]). Parameters are converted to the
//! types the server infers for them; a column of a type the interface cannot carry reads as
//! `unsupported`.

pub mod tls;
mod v2;
mod v3;
pub mod v4;
mod virtual_rows;
pub mod wire;

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tls::RustlsConnect;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, NoTls};
use wasmtime::component::Linker;

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use super::outbound::{OutboundClients, OutboundGrant};
use super::virtual_services::VirtualConnection;
use crate::manifest::allowed_hosts::{AllowedHosts, Destination};
use bindings::fermyon::spin2_0_0::{postgres as postgres2, rdbms_types};
use bindings::spin::postgres4_0_0::postgres::{self as postgres4, Error, QueryError};

/// Host bindings of `fermyon:spin/postgres@2.0.0` and `spin:postgres/postgres@3.0.0` and
/// `@4.0.0`, from `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/postgres-host",
        imports: { default: async },
        with: {
            "fermyon:spin/postgres@2.0.0.connection": super::PostgresConnection,
            "spin:postgres/postgres@3.0.0.connection": super::PostgresConnection,
            "spin:postgres/postgres@4.0.0.connection": super::PostgresConnection,
        },
    });
}

/// Implements an older interface's `connection` over the 4.0.0 code, and `narrow_error`
/// (its errors have 4.0.0's cases, with a plain-text query error). The invoking module
/// provides `widen` (its parameter to 4.0.0's), `narrow_type` and `narrow_value` (4.0.0's to
/// its own).
macro_rules! older_interface {
    ($interface:ident, $Error:ident, $ParameterValue:ty, $RowSet:ident, $Column:ident) => {
        fn narrow_error(error: pg4::Error) -> $Error {
            match error {
                pg4::Error::ConnectionFailed(m) => $Error::ConnectionFailed(m),
                pg4::Error::BadParameter(m) => $Error::BadParameter(m),
                pg4::Error::QueryFailed(pg4::QueryError::Text(m)) => $Error::QueryFailed(m),
                pg4::Error::QueryFailed(pg4::QueryError::DbError(db)) => {
                    $Error::QueryFailed(db.as_text)
                }
                pg4::Error::ValueConversionFailed(m) => $Error::ValueConversionFailed(m),
                pg4::Error::Other(m) => $Error::Other(m),
            }
        }

        impl $interface::Host for $crate::capabilities::capability::View<'_, super::PostgresGrant> {}

        impl $interface::HostConnection
            for $crate::capabilities::capability::View<'_, super::PostgresGrant>
        {
            async fn open(
                &mut self,
                address: String,
            ) -> Result<wasmtime::component::Resource<super::PostgresConnection>, $Error> {
                self.open_postgres(&address).await.map_err(narrow_error)
            }

            async fn query(
                &mut self,
                connection: wasmtime::component::Resource<super::PostgresConnection>,
                statement: String,
                params: Vec<$ParameterValue>,
            ) -> Result<$RowSet, $Error> {
                let params: Vec<_> = params.into_iter().map(widen).collect();
                let client = self.postgres_client(&connection).map_err(narrow_error)?;
                let rows = super::v4::query(client, &statement, &params, self.deadline)
                    .await
                    .map_err(narrow_error)?;
                Ok($RowSet {
                    columns: rows
                        .columns
                        .iter()
                        .map(|c| $Column {
                            name: c.name.clone(),
                            data_type: narrow_type(&c.data_type),
                        })
                        .collect(),
                    rows: rows
                        .rows
                        .into_iter()
                        .map(|row| row.into_iter().map(narrow_value).collect())
                        .collect(),
                })
            }

            async fn execute(
                &mut self,
                connection: wasmtime::component::Resource<super::PostgresConnection>,
                statement: String,
                params: Vec<$ParameterValue>,
            ) -> Result<u64, $Error> {
                let params: Vec<_> = params.into_iter().map(widen).collect();
                let client = self.postgres_client(&connection).map_err(narrow_error)?;
                super::v4::execute(client, &statement, &params, self.deadline)
                    .await
                    .map_err(narrow_error)
            }

            async fn drop(
                &mut self,
                connection: wasmtime::component::Resource<super::PostgresConnection>,
            ) -> wasmtime::Result<()> {
                self.table.delete(connection)?;
                Ok(())
            }
        }
    };
}
use older_interface;

/// How many connections one address may have open at once; more requests wait their turn.
const POOL_SIZE: usize = 32;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the `ROLLBACK` of a connection a guest gave back may take before the connection
/// is closed instead of reused.
const ROLLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL capability, both interface versions.
pub struct Postgres;

/// What one component may reach: the app's pools, at the addresses it is granted.
pub type PostgresGrant = OutboundClients<PostgresPools>;

impl Capability for Postgres {
    type App = Arc<PostgresPools>;
    type Grant = PostgresGrant;

    fn load(_: &AppContext<'_>) -> anyhow::Result<Self::App> {
        Ok(Arc::default())
    }

    fn grant(app: &Self::App, component: &ComponentContext<'_>) -> anyhow::Result<PostgresGrant> {
        Ok(OutboundClients::new(app, component.outbound))
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, PostgresGrant>,
    ) -> wasmtime::Result<()> {
        // `rdbms-types` only holds types; MySQL links it too, and either may come first.
        rdbms_types::add_to_linker::<_, HasView<PostgresGrant>>(linker, view)?;
        postgres2::add_to_linker::<_, HasView<PostgresGrant>>(linker, view)?;
        bindings::spin::postgres3_0_0::postgres::add_to_linker::<_, HasView<PostgresGrant>>(
            linker, view,
        )?;
        postgres4::add_to_linker::<_, HasView<PostgresGrant>>(linker, view)
    }
}

impl rdbms_types::Host for View<'_, PostgresGrant> {}

/// The pools of every address the app's components have used.
#[derive(Default)]
pub struct PostgresPools {
    pools: Mutex<HashMap<String, Arc<Pool>>>,
}

impl PostgresPools {
    /// The pool of `key` (the address and whom it trusts), made with `config` and `tls`
    /// when there is none yet.
    fn pool(
        &self,
        key: String,
        config: tokio_postgres::Config,
        tls: Option<RustlsConnect>,
    ) -> Arc<Pool> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Pool {
                    config,
                    tls,
                    idle: Mutex::new(Vec::new()),
                    permits: Arc::new(Semaphore::new(POOL_SIZE)),
                })
            })
            .clone()
    }
}

/// Connections to one address.
struct Pool {
    config: tokio_postgres::Config,
    /// `None` for `sslmode=disable`.
    tls: Option<RustlsConnect>,
    idle: Mutex<Vec<Client>>,
    permits: Arc<Semaphore>,
}

impl Pool {
    async fn checkout(self: &Arc<Self>) -> Result<PooledClient, Error> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Other("the connection pool is closed".into()))?;
        loop {
            let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match idle {
                Some(client) if !client.is_closed() => {
                    return Ok(PooledClient {
                        client: Some(client),
                        pool: self.clone(),
                        permit: Some(permit),
                    })
                }
                Some(_closed) => continue,
                None => break,
            }
        }
        let client = tokio::time::timeout(CONNECT_TIMEOUT, self.connect())
            .await
            .map_err(|_| {
                Error::ConnectionFailed(format!("no connection within {CONNECT_TIMEOUT:?}"))
            })?
            .map_err(|e| Error::ConnectionFailed(connect_error(&e)))?;
        Ok(PooledClient {
            client: Some(client),
            pool: self.clone(),
            permit: Some(permit),
        })
    }
}

impl Pool {
    /// A new connection, its I/O driven by a task of its own.
    async fn connect(&self) -> Result<Client, tokio_postgres::Error> {
        // The two kinds of connection are different types; each gets one task to drive it.
        fn drive(
            connection: impl std::future::Future<Output = Result<(), tokio_postgres::Error>>
                + Send
                + 'static,
        ) {
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!("a PostgreSQL connection ended: {error}");
                }
            });
        }
        match &self.tls {
            None => {
                let (client, connection) = self.config.connect(NoTls).await?;
                drive(connection);
                Ok(client)
            }
            Some(tls) => {
                let (client, connection) = self.config.connect(tls.clone()).await?;
                drive(connection);
                Ok(client)
            }
        }
    }
}

/// A connection error with its cause: tokio-postgres's own text of a failed TLS handshake
/// says only "error performing TLS handshake".
fn connect_error(error: &tokio_postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// A connection the guest has opened: the handle behind the `connection` resource.
pub enum PostgresConnection {
    /// A connection to a server, from the app's pool.
    Pooled(PooledClient),
    /// A unit test's stand-in.
    Virtual(VirtualConnection),
}

/// A connection from the app's pool. It goes back to its pool when the guest drops it or the
/// instance ends.
pub struct PooledClient {
    client: Option<Client>,
    pool: Arc<Pool>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for PooledClient {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if client.is_closed() {
            return;
        }
        // A guest may have left a transaction open (a `BEGIN` and then a trap): roll it back
        // before anyone else gets the connection, or the next request would run inside it.
        // The pool slot is free at once (the connection is not idle until the rollback is
        // done), and a rollback that does not finish in time closes the connection.
        drop(self.permit.take());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let pool = self.pool.clone();
        runtime.spawn(async move {
            let rollback = tokio::time::timeout(ROLLBACK_TIMEOUT, client.batch_execute("ROLLBACK"));
            if let Ok(Ok(())) = rollback.await {
                let mut idle = pool.idle.lock().unwrap_or_else(|e| e.into_inner());
                if idle.len() < POOL_SIZE {
                    idle.push(client);
                }
            }
        });
    }
}

impl PooledClient {
    pub(crate) fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a pooled client holds its connection until dropped")
    }

    /// Runs one statement until `deadline` (the request's) at the most. A statement that is
    /// still running when it is given up on, at the deadline or because the guest's task
    /// was stopped, is cancelled on the server: it would otherwise go on there, holding
    /// locks and the connection.
    pub(crate) async fn within_limit<T>(
        &self,
        deadline: std::time::Instant,
        statement: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let mut running =
            RunningStatement(Some((self.client().cancel_token(), self.pool.tls.clone())));
        let outcome = tokio::time::timeout_at(deadline.into(), statement).await;
        match outcome {
            Ok(result) => {
                running.0 = None;
                result
            }
            Err(_) => Err(Error::QueryFailed(QueryError::Text(
                "the statement ran past the request deadline and was cancelled".into(),
            ))),
        }
    }
}

/// A statement in progress: cancelled on the server if dropped before it is cleared. The
/// cancel request goes over a connection of its own, with the same TLS as the statement's.
struct RunningStatement(Option<(tokio_postgres::CancelToken, Option<RustlsConnect>)>);

impl Drop for RunningStatement {
    fn drop(&mut self) {
        let Some((token, tls)) = self.0.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let cancelled = match tls {
                    None => token.cancel_query(NoTls).await,
                    Some(tls) => token.cancel_query(tls).await,
                };
                if let Err(error) = cancelled {
                    tracing::debug!("cancelling a PostgreSQL statement failed: {error}");
                }
            });
        }
    }
}

/// Checks the address and the grant, then takes a connection from the app's pool, over TLS
/// as the address's `sslmode` says and trusting what `outbound` trusts for its host.
pub async fn open(
    pools: &PostgresPools,
    allowed: &AllowedHosts,
    outbound: &OutboundGrant,
    address: &str,
) -> Result<PostgresConnection, Error> {
    let invalid = |e: String| Error::ConnectionFailed(format!("invalid PostgreSQL address: {e}"));
    let (rest, ssl_mode) = tls::take_ssl_mode(address).map_err(invalid)?;
    let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| invalid(e.to_string()))?;
    config.ssl_mode(ssl_mode.driver_mode());
    let destinations = destinations(&config).map_err(Error::ConnectionFailed)?;
    for destination in &destinations {
        allowed
            .check(destination)
            .map_err(Error::ConnectionFailed)?;
    }
    if let Some(stand_in) = outbound.virtual_connection(address) {
        return Ok(PostgresConnection::Virtual(stand_in));
    }
    // The certificate names the host as written, not a `hostaddr` it resolves to.
    let tls_host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(name)) => name.clone(),
        _ => destinations[0].host.clone(),
    };
    let (tls, key) = match ssl_mode.verification() {
        None => (None, address.to_owned()),
        Some(verification) => {
            let trust = outbound.tls_trust(&tls_host);
            let config = trust
                .rustls_config(verification)
                .map_err(|e| Error::ConnectionFailed(format!("{e:#}")))?;
            (
                Some(RustlsConnect(config)),
                format!("{address}\u{0}{:x}", trust.fingerprint),
            )
        }
    };
    pools
        .pool(key, config, tls)
        .checkout()
        .await
        .map(PostgresConnection::Pooled)
}

/// Every place tokio-postgres may connect to for `config`, in the order it tries them: for
/// each host, its `hostaddr` when one is given (the name is then only used for TLS), or else
/// the name, with its port. A grant check that looked only at the names would let
/// `postgres://granted/db?hostaddr=169.254.169.254` through.
fn destinations(config: &tokio_postgres::Config) -> Result<Vec<Destination>, String> {
    let (hosts, addresses, ports) = (
        config.get_hosts(),
        config.get_hostaddrs(),
        config.get_ports(),
    );
    let count = hosts.len().max(addresses.len());
    if count == 0 {
        return Err("the address names no host".into());
    }
    if !hosts.is_empty() && !addresses.is_empty() && hosts.len() != addresses.len() {
        return Err(format!(
            "the address names {} hosts but {} hostaddrs",
            hosts.len(),
            addresses.len()
        ));
    }
    if ports.len() > 1 && ports.len() != count {
        return Err(format!(
            "the address names {count} hosts but {} ports",
            ports.len()
        ));
    }
    (0..count)
        .map(|index| {
            let host = match (addresses.get(index), hosts.get(index)) {
                (Some(ip), _) => ip.to_string(),
                (None, Some(tokio_postgres::config::Host::Tcp(name))) => name.clone(),
                (None, _) => {
                    return Err(
                        "Unix socket addresses are not supported; use postgres://host:port"
                            .to_owned(),
                    )
                }
            };
            let port = ports.get(index).or(ports.first()).copied().unwrap_or(5432);
            Ok(Destination {
                scheme: "postgres",
                host,
                port,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(entries.iter().copied()).unwrap()
    }

    /// Whether `address` would be connected to under `entries`.
    fn reaches(entries: &[&str], address: &str) -> bool {
        let Ok(config) = tokio_postgres::Config::from_str(address) else {
            return false;
        };
        let allowed = allowed(entries);
        destinations(&config).is_ok_and(|all| all.iter().all(|d| allowed.check(d).is_ok()))
    }

    #[test]
    fn every_place_tokio_postgres_connects_to_must_be_granted() {
        let grant = ["postgres://db.example.com:5432"];
        assert!(reaches(&grant, "postgres://u@db.example.com:5432/app"));
        assert!(
            reaches(&grant, "postgres://u@DB.Example.COM/app"),
            "default port, any case"
        );
        // hostaddr decides where the connection goes; the granted name is only for TLS.
        assert!(!reaches(
            &grant,
            "postgres://u@db.example.com:5432/app?hostaddr=169.254.169.254"
        ));
        assert!(!reaches(
            &grant,
            "host=db.example.com hostaddr=169.254.169.254 user=u dbname=app"
        ));
        // A second host, from the query or a list, is checked as well as the first.
        assert!(!reaches(
            &grant,
            "postgres://u@db.example.com/app?host=evil.example.net"
        ));
        assert!(!reaches(
            &grant,
            "postgres://u@db.example.com,evil.example.net/app"
        ));
        // A port from the query replaces the granted one.
        assert!(!reaches(
            &grant,
            "postgres://u@db.example.com/app?port=6432"
        ));
        // Userinfo that looks like a host is only a user name.
        assert!(!reaches(
            &grant,
            "postgres://db.example.com@evil.example.net/app"
        ));
        // A Unix socket is never a granted destination.
        assert!(!reaches(
            &grant,
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/app"
        ));
        assert!(!reaches(&grant, "host=/var/run/postgresql user=u"));

        // The same address with the IP granted connects.
        let by_ip = ["postgres://10.1.2.3:5432"];
        assert!(reaches(
            &by_ip,
            "host=db.example.com hostaddr=10.1.2.3 user=u"
        ));
        assert!(reaches(&by_ip, "postgres://u@10.1.2.3/app"));
        assert!(!reaches(&by_ip, "postgres://u@10.1.2.4/app"));
        let v6 = ["postgres://[::1]:5432"];
        assert!(reaches(&v6, "postgres://u@[::1]:5432/app"));
        assert!(!reaches(&v6, "postgres://u@[::2]:5432/app"));
    }
}
