//! PostgreSQL over Spin 3's `spin:postgres/postgres@4.0.0`: besides numbers, text and bytes,
//! it carries dates and times, UUIDs, JSON, `numeric` at any precision (as decimal text),
//! ranges, arrays and intervals, and a refused statement comes with the server's structured
//! error.
//!
//! The host connects only to addresses the manifest grants in `allowed_outbound_hosts`
//! (`postgres://host:port`); anything else is `Error::ConnectionFailed` and no connection is
//! attempted. Parameters are `$1`, `$2`, …; the server decides each one's type, and the host
//! converts the value to it (an `i32` for a `bigint` column is fine, text for a `uuid` too).
//!
//! ```no_run
//! use rotor_sdk::pg::{params, Connection};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Connection::open("postgres://app@127.0.0.1:5432/shop")?;
//! let changed = db.execute("UPDATE items SET price = $1 WHERE id = $2", params![9.5, 3])?;
//! let result = db.query("SELECT name, added FROM items WHERE id = $1", params![3])?;
//! for row in result.rows() {
//!     let name: String = row.get("name")?;
//!     // Dates, times and the like read as their SQL text through JSON...
//!     let added = row.to_json()["added"].clone();
//!     // ...or as the interface's own value.
//!     let raw = row.value("added");
//!     println!("{name} since {added} ({raw:?})");
//! }
//! # let _ = changed; Ok(()) }
//! ```
//!
//! A component that uses this module imports `spin:postgres/postgres@4.0.0`, so it needs a
//! Spin 3 release that has that interface (Spin 3.6 does), or `rotor up`. Spin 2's
//! `fermyon:spin/postgres@2.0.0` stays available, raw, as [`crate::spin::postgres`], for
//! hosts without it; `rotor up` serves both.

use crate::bindings::platform::spin::postgres4_0_0::postgres;
use crate::rows::SqlValue;
pub use crate::rows::{Decode, RowError};

/// A connection to one PostgreSQL database: `open(address)`, `query(statement, params)`
/// (rows) and `execute(statement, params)` (the number of rows changed), straight from the
/// WIT.
#[doc(inline)]
pub use postgres::Connection;

/// Why a database operation failed: `ConnectionFailed`, `BadParameter`, `QueryFailed` (with
/// a [`QueryError`]), `ValueConversionFailed` or `Other`.
#[doc(inline)]
pub use postgres::Error;

/// Why the server refused a statement: its structured [`DbError`] (SQLSTATE code, message,
/// detail, ...) or, when there is none, a message.
#[doc(inline)]
pub use postgres::QueryError;

/// The server's structured error.
#[doc(inline)]
pub use postgres::DbError;

/// A value read from a column; `DbNull` is NULL, `Unsupported` a type the interface cannot
/// carry (holding the server's binary encoding).
#[doc(inline)]
pub use postgres::DbValue;

/// A statement parameter. Rust values convert into it with `From`: `bool`, integers (`u8`
/// to `u32` widen to the next signed type), `f32`, `f64`, `&str`, `String`, `&[u8]`,
/// `Vec<u8>`, `serde_json::Value` (as `jsonb`), `Vec<i32>`, `Vec<i64>`, `Vec<String>`,
/// [`Interval`], and `Option<T>` (NULL for `None`). Build the other variants directly:
/// `ParameterValue::Date((2025, 12, 24))`, `ParameterValue::Decimal("12.50".into())`.
#[doc(inline)]
pub use postgres::ParameterValue;

/// A column's type as the host reports it.
#[doc(inline)]
pub use postgres::DbDataType;

/// The columns and rows of a query.
#[doc(inline)]
pub use postgres::RowSet;

/// A result column: its name and [`DbDataType`].
#[doc(inline)]
pub use postgres::Column;

/// An interval, its months, days and microseconds kept apart as PostgreSQL keeps them.
#[doc(inline)]
pub use postgres::Interval;

/// Whether a range's bound belongs to the range.
#[doc(inline)]
pub use postgres::RangeBoundKind;

