//! `fermyon:spin/sqlite@2.0.0` and Spin 3's `spin:sqlite/sqlite@3.0.0` (`v3`, a thin
//! adapter): databases in SQLite files, and the shared connection the key-value stores use
//! too.
//!
//! Every app has a `default` database in `<state dir>/sqlite_db.db`; others come from
//! `runtime-config.toml`'s `[sqlite_database.NAME]`. A component opens only the databases its
//! `sqlite_databases` lists (`access-denied` otherwise).

pub mod connection;
mod v3;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::types::ValueRef;
use wasmtime::component::{Linker, Resource};

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use super::result_limit::{ResultBudget, SMALL_VALUE};
use super::virtual_services::{SqlCall, SqlValue};
use crate::manifest::runtime_config::SqliteDatabaseConfig;
use bindings::fermyon::spin2_0_0::sqlite::{self, Error, QueryResult, RowResult, Value};
use connection::{GuestConnection, SharedConnection};

/// Host bindings of `fermyon:spin/sqlite@2.0.0` and `spin:sqlite/sqlite@3.0.0`, from `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/sqlite-host",
        imports: { default: async },
        with: {
            "fermyon:spin/sqlite@2.0.0.connection": super::OpenDatabase,
            "spin:sqlite/sqlite@3.0.0.connection": super::OpenDatabase,
        },
    });
}

/// A SQLite database an app may grant.
pub struct Database {
    path: PathBuf,
    /// The host's own connection, for `rotor up --sqlite` scripts.
    connection: Arc<SharedConnection>,
    /// How long one guest statement may run.
    statement_limit: std::time::Duration,
}

impl Database {
    /// The database in the file at `path`, whose guest statements may each run for
    /// `statement_limit`.
    pub fn new(path: PathBuf, statement_limit: std::time::Duration) -> Database {
        Database {
            connection: SharedConnection::new(path.clone(), ""),
            path,
            statement_limit,
        }
    }

    /// Runs `statements` (one or more, separated by `;`).
    pub fn run_script(&self, statements: &str) -> Result<(), String> {
        self.connection
            .run_blocking(|c| c.execute_batch(statements))
    }

    /// Runs `query` on the host's own connection and returns its rows, for a unit test to
    /// look at what a guest wrote.
    pub fn query_rows(&self, query: &str) -> Result<Vec<Vec<SqlValue>>, String> {
        self.connection.run_blocking(|c| {
            let mut statement = c.prepare(query)?;
            let width = statement.column_count();
            let mut rows = statement.query([])?;
            let mut read = Vec::new();
            while let Some(row) = rows.next()? {
                let values = (0..width)
                    .map(|index| row.get_ref(index).map(|v| virtual_value(from_sqlite(v))))
                    .collect::<Result<Vec<_>, _>>()?;
                read.push(values);
            }
            Ok(read)
        })
    }

    /// Runs what `rotor up --sqlite` was given: SQL, or `@FILE` (relative to `base`) holding it.
    pub fn run_script_argument(&self, argument: &str, base: &Path) -> anyhow::Result<()> {
        let sql = match argument.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(base.join(file)).map_err(|e| {
                anyhow::anyhow!("{argument}: cannot read {}: {e}", base.join(file).display())
            })?,
            None => argument.to_owned(),
        };
        self.run_script(&sql)
            .map_err(|e| anyhow::anyhow!("{argument}: {e}"))
    }

    /// A connection of its own for a guest (see [`GuestConnection`]).
    pub async fn connect_guest(&self) -> Result<GuestConnection, Error> {
        GuestConnection::open(self.path.clone(), self.statement_limit)
            .await
            .map_err(Error::Io)
    }
}

/// Runs one statement with parameters on a guest's connection and returns what it produced.
async fn execute_guest(
    until: std::time::Instant,
    connection: &GuestConnection,
    statement: String,
    parameters: Vec<Value>,
) -> Result<Executed, Error> {
    connection
        .run(until, move |c| {
            let result = execute(c, &statement, parameters)?;
            Ok(Executed {
                result,
                last_insert_rowid: c.last_insert_rowid(),
                changes: c.changes(),
            })
        })
        .await
        .map_err(Error::Io)
}

