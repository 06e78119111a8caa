//! `fermyon:spin/postgres@2.0.0` on tokio-postgres, with a pool of connections per address
//! shared by every request of the app.
//!
//! An address must be granted in `allowed_outbound_hosts` (`postgres://host:port`); anything
//! else is `connection-failed` and no connection is made. Parameters are converted to the
//! types the server infers for them; a column of a type the interface cannot carry reads as
//! `unsupported`.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::{Client, NoTls};
use wasmtime::component::Resource;

use super::bindings::fermyon::spin2_0_0::postgres;
use super::bindings::fermyon::spin2_0_0::rdbms_types::{
    Column, DbDataType, DbValue, Error, ParameterValue, RowSet,
};
use super::outbound_http::{AllowedHosts, Destination};
use super::rdbms::kind_of;
use crate::state::HostState;

/// How many connections one address may have open at once; more requests wait their turn.
const POOL_SIZE: usize = 32;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The pools of every address the app's components have used.
#[derive(Default)]
pub struct PostgresPools {
    pools: Mutex<HashMap<String, Arc<Pool>>>,
}

impl PostgresPools {
    fn pool(&self, address: &str, config: tokio_postgres::Config) -> Arc<Pool> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools
            .entry(address.to_owned())
            .or_insert_with(|| {
                Arc::new(Pool {
                    config,
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
        let connecting = self.config.connect(NoTls);
        let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| {
                Error::ConnectionFailed(format!("no connection within {CONNECT_TIMEOUT:?}"))
            })?
            .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("a PostgreSQL connection ended: {error}");
            }
        });
        Ok(PooledClient {
            client: Some(client),
            pool: self.clone(),
            permit: Some(permit),
        })
    }
}

/// A connection the guest has opened: the handle behind the `connection` resource. It goes
/// back to its pool when the guest drops it or the instance ends.
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
        // The pool slot stays taken until that is done.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let pool = self.pool.clone();
        let permit = self.permit.take();
        runtime.spawn(async move {
            if client.batch_execute("ROLLBACK").await.is_ok() {
                pool.idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(client);
            }
            drop(permit);
        });
    }
}

impl PooledClient {
    fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a pooled client holds its connection until dropped")
    }
}

/// Checks the address and the grant, then takes a connection from the app's pool.
pub async fn open(
    pools: &PostgresPools,
    allowed: &AllowedHosts,
    address: &str,
) -> Result<PooledClient, Error> {
    let config = tokio_postgres::Config::from_str(address)
        .map_err(|e| Error::ConnectionFailed(format!("invalid PostgreSQL address: {e}")))?;
    let mut destinations = Vec::new();
    for (index, host) in config.get_hosts().iter().enumerate() {
        let tokio_postgres::config::Host::Tcp(name) = host else {
            return Err(Error::ConnectionFailed(
                "Unix socket addresses are not supported; use postgres://host:port".into(),
            ));
        };
        let port = config
            .get_ports()
            .get(index)
            .or(config.get_ports().first())
            .copied()
            .unwrap_or(5432);
        destinations.push(Destination {
            scheme: "postgres",
            host: name.clone(),
            port,
        });
    }
    if destinations.is_empty() {
        return Err(Error::ConnectionFailed("the address names no host".into()));
    }
    for destination in &destinations {
        allowed
            .check(destination)
            .map_err(Error::ConnectionFailed)?;
    }
    pools.pool(address, config).checkout().await
}

/// The type a result column reports, and how its values are read.
fn column_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::OID => DbDataType::Uint32,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        _ => DbDataType::Other,
    }
}

fn read_value(row: &tokio_postgres::Row, index: usize, ty: DbDataType) -> Result<DbValue, Error> {
    fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
        row: &'a tokio_postgres::Row,
        index: usize,
    ) -> Result<Option<T>, Error> {
        row.try_get::<_, Option<T>>(index)
            .map_err(|e| Error::ValueConversionFailed(format!("column {index}: {e}")))
    }
    let value = match ty {
        DbDataType::Boolean => get::<bool>(row, index)?.map(DbValue::Boolean),
        DbDataType::Int8 => get::<i8>(row, index)?.map(DbValue::Int8),
        DbDataType::Int16 => get::<i16>(row, index)?.map(DbValue::Int16),
        DbDataType::Int32 => get::<i32>(row, index)?.map(DbValue::Int32),
        DbDataType::Int64 => get::<i64>(row, index)?.map(DbValue::Int64),
        DbDataType::Uint32 => get::<u32>(row, index)?.map(DbValue::Uint32),
        DbDataType::Floating32 => get::<f32>(row, index)?.map(DbValue::Floating32),
        DbDataType::Floating64 => get::<f64>(row, index)?.map(DbValue::Floating64),
        DbDataType::Str => get::<String>(row, index)?.map(DbValue::Str),
        DbDataType::Binary => get::<Vec<u8>>(row, index)?.map(DbValue::Binary),
        _ => {
            // Only NULL-ness can be read from a type the interface cannot carry.
            let raw = row
                .try_get::<_, Option<RawValue>>(index)
                .map_err(|e| Error::ValueConversionFailed(format!("column {index}: {e}")))?;
            return Ok(if raw.is_some() {
                DbValue::Unsupported
            } else {
                DbValue::DbNull
            });
        }
    };
    Ok(value.unwrap_or(DbValue::DbNull))
}

/// Any value, read as nothing: tells NULL from not NULL for unsupported types.
struct RawValue;

