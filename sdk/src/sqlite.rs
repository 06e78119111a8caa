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

use crate::rows::SqlValue;

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
        self.rows
            .iter()
            .map(move |row| Row::new(&self.columns, &row.values))
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
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>, RowError> {
        crate::rows::deserialize_rows(self.rows())
    }
}

/// One row of a [`QueryResult`]: `row.get::<T>("column")` (any `T` that implements
/// [`Decode<Value>`](Decode)), `row.value("column")`, `row.to_json()`.
pub type Row<'a> = crate::rows::Row<'a, String, Value>;

#[doc(inline)]
pub use crate::rows::{Decode, RowError};

impl SqlValue for Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Integer(_) => "SQLite integer",
            Value::Real(_) => "SQLite real",
            Value::Text(_) => "SQLite text",
            Value::Blob(_) => "SQLite blob",
            Value::Null => "SQLite NULL",
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// SQLite has no booleans: 0 and 1 read as `bool` through their integers.
    fn as_bool(&self) -> Option<bool> {
        None
    }

    fn as_integer(&self) -> Option<i128> {
        match self {
            Value::Integer(i) => Some((*i).into()),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Real(r) => Some(*r),
            _ => None,
        }
    }

    fn as_f32(&self) -> Option<f32> {
        None
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Blob(b) => Some(b),
            _ => None,
        }
    }

    /// Blobs become arrays of bytes.
    fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Integer(i) => serde_json::Value::from(*i),
            Value::Real(r) => serde_json::Value::from(*r),
            Value::Text(t) => serde_json::Value::from(t.as_str()),
            Value::Blob(b) => serde_json::Value::from(b.as_slice()),
            Value::Null => serde_json::Value::Null,
        }
    }
}

impl Decode<Value> for Value {
    fn decode(value: &Value) -> Result<Self, String> {
        Ok(value.clone())
    }
}

macro_rules! integer_parameters {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Value {
            fn from(value: $ty) -> Value {
                Value::Integer(i64::from(value))
            }
        }
    )*};
}

integer_parameters!(i8, i16, i32, i64, u8, u16, u32);

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

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::Text(value)
    }
}

impl From<Vec<u8>> for Value {
    fn from(value: Vec<u8>) -> Value {
        Value::Blob(value)
    }
}

crate::rows::borrowed_parameter_conversions!(Value {
    text: Text,
    bytes: Blob,
    null: Null
});

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
        let columns = ["n".to_owned()];
        let error = Row::new(&columns, &[Value::Integer(300)])
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
