//! `spin:postgres/postgres@4.0.0`: the conversions between the interface's values and
//! PostgreSQL's types, and the interface itself. Spin 2's interface is answered by this code
//! too (see `v2`), so there is one way to read and write each type.

// The interface's error carries the server's structured error, which makes it large; it is
// what every function here hands back to the guest, so boxing it would only move the copy.
#![allow(clippy::result_large_err)]

use chrono::{Datelike as _, TimeZone as _, Timelike as _};
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::{Client, Row};
use wasmtime::component::Resource;

use super::bindings::spin::postgres4_0_0::postgres::{
    self, Column, DbDataType, DbError, DbValue, Error, Interval, ParameterValue, QueryError,
    RangeBoundKind, RowSet,
};
use super::wire::{self, Interval as WireInterval, Json, Numeric, Range, Uuid};
use super::PostgresConnection;
use super::PostgresGrant;
use crate::capabilities::capability::View;
use crate::capabilities::result_limit::{ResultBudget, SMALL_VALUE};
use futures_util::StreamExt as _;

/// The interface's type for a result column of PostgreSQL type `ty`.
pub fn column_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 | Type::OID => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSON | Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT2_ARRAY | Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY | Type::NAME_ARRAY => {
            DbDataType::ArrayStr
        }
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

fn bound_kind(inclusive: bool) -> RangeBoundKind {
    if inclusive {
        RangeBoundKind::Inclusive
    } else {
        RangeBoundKind::Exclusive
    }
}

type WitBound<T> = Option<(T, RangeBoundKind)>;

/// A range as the interface carries it; the empty range is `(x, x)` with both ends
/// exclusive, for an `x` of the caller's choice.
fn range_to_wit<T, U: Clone>(
    range: Range<T>,
    convert: impl Fn(T) -> U,
    empty_at: U,
) -> (WitBound<U>, WitBound<U>) {
    if range.empty {
        let end = Some((empty_at, RangeBoundKind::Exclusive));
        return (end.clone(), end);
    }
    let end =
        |bound: wire::Bound<T>| bound.map(|(v, inclusive)| (convert(v), bound_kind(inclusive)));
    (end(range.lower), end(range.upper))
}

fn range_from_wit<T, U>(
    (lower, upper): (WitBound<T>, WitBound<T>),
    convert: impl Fn(T) -> U,
) -> Range<U> {
    let end = |bound: WitBound<T>| {
        bound.map(|(v, kind)| (convert(v), matches!(kind, RangeBoundKind::Inclusive)))
    };
    Range {
        lower: end(lower),
        upper: end(upper),
        empty: false,
    }
}

fn numeric_text(value: Numeric) -> String {
    value.0
}

