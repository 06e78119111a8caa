//! Typed access to result rows, shared by [`crate::sqlite`], [`crate::pg`] and
//! [`crate::mysql`]: each interface's value type implements [`SqlValue`], and the rest
//! (reading a column by name into a Rust type, mapping rows into structs through serde,
//! rows as JSON) is written once, here.

use std::fmt;

use serde::de::value::{Error as DeError, MapDeserializer};
use serde::de::{DeserializeOwned, Deserializer, IntoDeserializer, Visitor};

/// The conversions every database's parameter type has beside its own: `&str` and
/// `&String` as text, `&[u8]` as bytes, and `Option<T>` as NULL for `None`.
macro_rules! borrowed_parameter_conversions {
    ($param:ident { text: $text:ident, bytes: $bytes:ident, null: $null:ident }) => {
        impl From<&str> for $param {
            fn from(value: &str) -> Self {
                $param::$text(value.to_owned())
            }
        }

        impl From<&String> for $param {
            fn from(value: &String) -> Self {
                $param::$text(value.clone())
            }
        }

        impl From<&[u8]> for $param {
            fn from(value: &[u8]) -> Self {
                $param::$bytes(value.to_vec())
            }
        }

        impl<T: Into<$param>> From<Option<T>> for $param {
            fn from(value: Option<T>) -> Self {
                value.map_or($param::$null, Into::into)
            }
        }
    };
}
pub(crate) use borrowed_parameter_conversions;

/// Typed rows for a result type with `columns` (named by a `name` field) and `rows`: its
/// `rows()` and `deserialize()`, a `Row` alias, and reading the raw value itself. The doc
/// comments given go on `deserialize`, which is where the databases differ.
macro_rules! typed_rows {
    ($set:ident, $column:ident, $value:ident, $(#[$deserialize_doc:meta])*) => {
        impl $set {
            /// The rows, each able to look values up by column name.
            pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
                self.rows
                    .iter()
                    .map(move |values| Row::new(&self.columns, values))
            }

            $(#[$deserialize_doc])*
            pub fn deserialize<T: serde::de::DeserializeOwned>(
                &self,
            ) -> Result<Vec<T>, $crate::rows::RowError> {
                $crate::rows::deserialize_rows(self.rows())
            }
        }

        /// One result row: `row.get::<T>("column")`, `row.value("column")`,
        /// `row.to_json()`.
        pub type Row<'a> = $crate::rows::Row<'a, $column, $value>;

        impl $crate::rows::SqlColumn for $column {
            fn name(&self) -> &str {
                &self.name
            }
        }

        impl $crate::rows::Decode<$value> for $value {
            fn decode(value: &$value) -> Result<Self, String> {
                Ok(value.clone())
            }
        }
    };
}
pub(crate) use typed_rows;

/// A value that could not be read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub(crate) column: Option<String>,
    pub(crate) message: String,
}

impl RowError {
    /// The column concerned, when the error is about one.
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "column {column:?}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RowError {}

/// A database value as the decoders see it. Each accessor answers for the variants that
/// hold that kind of data and `None` for the rest.
pub trait SqlValue {
    /// The name of the value's variant, for messages (`int32`, `str`, `NULL`, ...).
    fn kind(&self) -> &'static str;
    /// Whether the value is NULL.
    fn is_null(&self) -> bool;
    /// A boolean.
    fn as_bool(&self) -> Option<bool>;
    /// An integer of any width.
    fn as_integer(&self) -> Option<i128>;
    /// A 64-bit float, or a 32-bit one widened.
    fn as_f64(&self) -> Option<f64>;
    /// A 32-bit float.
    fn as_f32(&self) -> Option<f32>;
    /// Text.
    fn as_str(&self) -> Option<&str>;
    /// Bytes.
    fn as_bytes(&self) -> Option<&[u8]>;
    /// The value as JSON, which is also how serde sees it (see [`deserialize_rows`]).
    fn to_json(&self) -> serde_json::Value;
    /// Whether the value is of a type the interface cannot carry (read as JSON `null`, and
    /// refused by serde with a hint).
    fn is_unsupported(&self) -> bool {
        false
    }
}

/// A result column: anything with a name.
pub trait SqlColumn {
    /// The column's name.
    fn name(&self) -> &str;
}

impl SqlColumn for String {
    fn name(&self) -> &str {
        self
    }
}

/// A Rust type a database value of type `V` converts into, for [`Row::get`].
pub trait Decode<V>: Sized {
    /// Converts `value`, or says why it cannot.
    fn decode(value: &V) -> Result<Self, String>;
}

/// One result row: values looked up by column name.
#[derive(Debug)]
pub struct Row<'a, C, V> {
    pub(crate) columns: &'a [C],
    pub(crate) values: &'a [V],
}

impl<C, V> Clone for Row<'_, C, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C, V> Copy for Row<'_, C, V> {}

impl<'a, C: SqlColumn, V: SqlValue> Row<'a, C, V> {
    /// A row of `values` under `columns`.
    pub fn new(columns: &'a [C], values: &'a [V]) -> Self {
        Row { columns, values }
    }

