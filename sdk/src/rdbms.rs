//! What PostgreSQL ([`crate::pg`]) and MySQL ([`crate::mysql`]) share, from
//! `fermyon:spin/rdbms-types@2.0.0`: parameters converted from Rust values, result sets read
//! by column name into Rust types, and rows mapped into structs through serde.
//!
//! ```no_run
//! use rotor_sdk::pg::{self, params, Connection};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Connection::open("postgres://app@127.0.0.1:5432/shop")?;
//! let result = db.query("SELECT id, name, price FROM items WHERE price < $1", params![100.0])?;
//! for row in result.rows() {
//!     let id: i32 = row.get("id")?;
//!     let name: String = row.get("name")?;
//!     println!("{id}: {name}");
//! }
//! # Ok(()) }
//! ```

use serde::de::value::{Error as DeError, MapDeserializer, SeqDeserializer};
use serde::de::{DeserializeOwned, Deserializer, IntoDeserializer, Visitor};

use crate::bindings::platform::fermyon::spin2_0_0::rdbms_types;
pub use crate::rows::RowError;

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

impl From<&str> for ParameterValue {
    fn from(value: &str) -> Self {
        ParameterValue::Str(value.to_owned())
    }
}

impl From<&String> for ParameterValue {
    fn from(value: &String) -> Self {
        ParameterValue::Str(value.clone())
    }
}

impl From<&[u8]> for ParameterValue {
    fn from(value: &[u8]) -> Self {
        ParameterValue::Binary(value.to_vec())
    }
}

impl<T: Into<ParameterValue>> From<Option<T>> for ParameterValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(ParameterValue::DbNull, Into::into)
    }
}

impl RowSet {
    /// The rows, each able to look values up by column name.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |values| Row {
            columns: &self.columns,
            values,
        })
    }

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
    /// let db = rotor_sdk::pg::Connection::open("postgres://app@127.0.0.1/shop")?;
    /// let items: Vec<Item> = db.query("SELECT id, name, price, note FROM items", &[])?.deserialize()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<Vec<T>, RowError> {
        self.rows()
            .enumerate()
            .map(|(index, row)| {
                let fields = row
                    .columns
                    .iter()
                    .zip(row.values)
                    .map(|(column, value)| (column.name.as_str(), ValueDeserializer(value)));
                T::deserialize(MapDeserializer::new(fields)).map_err(|e: DeError| RowError {
                    column: None,
                    message: format!(
                        "row {index} does not fit {}: {e}",
                        std::any::type_name::<T>()
                    ),
                })
            })
            .collect()
    }
}

/// One row of a [`RowSet`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [Column],
    values: &'a [DbValue],
}

impl<'a> Row<'a> {
    /// The value of `column`, converted to `T`.
    ///
    /// Fails, naming the column and both types, when there is no such column or its value
    /// does not convert: NULL into `i64` (use `Option<i64>`), text into `f64`, or a number
    /// into a type too small for it.
    pub fn get<T: Decode>(&self, column: &str) -> Result<T, RowError> {
        let value = self.value(column).ok_or_else(|| RowError {
            column: Some(column.to_owned()),
            message: format!(
                "no such column; the columns are {:?}",
                self.columns.iter().map(|c| &c.name).collect::<Vec<_>>()
            ),
        })?;
        T::decode(value).map_err(|message| RowError {
            column: Some(column.to_owned()),
            message,
        })
    }

    /// The raw value of `column`.
    pub fn value(&self, column: &str) -> Option<&'a DbValue> {
        let index = self.columns.iter().position(|c| c.name == column)?;
        self.values.get(index)
    }

    /// The row as a JSON object keyed by column name; binary values become arrays of bytes
    /// and unsupported ones `null`.
    pub fn to_json(&self) -> serde_json::Value {
        let object = self
            .columns
            .iter()
            .zip(self.values)
            .map(|(column, value)| (column.name.clone(), to_json(value)))
            .collect();
        serde_json::Value::Object(object)
    }
}

fn to_json(value: &DbValue) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
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

