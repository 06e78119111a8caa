//! `fermyon:spin/mysql@2.0.0` on mysql_async, with a pool of connections per address shared
//! by every request of the app. Works with MySQL and MariaDB.
//!
//! An address must be granted in `allowed_outbound_hosts` (`mysql://host:port`); anything
//! else is `connection-failed` and no connection is made. Its `ssl-mode` says whether the
//! connection uses TLS and how much it checks ([`tls`]). Integer columns keep their
//! signedness (`UNSIGNED` reads as `uint*`); a column of a type the interface cannot carry
//! (dates, decimals, bits) reads as `unsupported`.

pub mod tls;
mod virtual_rows;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Opts, OptsBuilder, Params, Pool, PoolConstraints, PoolOpts, Value};
use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use super::client_tls::Verification;
use super::outbound::{OutboundClients, OutboundGrant};
use super::virtual_services::VirtualConnection;
use crate::capabilities::result_limit::{ResultBudget, SMALL_VALUE};
use crate::manifest::allowed_hosts::{AllowedHosts, Destination};
use bindings::fermyon::spin2_0_0::mysql;
use bindings::fermyon::spin2_0_0::rdbms_types::{
    self, Column, DbDataType, DbValue, Error, ParameterValue, RowSet,
};

/// Host bindings of `fermyon:spin/mysql@2.0.0`, from `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/mysql-host",
        imports: { default: async },
        with: {
            "fermyon:spin/mysql@2.0.0.connection": super::MysqlConnection,
        },
    });
}

/// How many connections one address may have open at once; more requests wait their turn.
const POOL_SIZE: usize = 32;

/// How long an idle pooled connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long getting a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The character set number MySQL gives binary strings (`BLOB`, `VARBINARY`).
const BINARY_CHARSET: u16 = 63;

/// The MySQL capability.
pub struct Mysql;

/// What one component may reach: the app's pools, at the addresses it is granted.
pub type MysqlGrant = OutboundClients<MysqlPools>;

impl Capability for Mysql {
    type App = Arc<MysqlPools>;
    type Grant = MysqlGrant;

    fn load(_: &AppContext<'_>) -> anyhow::Result<Self::App> {
        Ok(Arc::default())
    }

    fn grant(app: &Self::App, component: &ComponentContext<'_>) -> anyhow::Result<MysqlGrant> {
        Ok(OutboundClients::new(app, component.outbound))
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, MysqlGrant>,
    ) -> wasmtime::Result<()> {
        // `rdbms-types` only holds types; PostgreSQL links it too, and either may come first.
        rdbms_types::add_to_linker::<_, HasView<MysqlGrant>>(linker, view)?;
        mysql::add_to_linker::<_, HasView<MysqlGrant>>(linker, view)
    }
}

impl rdbms_types::Host for View<'_, MysqlGrant> {}

/// The pools of every address the app's components have used.
#[derive(Default)]
pub struct MysqlPools {
    pools: Mutex<HashMap<String, Pool>>,
}

impl MysqlPools {
    /// The pool of `key` (the address and whom it trusts), made with the options `opts`
    /// gives when there is none yet (TLS options hold every trusted root: they are made
    /// once, not on each request).
    fn pool(&self, key: &str, opts: impl FnOnce() -> Opts) -> Pool {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools
            .entry(key.to_owned())
            .or_insert_with(|| new_pool(opts()))
            .clone()
    }

    /// A new pool for `key`, in place of the one it had.
    fn replace(&self, key: &str, opts: Opts) -> Pool {
        let pool = new_pool(opts);
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.insert(key.to_owned(), pool.clone());
        pool
    }
}

fn new_pool(opts: Opts) -> Pool {
    let constraints = PoolConstraints::new(0, POOL_SIZE).unwrap_or_default();
    // Without an idle timeout, mysql_async keeps only `min` idle connections and closes
    // every other one as it comes back: a new connection per request.
    let pool_opts = PoolOpts::default()
        .with_constraints(constraints)
        .with_inactive_connection_ttl(IDLE_TIMEOUT);
    Pool::new(OptsBuilder::from_opts(opts).pool_opts(pool_opts))
}

/// A connection the guest has opened: the handle behind the `connection` resource.
pub enum MysqlConnection {
    /// A connection to a server, from the app's pool.
    Pooled(PooledConn),
    /// A unit test's stand-in.
    Virtual(VirtualConnection),
}

/// A connection from the app's pool. Dropping it gives the connection back to its pool.
pub struct PooledConn {
    conn: Conn,
    pool: Pool,
}