/// Reads column `index` of `row` as the interface's value for type `ty`.
pub fn read_value(row: &Row, index: usize, ty: &DbDataType) -> Result<DbValue, Error> {
    fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<Option<T>, Error> {
        row.try_get::<_, Option<T>>(index).map_err(|e| {
            Error::ValueConversionFailed(format!("column {}: {e}", row.columns()[index].name()))
        })
    }
    let column_type = row.columns()[index].type_().clone();
    let value =
        match ty {
            DbDataType::Boolean => get::<bool>(row, index)?.map(DbValue::Boolean),
            DbDataType::Int8 => get::<i8>(row, index)?.map(DbValue::Int8),
            DbDataType::Int16 => get::<i16>(row, index)?.map(DbValue::Int16),
            DbDataType::Int32 => get::<i32>(row, index)?.map(DbValue::Int32),
            DbDataType::Int64 if column_type == Type::OID => {
                get::<u32>(row, index)?.map(|oid| DbValue::Int64(oid.into()))
            }
            DbDataType::Int64 => get::<i64>(row, index)?.map(DbValue::Int64),
            DbDataType::Floating32 => get::<f32>(row, index)?.map(DbValue::Floating32),
            DbDataType::Floating64 => get::<f64>(row, index)?.map(DbValue::Floating64),
            DbDataType::Str => get::<String>(row, index)?.map(DbValue::Str),
            DbDataType::Binary => get::<Vec<u8>>(row, index)?.map(DbValue::Binary),
            DbDataType::Date => get::<chrono::NaiveDate>(row, index)?
                .map(|d| DbValue::Date((d.year(), d.month() as u8, d.day() as u8))),
            DbDataType::Time => get::<chrono::NaiveTime>(row, index)?.map(|t| {
                DbValue::Time((
                    t.hour() as u8,
                    t.minute() as u8,
                    t.second() as u8,
                    t.nanosecond(),
                ))
            }),
            DbDataType::Datetime if column_type == Type::TIMESTAMPTZ => {
                get::<chrono::DateTime<chrono::Utc>>(row, index)?
                    .map(|t| DbValue::Datetime(datetime_tuple(&t.naive_utc())))
            }
            DbDataType::Datetime => get::<chrono::NaiveDateTime>(row, index)?
                .map(|t| DbValue::Datetime(datetime_tuple(&t))),
            DbDataType::Uuid => get::<Uuid>(row, index)?.map(|u| DbValue::Uuid(u.0)),
            DbDataType::Jsonb => get::<Json>(row, index)?.map(|j| DbValue::Jsonb(j.0)),
            DbDataType::Decimal => get::<Numeric>(row, index)?.map(|n| DbValue::Decimal(n.0)),
            DbDataType::RangeInt32 => get::<Range<i32>>(row, index)?
                .map(|r| DbValue::RangeInt32(range_to_wit(r, |v| v, 0))),
            DbDataType::RangeInt64 => get::<Range<i64>>(row, index)?
                .map(|r| DbValue::RangeInt64(range_to_wit(r, |v| v, 0))),
            DbDataType::RangeDecimal => get::<Range<Numeric>>(row, index)?
                .map(|r| DbValue::RangeDecimal(range_to_wit(r, numeric_text, "0".to_owned()))),
            DbDataType::ArrayInt32 if column_type == Type::INT2_ARRAY => {
                get::<Vec<Option<i16>>>(row, index)?
                    .map(|a| DbValue::ArrayInt32(a.into_iter().map(|v| v.map(i32::from)).collect()))
            }
            DbDataType::ArrayInt32 => get::<Vec<Option<i32>>>(row, index)?.map(DbValue::ArrayInt32),
            DbDataType::ArrayInt64 => get::<Vec<Option<i64>>>(row, index)?.map(DbValue::ArrayInt64),
            DbDataType::ArrayDecimal => get::<Vec<Option<Numeric>>>(row, index)?.map(|a| {
                DbValue::ArrayDecimal(a.into_iter().map(|v| v.map(numeric_text)).collect())
            }),
            DbDataType::ArrayStr => get::<Vec<Option<String>>>(row, index)?.map(DbValue::ArrayStr),
            DbDataType::Interval => get::<WireInterval>(row, index)?.map(|i| {
                DbValue::Interval(Interval {
                    micros: i.micros,
                    days: i.days,
                    months: i.months,
                })
            }),
            DbDataType::Timestamp | DbDataType::Other(_) => {
                get::<RawValue>(row, index)?.map(|raw| DbValue::Unsupported(raw.0))
            }
        };
    Ok(value.unwrap_or(DbValue::DbNull))
}

fn datetime_tuple(t: &chrono::NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    (
        t.year(),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    )
}

/// Any value, as the server encoded it: what `unsupported` carries.
struct RawValue(Vec<u8>);

impl<'a> FromSql<'a> for RawValue {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawValue(raw.to_vec()))
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
        _: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(tokio_postgres::types::IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A parameter, converted for the server.
pub type Parameter = Box<dyn ToSql + Sync + Send>;

/// The name of a parameter's variant, for messages.
fn kind_of(value: &ParameterValue) -> &'static str {
    match value {
        ParameterValue::Boolean(_) => "boolean",
        ParameterValue::Int8(_) => "int8",
        ParameterValue::Int16(_) => "int16",
        ParameterValue::Int32(_) => "int32",
        ParameterValue::Int64(_) => "int64",
        ParameterValue::Floating32(_) => "floating32",
        ParameterValue::Floating64(_) => "floating64",
        ParameterValue::Str(_) => "str",
        ParameterValue::Binary(_) => "binary",
        ParameterValue::Date(_) => "date",
        ParameterValue::Time(_) => "time",
        ParameterValue::Datetime(_) => "datetime",
        ParameterValue::Timestamp(_) => "timestamp",
        ParameterValue::Uuid(_) => "uuid",
        ParameterValue::Jsonb(_) => "jsonb",
        ParameterValue::Decimal(_) => "decimal",
        ParameterValue::RangeInt32(_) => "range-int32",
        ParameterValue::RangeInt64(_) => "range-int64",
        ParameterValue::RangeDecimal(_) => "range-decimal",
        ParameterValue::ArrayInt32(_) => "array-int32",
        ParameterValue::ArrayInt64(_) => "array-int64",
        ParameterValue::ArrayDecimal(_) => "array-decimal",
        ParameterValue::ArrayStr(_) => "array-str",
        ParameterValue::Interval(_) => "interval",
        ParameterValue::DbNull => "NULL",
    }
}