    /// The value of `column`, converted to `T`.
    ///
    /// Fails, naming the column and both types, when there is no such column or its value
    /// does not convert: NULL into `i64` (use `Option<i64>`), text into `f64`, or a number
    /// into a type too small for it.
    pub fn get<T: Decode<V>>(&self, column: &str) -> Result<T, RowError> {
        let value = self.value(column).ok_or_else(|| RowError {
            column: Some(column.to_owned()),
            message: format!(
                "no such column; the columns are {:?}",
                self.columns.iter().map(|c| c.name()).collect::<Vec<_>>()
            ),
        })?;
        T::decode(value).map_err(|message| RowError {
            column: Some(column.to_owned()),
            message,
        })
    }

    /// The raw value of `column`.
    pub fn value(&self, column: &str) -> Option<&'a V> {
        let index = self.columns.iter().position(|c| c.name() == column)?;
        self.values.get(index)
    }

    /// The row as a JSON object keyed by column name (see [`SqlValue::to_json`]).
    pub fn to_json(&self) -> serde_json::Value {
        let object = self
            .columns
            .iter()
            .zip(self.values)
            .map(|(column, value)| (column.name().to_owned(), value.to_json()))
            .collect();
        serde_json::Value::Object(object)
    }
}

/// Maps every row into a `T` through serde, with column names as field names: what each
/// result type's `deserialize` does.
pub fn deserialize_rows<'a, T, C, V>(
    rows: impl Iterator<Item = Row<'a, C, V>>,
) -> Result<Vec<T>, RowError>
where
    T: DeserializeOwned,
    C: SqlColumn + 'a,
    V: SqlValue + 'a,
{
    rows.enumerate()
        .map(|(index, row)| {
            let fields = row
                .columns
                .iter()
                .zip(row.values)
                .map(|(column, value)| (column.name(), ValueDeserializer(value)));
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

fn mismatch<T, V: SqlValue>(value: &V) -> String {
    format!(
        "cannot read a {} as {}",
        value.kind(),
        std::any::type_name::<T>()
    )
}

macro_rules! integer_decoders {
    ($($ty:ty),*) => {$(
        impl<V: SqlValue> Decode<V> for $ty {
            fn decode(value: &V) -> Result<Self, String> {
                let wide = value.as_integer().ok_or_else(|| mismatch::<$ty, V>(value))?;
                <$ty>::try_from(wide).map_err(|_| {
                    format!("the integer {wide} does not fit in {}", std::any::type_name::<$ty>())
                })
            }
        }
    )*};
}

integer_decoders!(i8, i16, i32, i64, u8, u16, u32, u64);

impl<V: SqlValue> Decode<V> for bool {
    fn decode(value: &V) -> Result<Self, String> {
        match (value.as_bool(), value.as_integer()) {
            (Some(b), _) => Ok(b),
            // MySQL's and SQLite's booleans are integers.
            (None, Some(0)) => Ok(false),
            (None, Some(1)) => Ok(true),
            _ => Err(mismatch::<bool, V>(value)),
        }
    }
}

impl<V: SqlValue> Decode<V> for f64 {
    fn decode(value: &V) -> Result<Self, String> {
        match (value.as_f64(), value.as_integer()) {
            (Some(f), _) => Ok(f),
            // Integers of up to 53 bits are exact in an f64.
            (None, Some(i)) if i.unsigned_abs() <= 1 << 53 => Ok(i as f64),
            _ => Err(mismatch::<f64, V>(value)),
        }
    }
}

impl<V: SqlValue> Decode<V> for f32 {
    fn decode(value: &V) -> Result<Self, String> {
        value.as_f32().ok_or_else(|| mismatch::<f32, V>(value))
    }
}

impl<V: SqlValue> Decode<V> for String {
    fn decode(value: &V) -> Result<Self, String> {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| mismatch::<String, V>(value))
    }
}

impl<V: SqlValue> Decode<V> for Vec<u8> {
    fn decode(value: &V) -> Result<Self, String> {
        value
            .as_bytes()
            .map(<[u8]>::to_vec)
            .ok_or_else(|| mismatch::<Vec<u8>, V>(value))
    }
}

impl<V: SqlValue> Decode<V> for serde_json::Value {
    fn decode(value: &V) -> Result<Self, String> {
        Ok(value.to_json())
    }
}

impl<V: SqlValue, T: Decode<V>> Decode<V> for Option<T> {
    fn decode(value: &V) -> Result<Self, String> {
        if value.is_null() {
            Ok(None)
        } else {
            T::decode(value).map(Some)
        }
    }
}

/// Reads one database value into whatever serde type asks for it: as its JSON form, except
/// that 0 and 1 also fit `bool` and NULL fits `Option`.
struct ValueDeserializer<'a, S>(&'a S);

impl<'de, S: SqlValue> IntoDeserializer<'de, DeError> for ValueDeserializer<'_, S> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de, S: SqlValue> Deserializer<'de> for ValueDeserializer<'_, S> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_unsupported() {
            return Err(serde::de::Error::custom(
                "the column's type is not supported by the interface; cast it in the query",
            ));
        }
        self.0
            .to_json()
            .deserialize_any(visitor)
            .map_err(|e| serde::de::Error::custom(e.to_string()))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.as_integer() {
            Some(0) => visitor.visit_bool(false),
            Some(1) => visitor.visit_bool(true),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}