/// What one statement produced, with what Spin 3's interface reports of it.
pub struct Executed {
    /// The rows.
    pub result: QueryResult,
    /// The row id of the last row an INSERT added.
    pub last_insert_rowid: i64,
    /// How many rows the statement changed.
    pub changes: u64,
}

fn execute(
    connection: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<Value>,
) -> rusqlite::Result<QueryResult> {
    let mut prepared = connection.prepare(statement)?;
    let columns: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let parameters: Vec<rusqlite::types::Value> = parameters.into_iter().map(to_sqlite).collect();
    let mut rows = prepared.query(rusqlite::params_from_iter(parameters))?;
    let mut results = Vec::new();
    let mut budget = ResultBudget::new();
    while let Some(row) = rows.next()? {
        let values = (0..columns.len())
            .map(|index| row.get_ref(index).map(from_sqlite))
            .collect::<rusqlite::Result<Vec<Value>>>()?;
        let size = values
            .iter()
            .map(|value| match value {
                Value::Text(text) => text.len(),
                Value::Blob(bytes) => bytes.len(),
                _ => SMALL_VALUE,
            })
            .sum();
        budget
            .add_row(size)
            .map_err(|message| rusqlite::Error::ToSqlConversionFailure(message.into()))?;
        results.push(RowResult { values });
    }
    Ok(QueryResult {
        columns,
        rows: results,
    })
}

fn to_sqlite(value: Value) -> rusqlite::types::Value {
    match value {
        Value::Integer(i) => rusqlite::types::Value::Integer(i),
        Value::Real(r) => rusqlite::types::Value::Real(r),
        Value::Text(t) => rusqlite::types::Value::Text(t),
        Value::Blob(b) => rusqlite::types::Value::Blob(b),
        Value::Null => rusqlite::types::Value::Null,
    }
}