fn naive_datetime(
    (year, month, day, hour, minute, second, nanos): (i32, u8, u8, u8, u8, u8, u32),
) -> Option<chrono::NaiveDateTime> {
    Some(chrono::NaiveDateTime::new(
        chrono::NaiveDate::from_ymd_opt(year, month.into(), day.into())?,
        chrono::NaiveTime::from_hms_nano_opt(hour.into(), minute.into(), second.into(), nanos)?,
    ))
}

/// Converts a guest's parameter to the type the server expects for `$position`.
pub fn to_parameter(
    value: &ParameterValue,
    ty: &Type,
    position: usize,
) -> Result<Parameter, Error> {
    let integer: Option<i64> = match value {
        ParameterValue::Int8(i) => Some((*i).into()),
        ParameterValue::Int16(i) => Some((*i).into()),
        ParameterValue::Int32(i) => Some((*i).into()),
        ParameterValue::Int64(i) => Some(*i),
        _ => None,
    };
    let mismatch = || {
        Error::BadParameter(format!(
            "${position}: cannot send {} as PostgreSQL {ty}",
            kind_of(value)
        ))
    };
    let invalid = |what: &str| Error::BadParameter(format!("${position}: {what}"));
    let out_of_range = || {
        invalid(&format!(
            "{} does not fit in PostgreSQL {ty}",
            integer.unwrap_or_default()
        ))
    };
    let parameter: Parameter = match (value, ty) {
        (ParameterValue::DbNull, _) => Box::new(Null),
        (ParameterValue::Boolean(b), &Type::BOOL) => Box::new(*b),
        (ParameterValue::Int8(i), &Type::CHAR) => Box::new(*i),
        (_, &Type::INT2) if integer.is_some() => {
            Box::new(i16::try_from(integer.unwrap_or_default()).map_err(|_| out_of_range())?)
        }
        (_, &Type::INT4) if integer.is_some() => {
            Box::new(i32::try_from(integer.unwrap_or_default()).map_err(|_| out_of_range())?)
        }
        (_, &Type::INT8) if integer.is_some() => Box::new(integer.unwrap_or_default()),
        (_, &Type::OID) if integer.is_some() => {
            Box::new(u32::try_from(integer.unwrap_or_default()).map_err(|_| out_of_range())?)
        }
        (_, &Type::NUMERIC) if integer.is_some() => {
            Box::new(Numeric(integer.unwrap_or_default().to_string()))
        }
        (_, &Type::FLOAT8) if integer.is_some() => Box::new(integer.unwrap_or_default() as f64),
        (ParameterValue::Floating32(f), &Type::FLOAT4) => Box::new(*f),
        (ParameterValue::Floating32(f), &Type::FLOAT8) => Box::new(f64::from(*f)),
        (ParameterValue::Floating64(f), &Type::FLOAT8) => Box::new(*f),
        (ParameterValue::Floating64(f), &Type::FLOAT4) => Box::new(*f as f32),
        (ParameterValue::Str(s), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME) => {
            Box::new(s.clone())
        }
        (ParameterValue::Str(s), &Type::UNKNOWN) => Box::new(s.clone()),
        (ParameterValue::Str(s) | ParameterValue::Uuid(s), &Type::UUID) => {
            Box::new(Uuid(s.clone()))
        }
        (ParameterValue::Str(s) | ParameterValue::Decimal(s), &Type::NUMERIC) => {
            Box::new(Numeric(s.clone()))
        }
        (ParameterValue::Str(s), &Type::JSON | &Type::JSONB) => {
            Box::new(Json(s.clone().into_bytes()))
        }
        (ParameterValue::Jsonb(j), &Type::JSON | &Type::JSONB) => Box::new(Json(j.clone())),
        (ParameterValue::Binary(b), &Type::BYTEA) => Box::new(b.clone()),
        (ParameterValue::Date((y, m, d)), &Type::DATE) => Box::new(
            chrono::NaiveDate::from_ymd_opt(*y, (*m).into(), (*d).into())
                .ok_or_else(|| invalid(&format!("{y}-{m}-{d} is not a date")))?,
        ),
        (ParameterValue::Time((h, m, s, ns)), &Type::TIME) => Box::new(
            chrono::NaiveTime::from_hms_nano_opt((*h).into(), (*m).into(), (*s).into(), *ns)
                .ok_or_else(|| invalid(&format!("{h}:{m}:{s}.{ns:09} is not a time")))?,
        ),
        (ParameterValue::Datetime(t), &Type::TIMESTAMP) => Box::new(
            naive_datetime(*t).ok_or_else(|| invalid(&format!("{t:?} is not a date and time")))?,
        ),
        (ParameterValue::Datetime(t), &Type::TIMESTAMPTZ) => Box::new(
            chrono::Utc.from_utc_datetime(
                &naive_datetime(*t)
                    .ok_or_else(|| invalid(&format!("{t:?} is not a date and time")))?,
            ),
        ),
        (ParameterValue::Timestamp(seconds), &Type::TIMESTAMPTZ | &Type::TIMESTAMP) => {
            let instant = chrono::DateTime::from_timestamp(*seconds, 0)
                .ok_or_else(|| invalid(&format!("{seconds} is out of range for a timestamp")))?;
            if *ty == Type::TIMESTAMP {
                Box::new(instant.naive_utc())
            } else {
                Box::new(instant)
            }
        }
        (ParameterValue::RangeInt32(r), &Type::INT4_RANGE) => Box::new(range_from_wit(*r, |v| v)),
        (ParameterValue::RangeInt64(r), &Type::INT8_RANGE) => Box::new(range_from_wit(*r, |v| v)),
        (ParameterValue::RangeDecimal(r), &Type::NUM_RANGE) => {
            Box::new(range_from_wit(r.clone(), Numeric))
        }
        (ParameterValue::ArrayInt32(a), &Type::INT4_ARRAY) => Box::new(a.clone()),
        (ParameterValue::ArrayInt32(a), &Type::INT8_ARRAY) => {
            Box::new(a.iter().map(|v| v.map(i64::from)).collect::<Vec<_>>())
        }
        (ParameterValue::ArrayInt64(a), &Type::INT8_ARRAY) => Box::new(a.clone()),
        (ParameterValue::ArrayDecimal(a), &Type::NUMERIC_ARRAY) => {
            Box::new(a.iter().map(|v| v.clone().map(Numeric)).collect::<Vec<_>>())
        }
        (ParameterValue::ArrayStr(a), &Type::TEXT_ARRAY | &Type::VARCHAR_ARRAY) => {
            Box::new(a.clone())
        }
        (ParameterValue::Interval(i), &Type::INTERVAL) => Box::new(WireInterval {
            micros: i.micros,
            days: i.days,
            months: i.months,
        }),
        _ => return Err(mismatch()),
    };
    // Encoding now, rather than when the statement runs, makes malformed text (a UUID, a
    // decimal, JSON) a bad parameter instead of a failed query.
    parameter
        .to_sql_checked(ty, &mut bytes::BytesMut::new())
        .map_err(|e| invalid(&e.to_string()))?;
    Ok(parameter)
}