/// The name of a value's type, for messages.
fn kind(value: &DbValue) -> &'static str {
    match value {
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

fn mismatch<T>(value: &DbValue) -> String {
    format!(
        "cannot read a {} as {}",
        kind(value),
        std::any::type_name::<T>()
    )
}

/// An integer value widened to `i128`, which holds every width the interface carries.
fn as_integer(value: &DbValue) -> Option<i128> {
    Some(match value {
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

/// A Rust type a database value converts into, for [`Row::get`].
pub trait Decode: Sized {
    /// Converts `value`, or says why it cannot.
    fn decode(value: &DbValue) -> Result<Self, String>;
}

macro_rules! integer_decoders {
    ($($ty:ty),*) => {$(
        impl Decode for $ty {
            fn decode(value: &DbValue) -> Result<Self, String> {
                let wide = as_integer(value).ok_or_else(|| mismatch::<$ty>(value))?;
                <$ty>::try_from(wide).map_err(|_| {
                    format!("{wide} does not fit in {}", std::any::type_name::<$ty>())
                })
            }
        }
    )*};
}

integer_decoders!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Decode for bool {
    fn decode(value: &DbValue) -> Result<Self, String> {
        match value {
            DbValue::Boolean(b) => Ok(*b),
            other => match as_integer(other) {
                Some(0) => Ok(false),
                Some(1) => Ok(true),
                _ => Err(mismatch::<bool>(value)),
            },
        }
    }
}

impl Decode for f64 {
    fn decode(value: &DbValue) -> Result<Self, String> {
        match value {
            DbValue::Floating64(f) => Ok(*f),
            DbValue::Floating32(f) => Ok((*f).into()),
            other => match as_integer(other) {
                // Integers of up to 53 bits are exact in an f64.
                Some(i) if i.unsigned_abs() <= 1 << 53 => Ok(i as f64),
                _ => Err(mismatch::<f64>(value)),
            },
        }
    }
}

impl Decode for f32 {
    fn decode(value: &DbValue) -> Result<Self, String> {
        match value {
            DbValue::Floating32(f) => Ok(*f),
            _ => Err(mismatch::<f32>(value)),
        }
    }
}

impl Decode for String {
    fn decode(value: &DbValue) -> Result<Self, String> {
        match value {
            DbValue::Str(s) => Ok(s.clone()),
            _ => Err(mismatch::<String>(value)),
        }
    }
}

impl Decode for Vec<u8> {
    fn decode(value: &DbValue) -> Result<Self, String> {
        match value {
            DbValue::Binary(b) => Ok(b.clone()),
            _ => Err(mismatch::<Vec<u8>>(value)),
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: &DbValue) -> Result<Self, String> {
        match value {
            DbValue::DbNull => Ok(None),
            other => T::decode(other).map(Some),
        }
    }
}

impl Decode for DbValue {
    fn decode(value: &DbValue) -> Result<Self, String> {
        Ok(value.clone())
    }
}

/// Reads one database value into whatever serde type asks for it.
struct ValueDeserializer<'a>(&'a DbValue);

impl<'de> IntoDeserializer<'de, DeError> for ValueDeserializer<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for ValueDeserializer<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            DbValue::Boolean(b) => visitor.visit_bool(*b),
            DbValue::Int8(i) => visitor.visit_i8(*i),
            DbValue::Int16(i) => visitor.visit_i16(*i),
            DbValue::Int32(i) => visitor.visit_i32(*i),
            DbValue::Int64(i) => visitor.visit_i64(*i),
            DbValue::Uint8(u) => visitor.visit_u8(*u),
            DbValue::Uint16(u) => visitor.visit_u16(*u),
            DbValue::Uint32(u) => visitor.visit_u32(*u),
            DbValue::Uint64(u) => visitor.visit_u64(*u),
            DbValue::Floating32(f) => visitor.visit_f32(*f),
            DbValue::Floating64(f) => visitor.visit_f64(*f),
            DbValue::Str(s) => visitor.visit_str(s),
            DbValue::Binary(b) => visitor.visit_seq(SeqDeserializer::new(b.iter().copied())),
            DbValue::DbNull => visitor.visit_unit(),
            DbValue::Unsupported => Err(serde::de::Error::custom(
                "the column's type is not supported by the interface; cast it in the query",
            )),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match as_integer(self.0) {
            Some(0) => visitor.visit_bool(false),
            Some(1) => visitor.visit_bool(true),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            DbValue::DbNull => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
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
