//! Spin 3's `spin:sqlite/sqlite@3.0.0`, answered by the 2.0.0 code: the same values, errors
//! and results under new names, plus what the last statement on the handle reported.

use wasmtime::component::Resource;

use super::bindings::fermyon::spin2_0_0::sqlite as v2;
use super::bindings::spin::sqlite::sqlite::{self, Error, QueryResult, RowResult, Value};
use super::{OpenDatabase, SqliteGrant};
use crate::capabilities::capability::View;

fn to_v2(value: Value) -> v2::Value {
    match value {
        Value::Integer(i) => v2::Value::Integer(i),
        Value::Real(r) => v2::Value::Real(r),
        Value::Text(t) => v2::Value::Text(t),
        Value::Blob(b) => v2::Value::Blob(b),
        Value::Null => v2::Value::Null,
    }
}

fn from_v2(value: v2::Value) -> Value {
    match value {
        v2::Value::Integer(i) => Value::Integer(i),
        v2::Value::Real(r) => Value::Real(r),
        v2::Value::Text(t) => Value::Text(t),
        v2::Value::Blob(b) => Value::Blob(b),
        v2::Value::Null => Value::Null,
    }
}

fn error_from_v2(error: v2::Error) -> Error {
    match error {
        v2::Error::NoSuchDatabase => Error::NoSuchDatabase,
        v2::Error::AccessDenied => Error::AccessDenied,
        v2::Error::InvalidConnection => Error::InvalidConnection,
        v2::Error::DatabaseFull => Error::DatabaseFull,
        v2::Error::Io(message) => Error::Io(message),
    }
}

impl sqlite::Host for View<'_, SqliteGrant> {}

impl sqlite::HostConnection for View<'_, SqliteGrant> {
    async fn open(&mut self, database: String) -> Result<Resource<OpenDatabase>, Error> {
        self.open_database(&database).await.map_err(error_from_v2)
    }

    async fn execute(
        &mut self,
        connection: Resource<OpenDatabase>,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, Error> {
        let parameters = parameters.into_iter().map(to_v2).collect();
        let result = self
            .execute_on(&connection, statement, parameters)
            .await
            .map_err(error_from_v2)?;
        Ok(QueryResult {
            columns: result.columns,
            rows: result
                .rows
                .into_iter()
                .map(|row| RowResult {
                    values: row.values.into_iter().map(from_v2).collect(),
                })
                .collect(),
        })
    }

    async fn last_insert_rowid(&mut self, connection: Resource<OpenDatabase>) -> i64 {
        self.table
            .get(&connection)
            .map_or(0, |open| open.last_insert_rowid)
    }

    async fn changes(&mut self, connection: Resource<OpenDatabase>) -> u64 {
        self.table.get(&connection).map_or(0, |open| open.changes)
    }

    async fn drop(&mut self, connection: Resource<OpenDatabase>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}