/// Prepares `statement` and converts `params` to the types it takes.
pub async fn prepare(
    client: &Client,
    statement: &str,
    params: &[ParameterValue],
) -> Result<(tokio_postgres::Statement, Vec<Parameter>), Error> {
    let prepared = client.prepare(statement).await.map_err(query_failed)?;
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

/// The server's structured error when there is one (a syntax error, a missing table).
pub fn query_failed(error: tokio_postgres::Error) -> Error {
    let Some(db) = error.as_db_error() else {
        return Error::QueryFailed(QueryError::Text(error.to_string()));
    };
    let mut extras = Vec::new();
    let mut extra = |name: &str, value: Option<&str>| {
        if let Some(value) = value {
            extras.push((name.to_owned(), value.to_owned()));
        }
    };
    extra("hint", db.hint());
    extra("where", db.where_());
    extra("schema", db.schema());
    extra("table", db.table());
    extra("column", db.column());
    extra("datatype", db.datatype());
    extra("constraint", db.constraint());
    Error::QueryFailed(QueryError::DbError(DbError {
        as_text: format!("{}: {}", db.severity(), db.message()),
        severity: db.severity().to_owned(),
        code: db.code().code().to_owned(),
        message: db.message().to_owned(),
        detail: db.detail().map(str::to_owned),
        extras,
    }))
}

/// Runs a query on `client`: the shared path of both interface versions.
pub async fn query(
    connection: &PostgresConnection,
    statement: &str,
    params: &[ParameterValue],
    deadline: std::time::Instant,
) -> Result<RowSet, Error> {
    let pooled = match connection {
        PostgresConnection::Pooled(pooled) => pooled,
        PostgresConnection::Virtual(stand_in) => {
            return super::virtual_rows::query(stand_in, statement, params).await
        }
    };
    pooled
        .within_limit(
            deadline,
            query_unlimited(pooled.client(), statement, params),
        )
        .await
}

async fn query_unlimited(
    client: &Client,
    statement: &str,
    params: &[ParameterValue],
) -> Result<RowSet, Error> {
    let (prepared, params) = prepare(client, statement, params).await?;
    let stream = client
        .query_raw(&prepared, borrowed(&params))
        .await
        .map_err(query_failed)?;
    let columns: Vec<Column> = prepared
        .columns()
        .iter()
        .map(|column| Column {
            name: column.name().to_owned(),
            data_type: column_type(column.type_()),
        })
        .collect();
    // Row by row, so that a result over the limit is refused before it is all in memory.
    let mut stream = std::pin::pin!(stream);
    let mut budget = ResultBudget::new();
    let mut rows = Vec::new();
    while let Some(row) = stream.next().await {
        let row = row.map_err(query_failed)?;
        let values = columns
            .iter()
            .enumerate()
            .map(|(index, column)| read_value(&row, index, &column.data_type))
            .collect::<Result<Vec<_>, _>>()?;
        budget
            .add_row(values.iter().map(value_size).sum())
            .map_err(|message| Error::QueryFailed(QueryError::Text(message)))?;
        rows.push(values);
    }
    Ok(RowSet { columns, rows })
}

/// About what `value` takes in memory, for the result budget.
fn value_size(value: &DbValue) -> usize {
    let text = |items: &[Option<String>]| -> usize {
        items
            .iter()
            .map(|item| item.as_ref().map_or(1, String::len))
            .sum()
    };
    match value {
        DbValue::Str(text) | DbValue::Uuid(text) | DbValue::Decimal(text) => text.len(),
        DbValue::Binary(bytes) | DbValue::Jsonb(bytes) | DbValue::Unsupported(bytes) => bytes.len(),
        DbValue::ArrayStr(items) | DbValue::ArrayDecimal(items) => text(items),
        DbValue::ArrayInt32(items) => items.len() * 8,
        DbValue::ArrayInt64(items) => items.len() * 16,
        _ => SMALL_VALUE,
    }
}

/// Runs a statement on `client` and returns how many rows it changed.
pub async fn execute(
    connection: &PostgresConnection,
    statement: &str,
    params: &[ParameterValue],
    deadline: std::time::Instant,
) -> Result<u64, Error> {
    let pooled = match connection {
        PostgresConnection::Pooled(pooled) => pooled,
        PostgresConnection::Virtual(stand_in) => {
            return super::virtual_rows::execute(stand_in, statement, params).await
        }
    };
    let client = pooled.client();
    pooled
        .within_limit(deadline, async {
            let (prepared, params) = prepare(client, statement, params).await?;
            client
                .execute(&prepared, &borrowed(&params))
                .await
                .map_err(query_failed)
        })
        .await
}

impl View<'_, PostgresGrant> {
    /// Opens a pooled connection for either interface version.
    pub(crate) async fn open_postgres(
        &mut self,
        address: &str,
    ) -> Result<Resource<PostgresConnection>, Error> {
        let allowed = self
            .grant
            .outbound
            .allowed_hosts()
            .await
            .map_err(Error::ConnectionFailed)?;
        let client =
            super::open(&self.grant.clients, &allowed, &self.grant.outbound, address).await?;
        self.table
            .push(client)
            .map_err(|e| Error::Other(format!("too many open connections: {e}")))
    }

    /// The client behind a connection resource.
    pub(crate) fn postgres_client(
        &self,
        connection: &Resource<PostgresConnection>,
    ) -> Result<&PostgresConnection, Error> {
        self.table
            .get(connection)
            .map_err(|_| Error::Other("no such connection".into()))
    }
}

impl postgres::Host for View<'_, PostgresGrant> {}

impl postgres::HostConnection for View<'_, PostgresGrant> {
    async fn open(&mut self, address: String) -> Result<Resource<PostgresConnection>, Error> {
        self.open_postgres(&address).await
    }

    async fn query(
        &mut self,
        connection: Resource<PostgresConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        query(
            self.postgres_client(&connection)?,
            &statement,
            &params,
            self.deadline,
        )
        .await
    }

    async fn execute(
        &mut self,
        connection: Resource<PostgresConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        execute(
            self.postgres_client(&connection)?,
            &statement,
            &params,
            self.deadline,
        )
        .await
    }

    async fn drop(&mut self, connection: Resource<PostgresConnection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}