/// Builds a parameter list from Rust values: `params![42, "text", None::<i64>]`.
#[macro_export]
macro_rules! pg_params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::pg::ParameterValue::from($value)),*][..]
    };
}

#[doc(inline)]
pub use crate::pg_params as params;

macro_rules! parameter_conversions {
    ($($ty:ty => $variant:ident $(via $wide:ty)?),* $(,)?) => {$(
        impl From<$ty> for ParameterValue {
            fn from(value: $ty) -> Self {
                ParameterValue::$variant(value $(as $wide)?)
            }
        }
    )*};
}

parameter_conversions! {
    bool => Boolean, i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64,
    u8 => Int16 via i16, u16 => Int32 via i32, u32 => Int64 via i64,
    f32 => Floating32, f64 => Floating64, String => Str, Vec<u8> => Binary,
    Interval => Interval,
}

impl From<serde_json::Value> for ParameterValue {
    fn from(value: serde_json::Value) -> Self {
        ParameterValue::Jsonb(value.to_string().into_bytes())
    }
}

impl From<Vec<i32>> for ParameterValue {
    fn from(value: Vec<i32>) -> Self {
        ParameterValue::ArrayInt32(value.into_iter().map(Some).collect())
    }
}

impl From<Vec<i64>> for ParameterValue {
    fn from(value: Vec<i64>) -> Self {
        ParameterValue::ArrayInt64(value.into_iter().map(Some).collect())
    }
}

impl From<Vec<String>> for ParameterValue {
    fn from(value: Vec<String>) -> Self {
        ParameterValue::ArrayStr(value.into_iter().map(Some).collect())
    }
}

crate::rows::borrowed_parameter_conversions!(ParameterValue {
    text: Str,
    bytes: Binary,
    null: DbNull
});

crate::rows::typed_rows!(
    RowSet,
    Column,
    DbValue,
    /// Maps every row into a `T` through serde, with column names as field names.
    ///
    /// Each value is seen as its JSON form ([`Row::to_json`](crate::rows::Row::to_json)):
    /// numbers fit numeric fields, text, UUIDs and decimals fit `String`, dates and times
    /// fit `String` as ISO 8601 text, JSON columns fit any type they deserialize into, NULL
    /// fits `Option`.
    ///
    /// ```no_run
    /// #[derive(serde::Deserialize)]
    /// struct Item { id: i32, name: String, added: String, tags: Vec<String> }
    ///
    /// let db = rotor_sdk::pg::Connection::open("postgres://app@127.0.0.1/shop")?;
    /// let items: Vec<Item> = db.query("SELECT id, name, added, tags FROM items", &[])?.deserialize()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
);

fn date_text((year, month, day): (i32, u8, u8)) -> String {
    format!("{year:04}-{month:02}-{day:02}")
}

fn time_text((hour, minute, second, nanos): (u8, u8, u8, u32)) -> String {
    let mut text = format!("{hour:02}:{minute:02}:{second:02}");
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text
}

/// One end of a range: its value and kind, or unbounded.
type Bound<T> = Option<(T, RangeBoundKind)>;

fn bound_json<T: Into<serde_json::Value>>(bound: Bound<T>) -> serde_json::Value {
    match bound {
        None => serde_json::Value::Null,
        Some((value, kind)) => serde_json::json!({
            "value": value.into(),
            "inclusive": matches!(kind, RangeBoundKind::Inclusive),
        }),
    }
}

fn range_json<T: Into<serde_json::Value>>(
    (lower, upper): (Bound<T>, Bound<T>),
) -> serde_json::Value {
    serde_json::json!({ "lower": bound_json(lower), "upper": bound_json(upper) })
}