impl PooledConn {
    /// Runs `statement` (a statement on this connection) until `deadline` (the request's)
    /// at the most. A statement still running when it is given up on, at the deadline or
    /// because the guest's task was stopped, is killed on the server (`KILL QUERY`), where
    /// it would otherwise go on holding locks and the connection.
    async fn within_limit<T>(
        deadline: std::time::Instant,
        mut running: RunningStatement,
        statement: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout_at(deadline.into(), statement).await {
            Ok(result) => {
                running.0 = None;
                result
            }
            Err(_) => Err(Error::QueryFailed(
                "the statement ran past the request deadline and was stopped".into(),
            )),
        }
    }

    fn running(&self) -> RunningStatement {
        RunningStatement(Some((self.pool.clone(), self.conn.id())))
    }
}

/// A statement in progress on the connection with this id: killed on the server, through
/// another connection of the pool, if dropped before it is cleared.
struct RunningStatement(Option<(Pool, u32)>);

impl Drop for RunningStatement {
    fn drop(&mut self) {
        let Some((pool, id)) = self.0.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let killed = async {
                    let mut conn = pool.get_conn().await?;
                    conn.query_drop(format!("KILL QUERY {id}")).await
                };
                if let Err(error) = tokio::time::timeout(CONNECT_TIMEOUT, killed).await {
                    tracing::debug!("stopping a MySQL statement failed: {error}");
                }
            });
        }
    }
}

/// Checks the address and the grant, then takes a connection from the app's pool, over TLS
/// as the address's `ssl-mode` says and trusting what `outbound` trusts for its host.
pub async fn open(
    pools: &MysqlPools,
    allowed: &AllowedHosts,
    outbound: &OutboundGrant,
    address: &str,
) -> Result<MysqlConnection, Error> {
    let invalid = |e: String| Error::ConnectionFailed(format!("invalid MySQL address: {e}"));
    let (rest, mode) = tls::take_ssl_mode(address).map_err(invalid)?;
    let opts = Opts::from_url(&rest).map_err(|e| invalid(e.to_string()))?;
    if opts.socket().is_some() {
        return Err(Error::ConnectionFailed(
            "Unix socket addresses are not supported; use mysql://host:port".into(),
        ));
    }
    allowed
        .check(&Destination {
            scheme: "mysql",
            host: opts.ip_or_hostname().to_owned(),
            port: opts.tcp_port(),
        })
        .map_err(Error::ConnectionFailed)?;
    if let Some(stand_in) = outbound.virtual_connection(address) {
        return Ok(MysqlConnection::Virtual(stand_in));
    }
    let mode = match mode {
        Some(mode) => mode,
        // mysql_async's own parameters (`require_ssl=true`, ...), as it reads them.
        None if opts.ssl_opts().is_some() => {
            return checkout(pools.pool(address, || opts))
                .await
                .map(MysqlConnection::Pooled)
                .map_err(connect_error);
        }
        None => tls::SslMode::Preferred,
    };
    let trust = outbound.tls_trust(opts.ip_or_hostname());
    let key = format!("{address}\u{0}{:x}", trust.fingerprint);
    let with_tls = |verification| -> Opts {
        OptsBuilder::from_opts(opts.clone())
            .ssl_opts(Some(tls::ssl_opts(&trust, verification)))
            .into()
    };
    let checked_out = match mode {
        tls::SslMode::Disabled => {
            let plain = || OptsBuilder::from_opts(opts.clone()).ssl_opts(None).into();
            checkout(pools.pool(&key, plain)).await
        }
        tls::SslMode::Required(verification) => {
            checkout(pools.pool(&key, || with_tls(verification))).await
        }
        tls::SslMode::Preferred => {
            let pool = pools.pool(&key, || with_tls(Verification::Unverified));
            match checkout(pool).await {
                // The server speaks no TLS: from now on, this address goes without.
                Err(error) if offers_no_tls(&error) => checkout(pools.replace(&key, opts)).await,
                other => other,
            }
        }
    };
    checked_out.map(MysqlConnection::Pooled).map_err(|error| {
        if offers_no_tls(&error) {
            return Error::ConnectionFailed(
                "the server offers no TLS, which the address's ssl-mode requires".into(),
            );
        }
        let mut message = error.to_string();
        if mode == tls::SslMode::Required(Verification::ChainOnly)
            && message.contains("not valid for name")
        {
            message.push_str(tls::VERIFY_CA_CHECKS_NAMES);
        }
        Error::ConnectionFailed(message)
    })
}

fn offers_no_tls(error: &mysql_async::Error) -> bool {
    matches!(
        error,
        mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer)
    )
}

fn connect_error(error: mysql_async::Error) -> Error {
    Error::ConnectionFailed(error.to_string())
}

