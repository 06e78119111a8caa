//! SQLite databases the manifest grants with `sqlite_databases`; every app has one named
//! `default`.
//!
//! Statements take positional parameters (`?` or `?1`) converted from Rust values, and
//! results are read by column name with a typed getter whose error says which column failed
//! and why.
//!
//! ```no_run
//! use rotor_sdk::sqlite::{params, Connection};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Connection::open_default()?;
//! db.execute("INSERT INTO notes (title, body) VALUES (?, ?)", params!["groceries", None::<String>])?;
//! let result = db.execute("SELECT id, title, body FROM notes WHERE title = ?", params!["groceries"])?;
//! for row in result.rows() {
//!     let id: i64 = row.get("id")?;
//!     let body: Option<String> = row.get("body")?;
//!     println!("{id}: {body:?}");
//! }
//! # Ok(()) }
//! ```

use serde::de::value::{Error as DeError, MapDeserializer, SeqDeserializer};
use serde::de::{DeserializeOwned, Deserializer, IntoDeserializer, Visitor};

use crate::bindings::platform::fermyon::spin2_0_0::sqlite;

/// An open database: `open(name)` and `execute(statement, parameters)` come straight from
/// `fermyon:spin/sqlite@2.0.0`.
#[doc(inline)]
pub use sqlite::Connection;

/// Why a database operation failed: `NoSuchDatabase`, `AccessDenied`, `InvalidConnection`,
/// `DatabaseFull` or `Io(message)`, where the message is SQLite's own (a syntax error, say).
#[doc(inline)]
pub use sqlite::Error;

/// The rows a statement produced, with the column names.
#[doc(inline)]
pub use sqlite::QueryResult;

/// One row's values, in column order; read them through [`QueryResult::rows`].
#[doc(inline)]
pub use sqlite::RowResult;

/// A SQLite value: `Integer`, `Real`, `Text`, `Blob` or `Null`. Rust values convert into it
/// with `From` (integers, floats, `bool`, strings, bytes, and `Option<T>` as NULL).
#[doc(inline)]
pub use sqlite::Value;

/// Builds a parameter list from Rust values: `params![1, "two", None::<f64>]`.
#[macro_export]
macro_rules! sqlite_params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::sqlite::Value::from($value)),*][..]
    };
}

#[doc(inline)]
pub use crate::sqlite_params as params;

impl Connection {
    /// Opens the database named `default`.
    pub fn open_default() -> Result<Connection, Error> {
        Connection::open("default")
    }
}

impl QueryResult {
    /// The rows, each able to look values up by column name.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |row| Row {
            columns: &self.columns,
            values: &row.values,
        })
    }

    /// Maps every row into a `T` through serde, with column names as field names.
    ///
    /// Integers fit integer fields, and `bool` fields as 0 or 1 (SQLite has no boolean type);
    /// reals fit floats, text fits strings, blobs fit `Vec<u8>`, and NULL fits `Option`.
    ///
    /// ```no_run
    /// #[derive(serde::Deserialize)]
    /// struct Note { id: i64, title: String, body: Option<String>, pinned: bool }
    ///
    /// let db = rotor_sdk::sqlite::Connection::open_default()?;
    /// let notes: Vec<Note> = db.execute("SELECT id, title, body, pinned FROM notes", &[])?.deserialize()?;
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
                    .map(|(column, value)| (column.as_str(), ValueDeserializer(value)));
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

