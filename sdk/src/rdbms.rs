//! The types of `fermyon:spin/rdbms-types@2.0.0`, which MySQL ([`crate::mysql`]) uses:
//! parameters converted from Rust values, result sets read by column name into Rust types,
//! and rows mapped into structs through serde.
//!
//! ```no_run
//! use rotor_sdk::mysql::{params, Connection};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Connection::open("mysql://app@127.0.0.1:3306/shop")?;
//! let result = db.query("SELECT id, name, price FROM items WHERE price < ?", params![100.0])?;
//! for row in result.rows() {
//!     let id: i32 = row.get("id")?;
//!     let name: String = row.get("name")?;
//!     println!("{id}: {name}");
//! }
//! # Ok(()) }
//! ```

use crate::bindings::platform::fermyon::spin2_0_0::rdbms_types;
use crate::rows::SqlValue;
pub use crate::rows::{Decode, RowError};

/// A column's type as the host reports it: `Boolean`, `Int8` … `Int64`, `Uint8` … `Uint64`,
/// `Floating32`, `Floating64`, `Str`, `Binary` or `Other`.
#[doc(inline)]
pub use rdbms_types::DbDataType;

/// A value read from the database; `DbNull` is NULL and `Unsupported` a column type the
/// interface cannot carry (a date, say: cast it to text in the query).
#[doc(inline)]
pub use rdbms_types::DbValue;

/// A statement parameter. Rust values convert into it with `From`: `bool`, every integer
/// width, `f32`, `f64`, `&str`, `String`, `&[u8]`, `Vec<u8>`, and `Option<T>` (NULL for
/// `None`).
#[doc(inline)]
pub use rdbms_types::ParameterValue;

/// The columns and rows of a query.
#[doc(inline)]
pub use rdbms_types::RowSet;

/// A result column: its name and [`DbDataType`].
#[doc(inline)]
pub use rdbms_types::Column;

/// Why a database operation failed: `ConnectionFailed`, `BadParameter`, `QueryFailed`,
/// `ValueConversionFailed` or `Other`, each with the database's or the host's message. A
/// connection to an address the manifest does not grant is `ConnectionFailed`, and is never
/// attempted.
#[doc(inline)]
pub use rdbms_types::Error;

/// Builds a parameter list from Rust values: `params![42, "text", None::<i64>]`.
#[macro_export]
macro_rules! rdbms_params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::rdbms::ParameterValue::from($value)),*][..]
    };
}

#[doc(inline)]
pub use crate::rdbms_params as params;

macro_rules! parameter_conversions {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for ParameterValue {
            fn from(value: $ty) -> Self {
                ParameterValue::$variant(value)
            }
        }
    )*};
}

parameter_conversions! {
    bool => Boolean, i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64,
    u8 => Uint8, u16 => Uint16, u32 => Uint32, u64 => Uint64,
    f32 => Floating32, f64 => Floating64, String => Str, Vec<u8> => Binary,
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
    /// Numbers fit any numeric field they fit in, strings fit `String`, binary fits
    /// `Vec<u8>`, booleans fit `bool` (and so do 0 and 1, MySQL's booleans), NULL fits
    /// `Option`.
    ///
    /// ```no_run
    /// #[derive(serde::Deserialize)]
    /// struct Item { id: i32, name: String, price: f64, note: Option<String> }
    ///
    /// let db = rotor_sdk::mysql::Connection::open("mysql://app@127.0.0.1/shop")?;
    /// let items: Vec<Item> = db.query("SELECT id, name, price, note FROM items", &[])?.deserialize()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
);

