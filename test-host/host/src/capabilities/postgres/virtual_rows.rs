//! PostgreSQL statements in a unit test: parameters in, rows out, in the terms of
//! [`crate::capabilities::virtual_services`].

use super::bindings::spin::postgres4_0_0::postgres::{
    Column, DbDataType, DbValue, Error, ParameterValue, QueryError, RowSet,
};
use crate::capabilities::virtual_services::{SqlValue, VirtualConnection};

/// Answers a query from the test's services.
pub async fn query(
    connection: &VirtualConnection,
    statement: &str,
    params: &[ParameterValue],
) -> Result<RowSet, Error> {
    let call = connection.sql_call(statement, params.iter().map(parameter).collect(), true);
    let rows = connection.services.postgres(call).await.map_err(failed)?;
    let types: Vec<DbDataType> = (0..rows.columns.len())
        .map(|index| rows.column_sample(index).map_or(DbDataType::Str, data_type))
        .collect();
    Ok(RowSet {
        columns: rows
            .columns
            .iter()
            .zip(&types)
            .map(|(name, data_type)| Column {
                name: name.clone(),
                data_type: data_type.clone(),
            })
            .collect(),
        rows: rows
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(value).collect())
            .collect(),
    })
}

/// Answers an `execute` from the test's services.
pub async fn execute(
    connection: &VirtualConnection,
    statement: &str,
    params: &[ParameterValue],
) -> Result<u64, Error> {
    let call = connection.sql_call(statement, params.iter().map(parameter).collect(), false);
    let rows = connection.services.postgres(call).await.map_err(failed)?;
    Ok(rows.rows_affected)
}

fn failed(message: String) -> Error {
    Error::QueryFailed(QueryError::Text(message))
}

/// A parameter as the test sees it: the types a test writes by hand keep their kind, the
/// rest are written as PostgreSQL would print them.
fn parameter(value: &ParameterValue) -> SqlValue {
    match value {
        ParameterValue::Boolean(v) => SqlValue::Boolean(*v),
        ParameterValue::Int8(v) => SqlValue::Integer(i64::from(*v)),
        ParameterValue::Int16(v) => SqlValue::Integer(i64::from(*v)),
        ParameterValue::Int32(v) => SqlValue::Integer(i64::from(*v)),
        ParameterValue::Int64(v) => SqlValue::Integer(*v),
        ParameterValue::Floating32(v) => SqlValue::Float(f64::from(*v)),
        ParameterValue::Floating64(v) => SqlValue::Float(*v),
        ParameterValue::Str(v) | ParameterValue::Uuid(v) | ParameterValue::Decimal(v) => {
            SqlValue::Text(v.clone())
        }
        ParameterValue::Binary(v) => SqlValue::Binary(v.clone()),
        ParameterValue::Jsonb(v) => SqlValue::Text(String::from_utf8_lossy(v).into_owned()),
        ParameterValue::Date((y, m, d)) => SqlValue::Text(format!("{y:04}-{m:02}-{d:02}")),
        ParameterValue::Time((h, mi, s, ns)) => {
            SqlValue::Text(format!("{h:02}:{mi:02}:{s:02}.{ns:09}"))
        }
        ParameterValue::Datetime((y, m, d, h, mi, s, ns)) => SqlValue::Text(format!(
            "{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ns:09}"
        )),
        ParameterValue::Timestamp(v) => SqlValue::Integer(*v),
        ParameterValue::DbNull => SqlValue::Null,
        other => SqlValue::Text(format!("{other:?}")),
    }
}

crate::capabilities::virtual_services::sql_value_conversions!(DbDataType, DbValue);