/// Reads one SQLite value into whatever serde type asks for it.
struct ValueDeserializer<'a>(&'a Value);

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
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Real(r) => visitor.visit_f64(*r),
            Value::Text(t) => visitor.visit_str(t),
            Value::Blob(b) => visitor.visit_seq(SeqDeserializer::new(b.iter().copied())),
            Value::Null => visitor.visit_unit(),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Integer(0) => visitor.visit_bool(false),
            Value::Integer(1) => visitor.visit_bool(true),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// One row of a [`QueryResult`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl<'a> Row<'a> {
    /// The value of `column`, converted to `T`.
    ///
    /// Fails when there is no such column or its value does not convert, for example NULL
    /// into `i64` (use `Option<i64>`) or text into `f64`.
    pub fn get<T: FromValue>(&self, column: &str) -> Result<T, RowError> {
        let value = self.value(column).ok_or_else(|| RowError {
            column: Some(column.to_owned()),
            message: format!("no such column; the columns are {:?}", self.columns),
        })?;
        T::from_value(value).map_err(|message| RowError {
            column: Some(column.to_owned()),
            message,
        })
    }

    /// The raw value of `column`.
    pub fn value(&self, column: &str) -> Option<&'a Value> {
        let index = self.columns.iter().position(|c| c == column)?;
        self.values.get(index)
    }

    /// The row as a JSON object keyed by column name.
    pub fn to_json(&self) -> serde_json::Value {
        let object = self
            .columns
            .iter()
            .zip(self.values)
            .map(|(column, value)| {
                let json = match value {
                    Value::Integer(i) => serde_json::Value::from(*i),
                    Value::Real(r) => serde_json::Value::from(*r),
                    Value::Text(t) => serde_json::Value::from(t.as_str()),
                    Value::Blob(b) => serde_json::Value::from(b.as_slice()),
                    Value::Null => serde_json::Value::Null,
                };
                (column.clone(), json)
            })
            .collect();
        serde_json::Value::Object(object)
    }
}

#[doc(inline)]
pub use crate::rows::RowError;

/// A Rust type a SQLite value converts into.
pub trait FromValue: Sized {
    /// Converts `value`, or says why it cannot.
    fn from_value(value: &Value) -> Result<Self, String>;
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Integer(_) => "integer",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
        Value::Null => "NULL",
    }
}

fn mismatch<T>(value: &Value) -> String {
    format!(
        "cannot read a SQLite {} as {}",
        kind(value),
        std::any::type_name::<T>()
    )
}

macro_rules! integer_conversions {
    ($($ty:ty),*) => {$(
        impl FromValue for $ty {
            fn from_value(value: &Value) -> Result<Self, String> {
                match value {
                    Value::Integer(i) => <$ty>::try_from(*i)
                        .map_err(|_| format!("the integer {i} does not fit in {}", stringify!($ty))),
                    other => Err(mismatch::<$ty>(other)),
                }
            }
        }

        impl From<$ty> for Value {
            fn from(value: $ty) -> Value {
                Value::Integer(i64::from(value))
            }
        }
    )*};
}

integer_conversions!(i8, i16, i32, i64, u8, u16, u32);

impl FromValue for u64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Integer(i) => {
                u64::try_from(*i).map_err(|_| format!("the integer {i} does not fit in u64"))
            }
            other => Err(mismatch::<u64>(other)),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Integer(0) => Ok(false),
            Value::Integer(1) => Ok(true),
            Value::Integer(i) => Err(format!("the integer {i} is not a boolean (0 or 1)")),
            other => Err(mismatch::<bool>(other)),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Real(r) => Ok(*r),
            Value::Integer(i) => Ok(*i as f64),
            other => Err(mismatch::<f64>(other)),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Text(t) => Ok(t.clone()),
            other => Err(mismatch::<String>(other)),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(mismatch::<Vec<u8>>(other)),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, String> {
        Ok(value.clone())
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Integer(i64::from(value))
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Value {
        Value::Real(value)
    }
}