impl SqlValue for DbValue {
    fn kind(&self) -> &'static str {
        match self {
            DbValue::Boolean(_) => "boolean",
            DbValue::Int8(_) => "int8",
            DbValue::Int16(_) => "int16",
            DbValue::Int32(_) => "int32",
            DbValue::Int64(_) => "int64",
            DbValue::Floating32(_) => "floating32",
            DbValue::Floating64(_) => "floating64",
            DbValue::Str(_) => "str",
            DbValue::Binary(_) => "binary",
            DbValue::Date(_) => "date",
            DbValue::Time(_) => "time",
            DbValue::Datetime(_) => "datetime",
            DbValue::Timestamp(_) => "timestamp",
            DbValue::Uuid(_) => "uuid",
            DbValue::Jsonb(_) => "jsonb",
            DbValue::Decimal(_) => "decimal",
            DbValue::RangeInt32(_) => "range-int32",
            DbValue::RangeInt64(_) => "range-int64",
            DbValue::RangeDecimal(_) => "range-decimal",
            DbValue::ArrayInt32(_) => "array-int32",
            DbValue::ArrayInt64(_) => "array-int64",
            DbValue::ArrayDecimal(_) => "array-decimal",
            DbValue::ArrayStr(_) => "array-str",
            DbValue::Interval(_) => "interval",
            DbValue::DbNull => "NULL",
            DbValue::Unsupported(_) => "unsupported value",
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, DbValue::DbNull)
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            DbValue::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    fn as_integer(&self) -> Option<i128> {
        Some(match self {
            DbValue::Int8(i) => (*i).into(),
            DbValue::Int16(i) => (*i).into(),
            DbValue::Int32(i) => (*i).into(),
            DbValue::Int64(i) => (*i).into(),
            _ => return None,
        })
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            DbValue::Floating64(f) => Some(*f),
            DbValue::Floating32(f) => Some((*f).into()),
            _ => None,
        }
    }

    fn as_f32(&self) -> Option<f32> {
        match self {
            DbValue::Floating32(f) => Some(*f),
            _ => None,
        }
    }

    /// Text, and the values the interface carries as text: UUIDs and decimals.
    fn as_str(&self) -> Option<&str> {
        match self {
            DbValue::Str(s) | DbValue::Uuid(s) | DbValue::Decimal(s) => Some(s),
            _ => None,
        }
    }

    /// Binary values, and JSON as its text.
    fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            DbValue::Binary(b) | DbValue::Jsonb(b) => Some(b),
            _ => None,
        }
    }

    /// Dates, times and date-times become ISO 8601 text (date-times in UTC, with `Z`),
    /// decimals and UUIDs text, JSON its own value, ranges `{"lower": {"value",
    /// "inclusive"} | null, "upper": ...}`, intervals `{"months", "days", "micros"}`, binary
    /// values arrays of bytes, unsupported ones `null`.
    fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            DbValue::Boolean(b) => Json::from(*b),
            DbValue::Int8(i) => Json::from(*i),
            DbValue::Int16(i) => Json::from(*i),
            DbValue::Int32(i) => Json::from(*i),
            DbValue::Int64(i) => Json::from(*i),
            DbValue::Floating32(f) => Json::from(*f),
            DbValue::Floating64(f) => Json::from(*f),
            DbValue::Str(s) | DbValue::Uuid(s) | DbValue::Decimal(s) => Json::from(s.as_str()),
            DbValue::Binary(b) => Json::from(b.as_slice()),
            DbValue::Date(date) => Json::from(date_text(*date)),
            DbValue::Time(time) => Json::from(time_text(*time)),
            DbValue::Datetime((year, month, day, hour, minute, second, nanos)) => {
                Json::from(format!(
                    "{}T{}Z",
                    date_text((*year, *month, *day)),
                    time_text((*hour, *minute, *second, *nanos))
                ))
            }
            DbValue::Timestamp(seconds) => Json::from(*seconds),
            DbValue::Jsonb(text) => serde_json::from_slice(text)
                .unwrap_or_else(|_| Json::from(String::from_utf8_lossy(text).into_owned())),
            DbValue::RangeInt32(range) => range_json(*range),
            DbValue::RangeInt64(range) => range_json(*range),
            DbValue::RangeDecimal(range) => range_json(range.clone()),
            DbValue::ArrayInt32(values) => Json::from(values.clone()),
            DbValue::ArrayInt64(values) => Json::from(values.clone()),
            DbValue::ArrayDecimal(values) | DbValue::ArrayStr(values) => Json::from(values.clone()),
            DbValue::Interval(interval) => serde_json::json!({
                "months": interval.months,
                "days": interval.days,
                "micros": interval.micros,
            }),
            DbValue::DbNull | DbValue::Unsupported(_) => Json::Null,
        }
    }

    fn is_unsupported(&self) -> bool {
        matches!(self, DbValue::Unsupported(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> RowSet {
        let column = |name: &str, data_type| Column {
            name: name.to_owned(),
            data_type,
        };
        RowSet {
            columns: vec![
                column("id", DbDataType::Int32),
                column("day", DbDataType::Date),
                column("at", DbDataType::Datetime),
                column("price", DbDataType::Decimal),
                column("doc", DbDataType::Jsonb),
                column("tags", DbDataType::ArrayStr),
                column("span", DbDataType::RangeInt32),
                column("ref", DbDataType::Uuid),
            ],
            rows: vec![vec![
                DbValue::Int32(7),
                DbValue::Date((2025, 3, 9)),
                DbValue::Datetime((2025, 3, 9, 4, 5, 6, 700_000_000)),
                DbValue::Decimal("12.50".into()),
                DbValue::Jsonb(br#"{"a":[1,2]}"#.to_vec()),
                DbValue::ArrayStr(vec![Some("x".into()), None]),
                DbValue::RangeInt32((Some((1, RangeBoundKind::Inclusive)), None)),
                DbValue::Uuid("12345678-1234-1234-1234-123456789abc".into()),
            ]],
        }
    }

    #[test]
    fn rich_values_read_as_json() {
        let set = set();
        let row = set.rows().next().unwrap();
        assert_eq!(
            row.to_json(),
            serde_json::json!({
                "id": 7,
                "day": "2025-03-09",
                "at": "2025-03-09T04:05:06.7Z",
                "price": "12.50",
                "doc": { "a": [1, 2] },
                "tags": ["x", null],
                "span": { "lower": { "value": 1, "inclusive": true }, "upper": null },
                "ref": "12345678-1234-1234-1234-123456789abc",
            })
        );
        assert_eq!(row.get::<String>("price").unwrap(), "12.50");
        assert_eq!(row.get::<i64>("id"), Ok(7));
        assert_eq!(
            row.get::<serde_json::Value>("doc").unwrap()["a"][1],
            serde_json::json!(2)
        );
        let error = row.get::<i32>("day").unwrap_err();
        assert!(
            error.to_string().contains("cannot read a date as i32"),
            "{error}"
        );
    }

    #[test]
    fn rows_map_into_structs_through_their_json_form() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Doc {
            a: Vec<u8>,
        }
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Item {
            id: u16,
            day: String,
            doc: Doc,
            tags: Vec<Option<String>>,
            price: String,
        }
        let items: Vec<Item> = set().deserialize().unwrap();
        assert_eq!(
            items,
            [Item {
                id: 7,
                day: "2025-03-09".into(),
                doc: Doc { a: vec![1, 2] },
                tags: vec![Some("x".into()), None],
                price: "12.50".into(),
            }]
        );
    }

    #[test]
    fn parameters_convert_from_rust_values() {
        let params: &[ParameterValue] = params![
            true,
            200u8,
            4_000_000_000u32,
            "a",
            None::<i32>,
            serde_json::json!({"k": 1}),
            vec![1i64, 2],
        ];
        assert!(matches!(params[0], ParameterValue::Boolean(true)));
        assert!(matches!(params[1], ParameterValue::Int16(200)));
        assert!(matches!(params[2], ParameterValue::Int64(4_000_000_000)));
        assert!(matches!(params[3], ParameterValue::Str(ref s) if s == "a"));
        assert!(matches!(params[4], ParameterValue::DbNull));
        assert!(matches!(params[5], ParameterValue::Jsonb(ref j) if j == br#"{"k":1}"#));
        assert!(matches!(params[6], ParameterValue::ArrayInt64(ref a) if a == &[Some(1), Some(2)]));
    }
}