/// A connection from `pool`, within [`CONNECT_TIMEOUT`].
async fn checkout(pool: Pool) -> Result<PooledConn, mysql_async::Error> {
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, pool.get_conn())
        .await
        .map_err(|_| {
            mysql_async::Error::Other(format!("no connection within {CONNECT_TIMEOUT:?}").into())
        })??;
    Ok(PooledConn { conn, pool })
}

fn to_value(value: &ParameterValue) -> Value {
    match value {
        ParameterValue::Boolean(b) => Value::Int((*b).into()),
        ParameterValue::Int8(i) => Value::Int((*i).into()),
        ParameterValue::Int16(i) => Value::Int((*i).into()),
        ParameterValue::Int32(i) => Value::Int((*i).into()),
        ParameterValue::Int64(i) => Value::Int(*i),
        ParameterValue::Uint8(u) => Value::UInt((*u).into()),
        ParameterValue::Uint16(u) => Value::UInt((*u).into()),
        ParameterValue::Uint32(u) => Value::UInt((*u).into()),
        ParameterValue::Uint64(u) => Value::UInt(*u),
        ParameterValue::Floating32(f) => Value::Float(*f),
        ParameterValue::Floating64(f) => Value::Double(*f),
        ParameterValue::Str(s) => Value::Bytes(s.clone().into_bytes()),
        ParameterValue::Binary(b) => Value::Bytes(b.clone()),
        ParameterValue::DbNull => Value::NULL,
    }
}

fn to_params(params: &[ParameterValue]) -> Params {
    if params.is_empty() {
        Params::Empty
    } else {
        Params::Positional(params.iter().map(to_value).collect())
    }
}

fn column_type(column: &mysql_async::Column) -> DbDataType {
    let unsigned = column.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    let pick = |signed, unsigned_type| if unsigned { unsigned_type } else { signed };
    match column.column_type() {
        ColumnType::MYSQL_TYPE_TINY => pick(DbDataType::Int8, DbDataType::Uint8),
        ColumnType::MYSQL_TYPE_SHORT | ColumnType::MYSQL_TYPE_YEAR => {
            pick(DbDataType::Int16, DbDataType::Uint16)
        }
        ColumnType::MYSQL_TYPE_LONG | ColumnType::MYSQL_TYPE_INT24 => {
            pick(DbDataType::Int32, DbDataType::Uint32)
        }
        ColumnType::MYSQL_TYPE_LONGLONG => pick(DbDataType::Int64, DbDataType::Uint64),
        ColumnType::MYSQL_TYPE_FLOAT => DbDataType::Floating32,
        ColumnType::MYSQL_TYPE_DOUBLE => DbDataType::Floating64,
        ColumnType::MYSQL_TYPE_VARCHAR
        | ColumnType::MYSQL_TYPE_VAR_STRING
        | ColumnType::MYSQL_TYPE_STRING
        | ColumnType::MYSQL_TYPE_TINY_BLOB
        | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
        | ColumnType::MYSQL_TYPE_LONG_BLOB
        | ColumnType::MYSQL_TYPE_BLOB
        | ColumnType::MYSQL_TYPE_ENUM
        | ColumnType::MYSQL_TYPE_SET
        | ColumnType::MYSQL_TYPE_JSON => {
            if column.character_set() == BINARY_CHARSET {
                DbDataType::Binary
            } else {
                DbDataType::Str
            }
        }
        _ => DbDataType::Other,
    }
}

fn read_value(value: Value, ty: DbDataType, column: &str) -> Result<DbValue, Error> {
    let failed = |value: &Value| {
        Error::ValueConversionFailed(format!(
            "column {column:?}: cannot read {value:?} as {ty:?}"
        ))
    };
    let integer = |value: &Value| -> Option<i128> {
        match value {
            Value::Int(i) => Some((*i).into()),
            Value::UInt(u) => Some((*u).into()),
            // The text protocol sends numbers as text.
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }
    };
    macro_rules! int {
        ($variant:ident, $ty:ty) => {
            integer(&value)
                .and_then(|i| <$ty>::try_from(i).ok())
                .map(DbValue::$variant)
                .ok_or_else(|| failed(&value))?
        };
    }
    if value == Value::NULL {
        return Ok(DbValue::DbNull);
    }
    Ok(match ty {
        DbDataType::Int8 => int!(Int8, i8),
        DbDataType::Int16 => int!(Int16, i16),
        DbDataType::Int32 => int!(Int32, i32),
        DbDataType::Int64 => int!(Int64, i64),
        DbDataType::Uint8 => int!(Uint8, u8),
        DbDataType::Uint16 => int!(Uint16, u16),
        DbDataType::Uint32 => int!(Uint32, u32),
        DbDataType::Uint64 => int!(Uint64, u64),
        DbDataType::Floating32 => match &value {
            Value::Float(f) => DbValue::Floating32(*f),
            Value::Double(d) => DbValue::Floating32(*d as f32),
            _ => return Err(failed(&value)),
        },
        DbDataType::Floating64 => match &value {
            Value::Double(d) => DbValue::Floating64(*d),
            Value::Float(f) => DbValue::Floating64((*f).into()),
            _ => return Err(failed(&value)),
        },
        DbDataType::Str => match value {
            Value::Bytes(bytes) => DbValue::Str(String::from_utf8(bytes).map_err(|_| {
                Error::ValueConversionFailed(format!("column {column:?}: not UTF-8"))
            })?),
            other => return Err(failed(&other)),
        },
        DbDataType::Binary => match value {
            Value::Bytes(bytes) => DbValue::Binary(bytes),
            other => return Err(failed(&other)),
        },
        _ => DbValue::Unsupported,
    })
}