impl From<f32> for Value {
    fn from(value: f32) -> Value {
        Value::Real(f64::from(value))
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::Text(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::Text(value)
    }
}

impl From<&String> for Value {
    fn from(value: &String) -> Value {
        Value::Text(value.clone())
    }
}

impl From<&[u8]> for Value {
    fn from(value: &[u8]) -> Value {
        Value::Blob(value.to_vec())
    }
}

impl From<Vec<u8>> for Value {
    fn from(value: Vec<u8>) -> Value {
        Value::Blob(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> QueryResult {
        QueryResult {
            columns: vec![
                "id".into(),
                "name".into(),
                "score".into(),
                "photo".into(),
                "note".into(),
            ],
            rows: vec![RowResult {
                values: vec![
                    Value::Integer(7),
                    Value::Text("Ada".into()),
                    Value::Real(9.5),
                    Value::Blob(vec![1, 2]),
                    Value::Null,
                ],
            }],
        }
    }

    #[test]
    fn typed_getters() {
        let result = result();
        let row = result.rows().next().unwrap();
        assert_eq!(row.get::<i64>("id"), Ok(7));
        assert_eq!(row.get::<u8>("id"), Ok(7));
        assert_eq!(row.get::<String>("name"), Ok("Ada".to_owned()));
        assert_eq!(row.get::<f64>("score"), Ok(9.5));
        assert_eq!(row.get::<Vec<u8>>("photo"), Ok(vec![1, 2]));
        assert_eq!(row.get::<Option<String>>("note"), Ok(None));
        assert_eq!(row.get::<Option<i64>>("id"), Ok(Some(7)));
    }

    #[test]
    fn getter_errors_name_the_column_and_types() {
        let result = result();
        let row = result.rows().next().unwrap();
        let error = row.get::<i64>("name").unwrap_err();
        assert_eq!(error.column(), Some("name"));
        assert_eq!(
            error.to_string(),
            "column \"name\": cannot read a SQLite text as i64"
        );
        let error = row.get::<String>("note").unwrap_err();
        assert_eq!(
            error.to_string(),
            "column \"note\": cannot read a SQLite NULL as alloc::string::String"
        );
        let error = row.get::<i64>("missing").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("column \"missing\": no such column"),
            "{error}"
        );
        let error = Row {
            columns: &["n".into()],
            values: &[Value::Integer(300)],
        }
        .get::<u8>("n")
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "column \"n\": the integer 300 does not fit in u8"
        );
    }

    #[test]
    fn serde_mapping() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Person {
            id: i64,
            name: String,
            score: f64,
            photo: Vec<u8>,
            note: Option<String>,
        }
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Flags {
            id: u8,
            active: bool,
            name: Option<String>,
        }
        let flags = QueryResult {
            columns: vec!["id".into(), "active".into(), "name".into()],
            rows: vec![
                RowResult {
                    values: vec![
                        Value::Integer(1),
                        Value::Integer(1),
                        Value::Text("a".into()),
                    ],
                },
                RowResult {
                    values: vec![Value::Integer(2), Value::Integer(0), Value::Null],
                },
            ],
        };
        assert_eq!(
            flags.deserialize::<Flags>().unwrap(),
            vec![
                Flags {
                    id: 1,
                    active: true,
                    name: Some("a".into())
                },
                Flags {
                    id: 2,
                    active: false,
                    name: None
                }
            ]
        );
        let not_a_bool = QueryResult {
            columns: vec!["id".into(), "active".into(), "name".into()],
            rows: vec![RowResult {
                values: vec![Value::Integer(1), Value::Integer(7), Value::Null],
            }],
        };
        let error = not_a_bool.deserialize::<Flags>().unwrap_err();
        assert!(error.to_string().contains("expected a boolean"), "{error}");
        let people: Vec<Person> = result().deserialize().unwrap();
        assert_eq!(
            people,
            vec![Person {
                id: 7,
                name: "Ada".into(),
                score: 9.5,
                photo: vec![1, 2],
                note: None
            }]
        );
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Wrong {
            id: String,
        }
        let error = result().deserialize::<Wrong>().unwrap_err();
        assert!(
            error.to_string().starts_with("row 0 does not fit"),
            "{error}"
        );
    }

    #[test]
    fn parameters_convert() {
        let params: &[Value] = params![
            1u8,
            -2i64,
            1.5,
            "text",
            String::from("owned"),
            vec![0u8, 1],
            true,
            None::<i32>,
            Some(3)
        ];
        assert!(matches!(params[0], Value::Integer(1)));
        assert!(matches!(params[1], Value::Integer(-2)));
        assert!(matches!(params[2], Value::Real(r) if r == 1.5));
        assert!(matches!(&params[3], Value::Text(t) if t == "text"));
        assert!(matches!(&params[4], Value::Text(t) if t == "owned"));
        assert!(matches!(&params[5], Value::Blob(b) if b == &[0, 1]));
        assert!(matches!(params[6], Value::Integer(1)));
        assert!(matches!(params[7], Value::Null));
        assert!(matches!(params[8], Value::Integer(3)));
    }
}
