//! MySQL statements in a unit test: parameters in, rows out, in the terms of
//! [`crate::capabilities::virtual_services`].

use super::bindings::fermyon::spin2_0_0::rdbms_types::{
    Column, DbDataType, DbValue, Error, ParameterValue, RowSet,
};
use crate::capabilities::virtual_services::{SqlValue, VirtualConnection};

/// Answers a query from the test's services.
pub async fn query(
    connection: &VirtualConnection,
    statement: &str,
    params: &[ParameterValue],
) -> Result<RowSet, Error> {
    let call = connection.sql_call(statement, params.iter().map(parameter).collect(), true);
    let rows = connection
        .services
        .mysql(call)
        .await
        .map_err(Error::QueryFailed)?;
    let types: Vec<DbDataType> = (0..rows.columns.len())
        .map(|index| rows.column_sample(index).map_or(DbDataType::Str, data_type))
        .collect();
    Ok(RowSet {
        columns: rows
            .columns
            .iter()
            .zip(types)
            .map(|(name, data_type)| Column {
                name: name.clone(),
                data_type,
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
) -> Result<(), Error> {
    let call = connection.sql_call(statement, params.iter().map(parameter).collect(), false);
    connection
        .services
        .mysql(call)
        .await
        .map(drop)
        .map_err(Error::QueryFailed)
}

fn parameter(value: &ParameterValue) -> SqlValue {
    match value {
        ParameterValue::Boolean(v) => SqlValue::Boolean(*v),
        ParameterValue::Int8(v) => SqlValue::Integer(i64::from(*v)),
        ParameterValue::Int16(v) => SqlValue::Integer(i64::from(*v)),
        ParameterValue::Int32(v) => SqlValue::Integer(i64::from(*v)),
        ParameterValue::Int64(v) => SqlValue::Integer(*v),
        ParameterValue::Uint8(v) => SqlValue::Integer(i64::from(*v)),
        ParameterValue::Uint16(v) => SqlValue::Integer(i64::from(*v)),
        ParameterValue::Uint32(v) => SqlValue::Integer(i64::from(*v)),
        // Beyond i64 a test sees the number as text rather than a wrapped one.
        ParameterValue::Uint64(v) => {
            i64::try_from(*v).map_or_else(|_| SqlValue::Text(v.to_string()), SqlValue::Integer)
        }
        ParameterValue::Floating32(v) => SqlValue::Float(f64::from(*v)),
        ParameterValue::Floating64(v) => SqlValue::Float(*v),
        ParameterValue::Str(v) => SqlValue::Text(v.clone()),
        ParameterValue::Binary(v) => SqlValue::Binary(v.clone()),
        ParameterValue::DbNull => SqlValue::Null,
    }
}

crate::capabilities::virtual_services::sql_value_conversions!(DbDataType, DbValue);