impl<'a> tokio_postgres::types::FromSql<'a> for RawValue {
    fn from_sql(_: &Type, _: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawValue)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// NULL, for a parameter of any type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

type Parameter = Box<dyn ToSql + Sync + Send>;

/// Converts a guest's parameter to the type the server expects for `$position`.
fn to_parameter(value: &ParameterValue, ty: &Type, position: usize) -> Result<Parameter, Error> {
    let integer: Option<i128> = match value {
        ParameterValue::Int8(i) => Some((*i).into()),
        ParameterValue::Int16(i) => Some((*i).into()),
        ParameterValue::Int32(i) => Some((*i).into()),
        ParameterValue::Int64(i) => Some((*i).into()),
        ParameterValue::Uint8(u) => Some((*u).into()),
        ParameterValue::Uint16(u) => Some((*u).into()),
        ParameterValue::Uint32(u) => Some((*u).into()),
        ParameterValue::Uint64(u) => Some((*u).into()),
        _ => None,
    };
    let mismatch = || {
        Error::BadParameter(format!(
            "${position}: cannot send {} as PostgreSQL {ty}",
            kind_of(value)
        ))
    };
    let out_of_range = || {
        Error::BadParameter(format!(
            "${position}: {} does not fit in PostgreSQL {ty}",
            integer.unwrap_or_default()
        ))
    };
    Ok(match (value, ty) {
        (ParameterValue::DbNull, _) => Box::new(Null),
        (ParameterValue::Boolean(b), &Type::BOOL) => Box::new(*b),
        (_, &Type::INT2) => {
            Box::new(i16::try_from(integer.ok_or_else(mismatch)?).map_err(|_| out_of_range())?)
        }
        (_, &Type::INT4) => {
            Box::new(i32::try_from(integer.ok_or_else(mismatch)?).map_err(|_| out_of_range())?)
        }
        (_, &Type::INT8) => {
            Box::new(i64::try_from(integer.ok_or_else(mismatch)?).map_err(|_| out_of_range())?)
        }
        (_, &Type::OID) => {
            Box::new(u32::try_from(integer.ok_or_else(mismatch)?).map_err(|_| out_of_range())?)
        }
        (ParameterValue::Floating32(f), &Type::FLOAT4) => Box::new(*f),
        (ParameterValue::Floating32(f), &Type::FLOAT8) => Box::new(f64::from(*f)),
        (ParameterValue::Floating64(f), &Type::FLOAT8) => Box::new(*f),
        (ParameterValue::Floating64(f), &Type::FLOAT4) => Box::new(*f as f32),
        (_, &Type::FLOAT8) if integer.is_some() => Box::new(integer.unwrap_or_default() as f64),
        (ParameterValue::Str(s), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME) => {
            Box::new(s.clone())
        }
        (ParameterValue::Str(s), &Type::UNKNOWN) => Box::new(s.clone()),
        (ParameterValue::Binary(b), &Type::BYTEA) => Box::new(b.clone()),
        _ => return Err(mismatch()),
    })
}

async fn prepare_parameters(
    client: &Client,
    statement: &str,
    params: &[ParameterValue],
) -> Result<(tokio_postgres::Statement, Vec<Parameter>), Error> {
    let prepared = client
        .prepare(statement)
        .await
        .map_err(|e| Error::QueryFailed(database_message(&e)))?;
    if prepared.params().len() != params.len() {
        return Err(Error::BadParameter(format!(
            "the statement takes {} parameters, {} given",
            prepared.params().len(),
            params.len()
        )));
    }
    let converted = params
        .iter()
        .zip(prepared.params())
        .enumerate()
        .map(|(index, (value, ty))| to_parameter(value, ty, index + 1))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((prepared, converted))
}

fn borrowed(params: &[Parameter]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// The server's own message when there is one (a syntax error, a missing table).
fn database_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => error.to_string(),
    }
}

impl postgres::Host for HostState {}

impl postgres::HostConnection for HostState {
    async fn open(&mut self, address: String) -> Result<Resource<PooledClient>, Error> {
        let allowed = self
            .grants
            .allowed_outbound_hosts()
            .await
            .map_err(Error::ConnectionFailed)?;
        let client = open(&self.grants.app.postgres, &allowed, &address).await?;
        self.table
            .push(client)
            .map_err(|e| Error::Other(format!("too many open connections: {e}")))
    }

    async fn query(
        &mut self,
        connection: Resource<PooledClient>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let client = self
            .table
            .get(&connection)
            .map_err(|_| Error::Other("no such connection".into()))?
            .client();
        let (prepared, params) = prepare_parameters(client, &statement, &params).await?;
        let rows = client
            .query(&prepared, &borrowed(&params))
            .await
            .map_err(|e| Error::QueryFailed(database_message(&e)))?;
        let types: Vec<DbDataType> = prepared
            .columns()
            .iter()
            .map(|c| column_type(c.type_()))
            .collect();
        let columns = prepared
            .columns()
            .iter()
            .zip(&types)
            .map(|(column, ty)| Column {
                name: column.name().to_owned(),
                data_type: *ty,
            })
            .collect();
        let rows = rows
            .iter()
            .map(|row| {
                types
                    .iter()
                    .enumerate()
                    .map(|(index, ty)| read_value(row, index, *ty))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RowSet { columns, rows })
    }

    async fn execute(
        &mut self,
        connection: Resource<PooledClient>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let client = self
            .table
            .get(&connection)
            .map_err(|_| Error::Other("no such connection".into()))?
            .client();
        let (prepared, params) = prepare_parameters(client, &statement, &params).await?;
        client
            .execute(&prepared, &borrowed(&params))
            .await
            .map_err(|e| Error::QueryFailed(database_message(&e)))
    }

    async fn drop(&mut self, connection: Resource<PooledClient>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}