impl SqlValue for DbValue {
    fn kind(&self) -> &'static str {
        match self {
            DbValue::Boolean(_) => "boolean",
            DbValue::Int8(_) => "int8",
            DbValue::Int16(_) => "int16",
            DbValue::Int32(_) => "int32",
            DbValue::Int64(_) => "int64",
            DbValue::Uint8(_) => "uint8",
            DbValue::Uint16(_) => "uint16",
            DbValue::Uint32(_) => "uint32",
            DbValue::Uint64(_) => "uint64",
            DbValue::Floating32(_) => "floating32",
            DbValue::Floating64(_) => "floating64",
            DbValue::Str(_) => "str",
            DbValue::Binary(_) => "binary",
            DbValue::DbNull => "NULL",
            DbValue::Unsupported => "unsupported value",
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
            DbValue::Uint8(u) => (*u).into(),
            DbValue::Uint16(u) => (*u).into(),
            DbValue::Uint32(u) => (*u).into(),
            DbValue::Uint64(u) => (*u).into(),
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

    fn as_str(&self) -> Option<&str> {
        match self {
            DbValue::Str(s) => Some(s),
            _ => None,
        }
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            DbValue::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// Binary values become arrays of bytes, and unsupported ones `null`.
    fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            DbValue::Boolean(b) => Json::from(*b),
            DbValue::Int8(i) => Json::from(*i),
            DbValue::Int16(i) => Json::from(*i),
            DbValue::Int32(i) => Json::from(*i),
            DbValue::Int64(i) => Json::from(*i),
            DbValue::Uint8(u) => Json::from(*u),
            DbValue::Uint16(u) => Json::from(*u),
            DbValue::Uint32(u) => Json::from(*u),
            DbValue::Uint64(u) => Json::from(*u),
            DbValue::Floating32(f) => Json::from(*f),
            DbValue::Floating64(f) => Json::from(*f),
            DbValue::Str(s) => Json::from(s.as_str()),
            DbValue::Binary(b) => Json::from(b.as_slice()),
            DbValue::DbNull | DbValue::Unsupported => Json::Null,
        }
    }

    fn is_unsupported(&self) -> bool {
        matches!(self, DbValue::Unsupported)
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
                column("name", DbDataType::Str),
                column("price", DbDataType::Floating64),
                column("note", DbDataType::Str),
                column("active", DbDataType::Int8),
                column("big", DbDataType::Uint64),
            ],
            rows: vec![vec![
                DbValue::Int32(7),
                DbValue::Str("tea".into()),
                DbValue::Floating64(2.5),
                DbValue::DbNull,
                DbValue::Int8(1),
                DbValue::Uint64(u64::MAX),
            ]],
        }
    }

    #[test]
    fn typed_getters_convert_or_say_why_not() {
        let set = set();
        let row = set.rows().next().unwrap();
        assert_eq!(row.get::<i32>("id"), Ok(7));
        assert_eq!(row.get::<i64>("id"), Ok(7));
        assert_eq!(row.get::<f64>("id"), Ok(7.0));
        assert_eq!(row.get::<String>("name").unwrap(), "tea");
        assert_eq!(row.get::<Option<String>>("note"), Ok(None));
        assert!(row.get::<bool>("active").unwrap());
        assert_eq!(row.get::<u64>("big"), Ok(u64::MAX));

        let error = row.get::<String>("note").unwrap_err();
        assert_eq!(error.column(), Some("note"));
        assert!(error.to_string().contains("NULL"), "{error}");
        assert!(error.to_string().contains("String"), "{error}");
        let error = row.get::<i64>("big").unwrap_err();
        assert!(error.to_string().contains("does not fit in i64"), "{error}");
        let error = row.get::<i32>("nope").unwrap_err();
        assert!(error.to_string().contains("no such column"), "{error}");
    }

    #[test]
    fn rows_map_into_structs() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Item {
            id: i64,
            name: String,
            price: f64,
            note: Option<String>,
            active: bool,
        }
        let items: Vec<Item> = set().deserialize().unwrap();
        assert_eq!(
            items,
            [Item {
                id: 7,
                name: "tea".into(),
                price: 2.5,
                note: None,
                active: true
            }]
        );
    }

    #[test]
    fn parameters_convert_from_rust_values() {
        let params: &[ParameterValue] = params![true, 1i8, 2u16, 3i64, 1.5f32, "a", None::<i32>];
        assert!(matches!(params[0], ParameterValue::Boolean(true)));
        assert!(matches!(params[2], ParameterValue::Uint16(2)));
        assert!(matches!(params[5], ParameterValue::Str(ref s) if s == "a"));
        assert!(matches!(params[6], ParameterValue::DbNull));
    }
}
