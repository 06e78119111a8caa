//! Stand-ins for everything outside the host, for unit tests of an app (`rotor-test`).
//!
//! With [`super::StateOptions::virtual_services`] set, no capability opens a socket or a file
//! of its own: key-value stores are the ones [`VirtualServices::key_value_store`] hands out,
//! and outbound HTTP, PostgreSQL, MySQL, Redis and MQTT calls go to the other methods as
//! plain values ([`HttpCall`], [`SqlCall`], [`RedisCall`], [`MqttCall`]). SQLite still runs,
//! on databases in memory (one per name any component lists), and each statement is reported
//! through [`VirtualServices::sqlite_statement`]. Everything a guest is refused stays refused:
//! `allowed_outbound_hosts`, store and database grants are checked before a call gets here.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::key_value::store::Store;

/// What a virtual service answers, some time later.
pub type Answer<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Every server an app may reach, as a test provides them. Implemented by `rotor-test`.
pub trait VirtualServices: Send + Sync + 'static {
    /// The key-value store `label`; called once per label the app may use, while it loads.
    fn key_value_store(&self, label: &str) -> Arc<dyn Store>;

    /// Told of each SQLite statement a guest runs, before it runs.
    fn sqlite_statement(&self, call: SqlCall);

    /// Answers an outbound HTTP request that `allowed_outbound_hosts` allowed.
    fn http(&self, call: HttpCall) -> Answer<'_, Result<HttpReply, HttpFailure>>;

    /// Answers a PostgreSQL statement (a query, or an `execute` whose answer is
    /// [`SqlRows::rows_affected`]).
    fn postgres(&self, call: SqlCall) -> Answer<'_, Result<SqlRows, String>>;

    /// Answers a MySQL statement, as [`VirtualServices::postgres`] does.
    fn mysql(&self, call: SqlCall) -> Answer<'_, Result<SqlRows, String>>;

    /// Answers a Redis command: the typed calls (`get`, `publish`, ...) arrive as the
    /// command they stand for (`GET key`, `PUBLISH channel payload`).
    fn redis(&self, call: RedisCall) -> Answer<'_, Result<Vec<RedisReply>, String>>;

    /// Takes an MQTT message.
    fn mqtt(&self, call: MqttCall) -> Answer<'_, Result<(), String>>;
}

/// An outbound HTTP request, body read to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    /// The component that sent it.
    pub component: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The whole URL, scheme to query.
    pub url: String,
    /// The headers, in the order the guest set them; names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// The answer to an [`HttpCall`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// How an [`HttpCall`] fails instead of being answered: what the guest's `wasi:http` sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpFailure {
    /// The server refused the connection.
    ConnectionRefused,
    /// The name did not resolve.
    DnsError,
    /// The server did not answer in time.
    Timeout,
    /// Anything else, described.
    Other(String),
}

/// A value passed to or read from a database, in the terms every database here shares.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// `NULL`.
    Null,
    /// A boolean.
    Boolean(bool),
    /// Any integer.
    Integer(i64),
    /// Any floating-point number.
    Float(f64),
    /// Text; also what a value of another type (a date, a UUID, a range) is written as.
    Text(String),
    /// Bytes.
    Binary(Vec<u8>),
}

impl fmt::Display for SqlValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlValue::Null => f.write_str("NULL"),
            SqlValue::Boolean(value) => write!(f, "{value}"),
            SqlValue::Integer(value) => write!(f, "{value}"),
            SqlValue::Float(value) => write!(f, "{value}"),
            SqlValue::Text(value) => write!(f, "{value:?}"),
            SqlValue::Binary(value) => write!(f, "<{} bytes>", value.len()),
        }
    }
}

/// A statement a guest ran, with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlCall {
    /// The component that ran it.
    pub component: String,
    /// The connection address (PostgreSQL, MySQL) or the database's name (SQLite).
    pub address: String,
    /// The statement, as the guest wrote it.
    pub statement: String,
    /// Its parameters, in order.
    pub parameters: Vec<SqlValue>,
    /// Whether the guest asked for rows (`query`) or for a count (`execute`).
    pub wants_rows: bool,
}

/// What a statement answered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqlRows {
    /// The columns' names.
    pub columns: Vec<String>,
    /// The rows, each with one value per column.
    pub rows: Vec<Vec<SqlValue>>,
    /// How many rows an `execute` changed.
    pub rows_affected: u64,
}

impl SqlRows {
    /// The first value of column `index` that is not `NULL`: what the column's type is read
    /// from, since a stub gives values, not types.
    pub fn column_sample(&self, index: usize) -> Option<&SqlValue> {
        self.rows
            .iter()
            .filter_map(|row| row.get(index))
            .find(|value| **value != SqlValue::Null)
    }
}

/// Defines `data_type` and `value`, which turn a [`SqlValue`] into a database interface's
/// `DbDataType` and `DbValue`: PostgreSQL's and MySQL's bindings are distinct types with the
/// same cases.
macro_rules! sql_value_conversions {
    ($DbDataType:ident, $DbValue:ident) => {
        fn data_type(value: &SqlValue) -> $DbDataType {
            match value {
                SqlValue::Boolean(_) => $DbDataType::Boolean,
                SqlValue::Integer(_) => $DbDataType::Int64,
                SqlValue::Float(_) => $DbDataType::Floating64,
                SqlValue::Binary(_) => $DbDataType::Binary,
                SqlValue::Text(_) | SqlValue::Null => $DbDataType::Str,
            }
        }

        fn value(value: SqlValue) -> $DbValue {
            match value {
                SqlValue::Null => $DbValue::DbNull,
                SqlValue::Boolean(v) => $DbValue::Boolean(v),
                SqlValue::Integer(v) => $DbValue::Int64(v),
                SqlValue::Float(v) => $DbValue::Floating64(v),
                SqlValue::Text(v) => $DbValue::Str(v),
                SqlValue::Binary(v) => $DbValue::Binary(v),
            }
        }
    };
}
pub(crate) use sql_value_conversions;

/// A Redis command a guest sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisCall {
    /// The component that sent it.
    pub component: String,
    /// The server's address.
    pub address: String,
    /// The command, upper-case (`SET`, `PUBLISH`, ...).
    pub command: String,
    /// Its arguments, as they go over the wire (an integer as its digits).
    pub arguments: Vec<Vec<u8>>,
}

/// One value of Redis's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisReply {
    /// No value.
    Nil,
    /// A status such as `OK`.
    Status(String),
    /// An integer.
    Int(i64),
    /// Bytes.
    Binary(Vec<u8>),
}

/// An MQTT message a guest published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttCall {
    /// The component that published it.
    pub component: String,
    /// The broker's address.
    pub address: String,
    /// The user it connected as.
    pub username: String,
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// The quality of service: 0, 1 or 2.
    pub qos: u8,
}

/// A connection a guest opened in a unit test (PostgreSQL, MySQL, Redis, MQTT): where it
/// would have gone, and who answers instead.
pub struct VirtualConnection {
    /// Who answers.
    pub services: Arc<dyn VirtualServices>,
    /// The component that opened it.
    pub component: String,
    /// The address it was opened with.
    pub address: String,
}

impl VirtualConnection {
    /// A statement on this connection, as the services are told it.
    pub fn sql_call(
        &self,
        statement: &str,
        parameters: Vec<SqlValue>,
        wants_rows: bool,
    ) -> SqlCall {
        SqlCall {
            component: self.component.clone(),
            address: self.address.clone(),
            statement: statement.to_owned(),
            parameters,
            wants_rows,
        }
    }
}