fn query_failed(error: mysql_async::Error) -> Error {
    match error {
        mysql_async::Error::Server(server) => {
            Error::QueryFailed(format!("{} ({})", server.message, server.code))
        }
        mysql_async::Error::Driver(driver) => Error::BadParameter(driver.to_string()),
        other => Error::QueryFailed(other.to_string()),
    }
}

impl mysql::Host for View<'_, MysqlGrant> {}

impl mysql::HostConnection for View<'_, MysqlGrant> {
    async fn open(&mut self, address: String) -> Result<Resource<MysqlConnection>, Error> {
        let allowed = self
            .grant
            .outbound
            .allowed_hosts()
            .await
            .map_err(Error::ConnectionFailed)?;
        let conn = open(
            &self.grant.clients,
            &allowed,
            &self.grant.outbound,
            &address,
        )
        .await?;
        self.table
            .push(conn)
            .map_err(|e| Error::Other(format!("too many open connections: {e}")))
    }

    async fn query(
        &mut self,
        connection: Resource<MysqlConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let open = match self.table.get_mut(&connection) {
            Ok(MysqlConnection::Pooled(open)) => open,
            Ok(MysqlConnection::Virtual(stand_in)) => {
                return virtual_rows::query(stand_in, &statement, &params).await
            }
            Err(_) => return Err(Error::Other("no such connection".into())),
        };
        let running = open.running();
        PooledConn::within_limit(
            self.deadline,
            running,
            query_rows(&mut open.conn, statement, params),
        )
        .await
    }

    async fn execute(
        &mut self,
        connection: Resource<MysqlConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<(), Error> {
        let open = match self.table.get_mut(&connection) {
            Ok(MysqlConnection::Pooled(open)) => open,
            Ok(MysqlConnection::Virtual(stand_in)) => {
                return virtual_rows::execute(stand_in, &statement, &params).await
            }
            Err(_) => return Err(Error::Other("no such connection".into())),
        };
        let running = open.running();
        let statement = open.conn.exec_drop(statement, to_params(&params));
        PooledConn::within_limit(self.deadline, running, async {
            statement.await.map_err(query_failed)
        })
        .await
    }

    async fn drop(&mut self, connection: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}

/// Runs a query on `conn` and reads its rows, within the result budget.
async fn query_rows(
    conn: &mut Conn,
    statement: String,
    params: Vec<ParameterValue>,
) -> Result<RowSet, Error> {
    let mut result = conn
        .exec_iter(statement, to_params(&params))
        .await
        .map_err(query_failed)?;
    let described = result.columns().map(|c| c.to_vec()).unwrap_or_default();
    let types: Vec<DbDataType> = described.iter().map(column_type).collect();
    let names: Vec<String> = described
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    // Row by row, so that a result over the limit is refused before it is all in memory.
    let mut budget = ResultBudget::new();
    let mut rows = Vec::new();
    while let Some(row) = result.next().await.map_err(query_failed)? {
        let values = row.unwrap();
        let size = values
            .iter()
            .map(|value| match value {
                Value::Bytes(bytes) => bytes.len(),
                _ => SMALL_VALUE,
            })
            .sum();
        budget.add_row(size).map_err(Error::QueryFailed)?;
        rows.push(
            values
                .into_iter()
                .zip(&types)
                .zip(&names)
                .map(|((value, ty), name)| read_value(value, *ty, name))
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    let columns = names
        .into_iter()
        .zip(types)
        .map(|(name, data_type)| Column { name, data_type })
        .collect();
    Ok(RowSet { columns, rows })
}