fn from_sqlite(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// A database the guest has opened: the handle behind the `connection` resource of both
/// interfaces, with a connection of its own.
pub struct OpenDatabase {
    connection: Arc<GuestConnection>,
    /// The database's name, for unit tests' records.
    name: String,
    /// What the last statement on this handle reported, for Spin 3's interface.
    last_insert_rowid: i64,
    changes: u64,
}

/// A unit test's databases: `default` and every one a component names, each in memory (the
/// `memdb` VFS, which every connection of the process shares by name), kept alive by the
/// host's own connection, which opens at once.
fn in_memory_databases(app: &AppContext<'_>) -> BTreeMap<String, Arc<Database>> {
    static APPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let app_number = APPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let names = std::iter::once("default").chain(
        app.manifest
            .components
            .values()
            .flat_map(|c| c.sqlite_databases.iter().map(String::as_str)),
    );
    let mut databases = BTreeMap::new();
    for name in names {
        if databases.contains_key(name) {
            continue;
        }
        let uri = format!(
            "file:/rotor-virtual-{}-{app_number}-{name}?vfs=memdb",
            std::process::id()
        );
        let database = Database::new(PathBuf::from(uri), app.request_deadline);
        // An in-memory database lasts as long as a connection to it: this one.
        if let Err(error) = database.run_script("") {
            tracing::warn!("the in-memory SQLite database `{name}`: {error}");
        }
        databases.insert(name.to_owned(), Arc::new(database));
    }
    databases
}

/// The file name of the default SQLite database, under the state directory (as Spin names it).
pub const DEFAULT_SQLITE_FILE: &str = "sqlite_db.db";

/// The SQLite capability.
pub struct Sqlite;

/// The databases one component may open, by name.
pub struct SqliteGrant {
    databases: HashMap<String, Arc<Database>>,
    /// Told of every statement, in a unit test.
    outbound: Arc<super::outbound::OutboundGrant>,
}

impl Capability for Sqlite {
    type App = BTreeMap<String, Arc<Database>>;
    type Grant = SqliteGrant;

    fn load(app: &AppContext<'_>) -> anyhow::Result<Self::App> {
        if app.virtual_services.is_some() {
            return Ok(in_memory_databases(app));
        }
        let mut databases = BTreeMap::new();
        databases.insert(
            "default".to_owned(),
            Arc::new(Database::new(
                app.state_dir.join(DEFAULT_SQLITE_FILE),
                app.request_deadline,
            )),
        );
        for (name, SqliteDatabaseConfig::File(path)) in &app.runtime_config.sqlite_databases {
            let path = path
                .clone()
                .unwrap_or_else(|| app.state_dir.join(format!("sqlite_db_{name}.db")));
            databases.insert(
                name.clone(),
                Arc::new(Database::new(path, app.request_deadline)),
            );
        }
        Ok(databases)
    }

    fn grant(app: &Self::App, component: &ComponentContext<'_>) -> anyhow::Result<SqliteGrant> {
        let mut databases = HashMap::new();
        for name in &component.component.sqlite_databases {
            let Some(database) = app.get(name) else {
                anyhow::bail!(
                    "{}: component `{}` uses SQLite database `{name}`, which is neither `default` nor defined in the runtime config (`[sqlite_database.{name}]`)",
                    component.manifest.path.display(),
                    component.name
                );
            };
            databases.insert(name.clone(), database.clone());
        }
        Ok(SqliteGrant {
            databases,
            outbound: component.outbound.clone(),
        })
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, SqliteGrant>,
    ) -> wasmtime::Result<()> {
        sqlite::add_to_linker::<_, HasView<SqliteGrant>>(linker, view)?;
        bindings::spin::sqlite::sqlite::add_to_linker::<_, HasView<SqliteGrant>>(linker, view)
    }
}

impl sqlite::Host for View<'_, SqliteGrant> {}

impl View<'_, SqliteGrant> {
    /// Opens `database` if the component is granted it.
    async fn open_database(&mut self, database: &str) -> Result<Resource<OpenDatabase>, Error> {
        let Some(found) = self.grant.databases.get(database) else {
            return Err(Error::AccessDenied);
        };
        let open = OpenDatabase {
            connection: Arc::new(found.clone().connect_guest().await?),
            name: database.to_owned(),
            last_insert_rowid: 0,
            changes: 0,
        };
        self.table
            .push(open)
            .map_err(|e| Error::Io(format!("too many open connections: {e}")))
    }

    /// Runs a statement on an open handle and keeps what it reported there.
    async fn execute_on(
        &mut self,
        connection: &Resource<OpenDatabase>,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, Error> {
        let open = self
            .table
            .get(connection)
            .map_err(|_| Error::InvalidConnection)?;
        let guest = open.connection.clone();
        if let Some(services) = self.grant.outbound.virtual_services() {
            services.sqlite_statement(SqlCall {
                component: self.grant.outbound.component().to_owned(),
                address: open.name.clone(),
                statement: statement.clone(),
                parameters: parameters.iter().cloned().map(virtual_value).collect(),
                wants_rows: true,
            });
        }
        let executed = execute_guest(self.deadline, &guest, statement, parameters).await?;
        if let Ok(open) = self.table.get_mut(connection) {
            open.last_insert_rowid = executed.last_insert_rowid;
            open.changes = executed.changes;
        }
        Ok(executed.result)
    }
}

/// `value` in the terms of [`super::virtual_services`].
fn virtual_value(value: Value) -> SqlValue {
    match value {
        Value::Integer(v) => SqlValue::Integer(v),
        Value::Real(v) => SqlValue::Float(v),
        Value::Text(v) => SqlValue::Text(v),
        Value::Blob(v) => SqlValue::Binary(v),
        Value::Null => SqlValue::Null,
    }
}

impl sqlite::HostConnection for View<'_, SqliteGrant> {
    async fn open(&mut self, database: String) -> Result<Resource<OpenDatabase>, Error> {
        self.open_database(&database).await
    }

    async fn execute(
        &mut self,
        connection: Resource<OpenDatabase>,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, Error> {
        self.execute_on(&connection, statement, parameters).await
    }

    async fn drop(&mut self, connection: Resource<OpenDatabase>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}
