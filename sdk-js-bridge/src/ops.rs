//! The host side of `__rotor_call(op, argumentsJson)`: each operation the JavaScript runtime
//! (`js/runtime.js`) asks for, answered through `rotor-sdk`. Replies are `{"ok": value}` or
//! `{"error": {"kind", "message"}}`, which the runtime turns into a value or a thrown
//! `RotorError`. Bytes travel as base64 text.
//!
//! Opened stores, databases and connections live in per-instance tables and are named to
//! JavaScript by their index; an instance serves one request, so the tables never shrink.

use std::cell::RefCell;

use base64::Engine as _;
use rotor_sdk::http::outbound::{self, SendErrorKind};
use rotor_sdk::rows::SqlValue as _;
use rotor_sdk::{key_value, mqtt, mysql, pg, redis, sqlite, variables};
use serde_json::{json, Value};

/// A failure to report to JavaScript as a `RotorError`.
pub(crate) struct Failure {
    kind: String,
    message: String,
}

impl Failure {
    pub(crate) fn new(kind: &str, message: impl Into<String>) -> Failure {
        Failure {
            kind: kind.to_owned(),
            message: message.into(),
        }
    }
}

pub(crate) type OpResult = Result<Value, Failure>;

#[derive(Default)]
struct Handles {
    stores: Vec<key_value::Store>,
    sqlite: Vec<sqlite::Connection>,
    pg: Vec<pg::Connection>,
    mysql: Vec<mysql::Connection>,
    redis: Vec<redis::Connection>,
    mqtt: Vec<mqtt::Connection>,
}

thread_local! {
    static HANDLES: RefCell<Handles> = RefCell::new(Handles::default());
}

/// Answers one call from the runtime.
pub fn call(op: &str, arguments: &str) -> String {
    let reply = match serde_json::from_str::<Value>(arguments) {
        Ok(args) => dispatch(op, &args),
        Err(error) => Err(Failure::new("invalid-arguments", error.to_string())),
    };
    match reply {
        Ok(value) => json!({ "ok": value }),
        Err(failure) => json!({ "error": { "kind": failure.kind, "message": failure.message } }),
    }
    .to_string()
}

fn dispatch(op: &str, args: &Value) -> OpResult {
    match op.split_once('.') {
        Some(("http", "send")) => http_send(args),
        Some(("kv", action)) => key_value_op(action, args),
        Some(("sqlite", action)) => sqlite_op(action, args),
        Some(("pg", action)) => pg_op(action, args),
        Some(("mysql", action)) => mysql_op(action, args),
        Some(("redis", action)) => redis_op(action, args),
        Some(("mqtt", action)) => mqtt_op(action, args),
        Some(("crypto", action)) => crate::web::crypto_op(action, args),
        Some(("timers", action)) => crate::web::timers_op(action, args),
        Some(("variables", "get")) => variables::get(text(args, "name")?)
            .map(Value::from)
            .map_err(|e| Failure::new(variables_kind(&e), e.to_string())),
        Some(("console", level)) => {
            // stderr reaches the host's log, prefixed with the component's name.
            eprintln!("[{level}] {}", text(args, "message")?);
            Ok(Value::Null)
        }
        _ => Err(Failure::new(
            "unknown-operation",
            format!("no operation {op:?}"),
        )),
    }
}

fn text<'a>(args: &'a Value, name: &str) -> Result<&'a str, Failure> {
    args[name]
        .as_str()
        .ok_or_else(|| Failure::new("invalid-arguments", format!("`{name}` must be a string")))
}

pub(crate) fn bytes(args: &Value, name: &str) -> Result<Vec<u8>, Failure> {
    base64::engine::general_purpose::STANDARD
        .decode(text(args, name)?)
        .map_err(|e| Failure::new("invalid-arguments", format!("`{name}`: {e}")))
}

pub(crate) fn encode(bytes: &[u8]) -> Value {
    Value::from(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn index(args: &Value, name: &str) -> Result<usize, Failure> {
    args[name]
        .as_u64()
        .map(|i| i as usize)
        .ok_or_else(|| Failure::new("invalid-arguments", format!("`{name}` must be a handle")))
}

/// Runs `use_it` on the handle `args[name]` of the table `pick` chooses.
fn with_handle<T, R>(
    args: &Value,
    name: &str,
    pick: fn(&mut Handles) -> &mut Vec<T>,
    use_it: impl FnOnce(&T) -> R,
) -> Result<R, Failure> {
    let at = index(args, name)?;
    HANDLES.with(|handles| {
        let mut handles = handles.borrow_mut();
        let table = pick(&mut handles);
        table
            .get(at)
            .map(use_it)
            .ok_or_else(|| Failure::new("invalid-handle", "no such handle"))
    })
}

/// Keeps `value` in the table `pick` chooses and returns its handle.
fn keep<T>(value: T, pick: fn(&mut Handles) -> &mut Vec<T>) -> Value {
    HANDLES.with(|handles| {
        let mut handles = handles.borrow_mut();
        let table = pick(&mut handles);
        table.push(value);
        Value::from(table.len() - 1)
    })
}

fn send_kind(kind: SendErrorKind) -> &'static str {
    match kind {
        SendErrorKind::Denied => "denied",
        SendErrorKind::Dns => "dns",
        SendErrorKind::Connect => "connect",
        SendErrorKind::Tls => "tls",
        SendErrorKind::Timeout => "timeout",
        SendErrorKind::Protocol => "protocol",
        SendErrorKind::InvalidRequest => "invalid-request",
        _ => "other",
    }
}

fn http_send(args: &Value) -> OpResult {
    let mut request = rotor_sdk::http::Request::builder()
        .method(text(args, "method")?)
        .uri(text(args, "url")?);
    for pair in args["headers"].as_array().into_iter().flatten() {
        if let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str()) {
            request = request.header(name, value);
        }
    }
    // An `AbortSignal.timeout(ms)` on the fetch: no JavaScript runs while the host sends,
    // so the limit goes to the host.
    if let Some(ms) = args["timeoutMs"].as_f64() {
        let ms = ms.clamp(0.0, crate::web::MAX_WAIT_MS);
        let limit = std::time::Duration::from_secs_f64(ms / 1000.0);
        request = request.extension(outbound::Timeouts::all(limit));
    }
    let body = match args["body"] {
        Value::Null => Vec::new(),
        _ => bytes(args, "body")?,
    };
    let request = request
        .body(body)
        .map_err(|e| Failure::new("invalid-request", e.to_string()))?;
    let response = outbound::send_blocking(request)
        .map_err(|e| Failure::new(send_kind(e.kind()), e.to_string()))?;
    let headers: Vec<Value> = response
        .headers()
        .iter()
        .map(|(name, value)| json!([name.as_str(), String::from_utf8_lossy(value.as_bytes())]))
        .collect();
    Ok(json!({
        "status": response.status().as_u16(),
        "headers": headers,
        "body": encode(response.body()),
    }))
}

fn key_value_kind(error: &key_value::Error) -> &'static str {
    match error {
        key_value::Error::StoreTableFull => "store-table-full",
        key_value::Error::NoSuchStore => "no-such-store",
        key_value::Error::AccessDenied => "access-denied",
        key_value::Error::Other(_) => "other",
    }
}

fn variables_kind(error: &variables::Error) -> &'static str {
    match error {
        variables::Error::InvalidName(_) => "invalid-name",
        variables::Error::Undefined(_) => "undefined",
        variables::Error::Provider(_) => "provider",
        variables::Error::Other(_) => "other",
    }
}

fn key_value_op(action: &str, args: &Value) -> OpResult {
    let failed = |e: key_value::Error| Failure::new(key_value_kind(&e), e.to_string());
    let stores: fn(&mut Handles) -> &mut Vec<_> = |h| &mut h.stores;
    match action {
        "open" => {
            let store = key_value::Store::open(text(args, "label")?).map_err(failed)?;
            Ok(keep(store, stores))
        }
        "get" => {
            let key = text(args, "key")?;
            let value = with_handle(args, "store", stores, |s| s.get(key))?.map_err(failed)?;
            Ok(value.map_or(Value::Null, |v| encode(&v)))
        }
        "set" => {
            let (key, value) = (text(args, "key")?, bytes(args, "value")?);
            with_handle(args, "store", stores, |s| s.set(key, &value))?.map_err(failed)?;
            Ok(Value::Null)
        }
        "delete" => {
            let key = text(args, "key")?;
            with_handle(args, "store", stores, |s| s.delete(key))?.map_err(failed)?;
            Ok(Value::Null)
        }
        "exists" => {
            let key = text(args, "key")?;
            let exists = with_handle(args, "store", stores, |s| s.exists(key))?.map_err(failed)?;
            Ok(Value::from(exists))
        }
        "keys" => {
            let keys = with_handle(args, "store", stores, |s| s.get_keys())?.map_err(failed)?;
            Ok(Value::from(keys))
        }
        _ => Err(Failure::new("unknown-operation", format!("kv.{action}"))),
    }
}

/// A SQL parameter from JavaScript: a number, string, boolean, null, `{bytes: base64}` or
/// `{int: "digits"}` (a BigInt).
enum SqlParam {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

fn sql_params(args: &Value) -> Result<Vec<SqlParam>, Failure> {
    let bad = |what: &Value| Failure::new("bad-parameter", format!("cannot send {what} to SQL"));
    args["params"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|value| {
            Ok(match value {
                Value::Null => SqlParam::Null,
                Value::Bool(b) => SqlParam::Bool(*b),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => SqlParam::Int(i),
                    None => SqlParam::Float(n.as_f64().ok_or_else(|| bad(value))?),
                },
                Value::String(s) => SqlParam::Text(s.clone()),
                Value::Object(object) if object.contains_key("bytes") => {
                    SqlParam::Bytes(bytes(value, "bytes")?)
                }
                Value::Object(object) if object.contains_key("int") => {
                    SqlParam::Int(text(value, "int")?.parse().map_err(|_| bad(value))?)
                }
                other => return Err(bad(other)),
            })
        })
        .collect()
}

fn sqlite_op(action: &str, args: &Value) -> OpResult {
    let failed = |e: sqlite::Error| {
        let kind = match &e {
            sqlite::Error::NoSuchDatabase => "no-such-database",
            sqlite::Error::AccessDenied => "access-denied",
            sqlite::Error::InvalidConnection => "invalid-connection",
            sqlite::Error::DatabaseFull => "database-full",
            sqlite::Error::Io(_) => "io",
        };
        Failure::new(kind, e.to_string())
    };
    let databases: fn(&mut Handles) -> &mut Vec<_> = |h| &mut h.sqlite;
    if action == "open" {
        let connection = sqlite::Connection::open(text(args, "name")?).map_err(failed)?;
        return Ok(keep(connection, databases));
    }
    let statement = text(args, "statement")?;
    let params: Vec<sqlite::Value> = sql_params(args)?
        .into_iter()
        .map(|p| match p {
            SqlParam::Null => sqlite::Value::Null,
            SqlParam::Bool(b) => sqlite::Value::Integer(b.into()),
            SqlParam::Int(i) => sqlite::Value::Integer(i),
            SqlParam::Float(f) => sqlite::Value::Real(f),
            SqlParam::Text(s) => sqlite::Value::Text(s),
            SqlParam::Bytes(b) => sqlite::Value::Blob(b),
        })
        .collect();
    let result =
        with_handle(args, "db", databases, |db| db.execute(statement, &params))?.map_err(failed)?;
    match action {
        "query" => Ok(Value::from(
            result.rows().map(|row| row.to_json()).collect::<Vec<_>>(),
        )),
        // SQLite's interface does not say how many rows changed.
        "execute" => Ok(Value::Null),
        "tagged" => Ok(tagged_result(
            Value::from(result.columns.clone()),
            result.rows.iter().map(|row| row.values.as_slice()),
            sqlite_tagged,
        )),
        _ => Err(Failure::new(
            "unknown-operation",
            format!("sqlite.{action}"),
        )),
    }
}

fn pg_op(action: &str, args: &Value) -> OpResult {
    let failed = |e: pg::Error| {
        let kind = match &e {
            pg::Error::ConnectionFailed(_) => "connection-failed",
            pg::Error::BadParameter(_) => "bad-parameter",
            pg::Error::QueryFailed(_) => "query-failed",
            pg::Error::ValueConversionFailed(_) => "value-conversion-failed",
            pg::Error::Other(_) => "other",
        };
        Failure::new(kind, e.to_string())
    };
    let connections: fn(&mut Handles) -> &mut Vec<_> = |h| &mut h.pg;
    if action == "open" {
        let connection = pg::Connection::open(text(args, "address")?).map_err(failed)?;
        return Ok(keep(connection, connections));
    }
    let statement = text(args, "statement")?;
    let params: Vec<pg::ParameterValue> = sql_params(args)?
        .into_iter()
        .map(|p| match p {
            SqlParam::Null => pg::ParameterValue::DbNull,
            SqlParam::Bool(b) => pg::ParameterValue::Boolean(b),
            SqlParam::Int(i) => pg::ParameterValue::Int64(i),
            SqlParam::Float(f) => pg::ParameterValue::Floating64(f),
            SqlParam::Text(s) => pg::ParameterValue::Str(s),
            SqlParam::Bytes(b) => pg::ParameterValue::Binary(b),
        })
        .collect();
    match action {
        "query" => {
            let rows = with_handle(args, "db", connections, |db| {
                db.query(statement, &params).map_err(failed)
            })??;
            Ok(Value::from(
                rows.rows().map(|row| row.to_json()).collect::<Vec<_>>(),
            ))
        }
        "execute" => {
            let changed = with_handle(args, "db", connections, |db| {
                db.execute(statement, &params).map_err(failed)
            })??;
            Ok(Value::from(changed))
        }
        "tagged" => {
            let set = with_handle(args, "db", connections, |db| {
                db.query(statement, &params).map_err(failed)
            })??;
            let columns = set
                .columns
                .iter()
                .map(|c| typed_column(&c.name, pg_data_type(&c.data_type)));
            Ok(tagged_result(
                columns.collect(),
                set.rows.iter().map(Vec::as_slice),
                pg_tagged,
            ))
        }
        _ => Err(Failure::new("unknown-operation", format!("pg.{action}"))),
    }
}

fn mysql_op(action: &str, args: &Value) -> OpResult {
    let failed = |e: mysql::Error| {
        let kind = match &e {
            mysql::Error::ConnectionFailed(_) => "connection-failed",
            mysql::Error::BadParameter(_) => "bad-parameter",
            mysql::Error::QueryFailed(_) => "query-failed",
            mysql::Error::ValueConversionFailed(_) => "value-conversion-failed",
            mysql::Error::Other(_) => "other",
        };
        Failure::new(kind, e.to_string())
    };
    let connections: fn(&mut Handles) -> &mut Vec<_> = |h| &mut h.mysql;
    if action == "open" {
        let connection = mysql::Connection::open(text(args, "address")?).map_err(failed)?;
        return Ok(keep(connection, connections));
    }
    let statement = text(args, "statement")?;
    let params: Vec<mysql::ParameterValue> = sql_params(args)?
        .into_iter()
        .map(|p| match p {
            SqlParam::Null => mysql::ParameterValue::DbNull,
            SqlParam::Bool(b) => mysql::ParameterValue::Boolean(b),
            SqlParam::Int(i) => mysql::ParameterValue::Int64(i),
            SqlParam::Float(f) => mysql::ParameterValue::Floating64(f),
            SqlParam::Text(s) => mysql::ParameterValue::Str(s),
            SqlParam::Bytes(b) => mysql::ParameterValue::Binary(b),
        })
        .collect();
    match action {
        "query" => {
            let rows = with_handle(args, "db", connections, |db| db.query(statement, &params))?
                .map_err(failed)?;
            Ok(Value::from(
                rows.rows().map(|row| row.to_json()).collect::<Vec<_>>(),
            ))
        }
        "execute" => {
            with_handle(args, "db", connections, |db| db.execute(statement, &params))?
                .map_err(failed)?;
            // MySQL's interface does not say how many rows changed.
            Ok(Value::Null)
        }
        "tagged" => {
            let set = with_handle(args, "db", connections, |db| db.query(statement, &params))?
                .map_err(failed)?;
            let columns = set
                .columns
                .iter()
                .map(|c| typed_column(&c.name, mysql_data_type(c.data_type)));
            Ok(tagged_result(
                columns.collect(),
                set.rows.iter().map(Vec::as_slice),
                mysql_tagged,
            ))
        }
        _ => Err(Failure::new("unknown-operation", format!("mysql.{action}"))),
    }
}

// Query results as the interfaces define them, for the runtime's `queryTagged`: each value
// is `[tag]` or `[tag, val]`, with the WIT variant's name as its tag. JSON numbers lose
// precision past 2^53, so 64-bit integers travel as decimal text (the runtime makes them
// BigInts); bytes travel as base64.

/// `{columns, rows}`, each row's values tagged by `tag`.
fn tagged_result<'a, V: 'a>(
    columns: Value,
    rows: impl Iterator<Item = &'a [V]>,
    tag: fn(&V) -> Value,
) -> Value {
    let rows: Vec<Vec<Value>> = rows.map(|row| row.iter().map(tag).collect()).collect();
    json!({ "columns": columns, "rows": rows })
}

/// A PostgreSQL or MySQL column: `{name, dataType}`.
fn typed_column(name: &str, data_type: &str) -> Value {
    json!({ "name": name, "dataType": data_type })
}

fn sqlite_tagged(value: &sqlite::Value) -> Value {
    match value {
        sqlite::Value::Integer(i) => json!(["integer", i.to_string()]),
        sqlite::Value::Real(f) => json!(["real", f]),
        sqlite::Value::Text(s) => json!(["text", s]),
        sqlite::Value::Blob(b) => json!(["blob", encode(b)]),
        sqlite::Value::Null => json!(["null"]),
    }
}

fn mysql_tagged(value: &mysql::DbValue) -> Value {
    match value {
        mysql::DbValue::Int64(i) => json!(["int64", i.to_string()]),
        mysql::DbValue::Uint64(i) => json!(["uint64", i.to_string()]),
        mysql::DbValue::Binary(b) => json!(["binary", encode(b)]),
        mysql::DbValue::DbNull => json!(["db-null"]),
        mysql::DbValue::Unsupported => json!(["unsupported"]),
        other => json!([other.kind(), other.to_json()]),
    }
}

/// PostgreSQL values as `spin:postgres@4.0.0` has them; dates and times keep their tuples.
/// The variants Spin's 3.0.0 interface lacks (UUIDs, JSON, decimals, ranges, arrays,
/// intervals) carry their JSON form.
fn pg_tagged(value: &pg::DbValue) -> Value {
    use pg::DbValue as V;
    match value {
        V::Int64(i) => json!(["int64", i.to_string()]),
        V::Timestamp(seconds) => json!(["timestamp", seconds.to_string()]),
        V::Binary(b) => json!(["binary", encode(b)]),
        V::Date((year, month, day)) => json!(["date", [year, month, day]]),
        V::Time((hour, minute, second, nanos)) => json!(["time", [hour, minute, second, nanos]]),
        V::Datetime((year, month, day, hour, minute, second, nanos)) => {
            json!(["datetime", [year, month, day, hour, minute, second, nanos]])
        }
        V::DbNull => json!(["db-null"]),
        V::Unsupported(_) => json!(["unsupported"]),
        other => json!([other.kind(), other.to_json()]),
    }
}

fn pg_data_type(data_type: &pg::DbDataType) -> &'static str {
    use pg::DbDataType as T;
    match data_type {
        T::Boolean => "boolean",
        T::Int8 => "int8",
        T::Int16 => "int16",
        T::Int32 => "int32",
        T::Int64 => "int64",
        T::Floating32 => "floating32",
        T::Floating64 => "floating64",
        T::Str => "str",
        T::Binary => "binary",
        T::Date => "date",
        T::Time => "time",
        T::Datetime => "datetime",
        T::Timestamp => "timestamp",
        T::Uuid => "uuid",
        T::Jsonb => "jsonb",
        T::Decimal => "decimal",
        T::RangeInt32 => "range-int32",
        T::RangeInt64 => "range-int64",
        T::RangeDecimal => "range-decimal",
        T::ArrayInt32 => "array-int32",
        T::ArrayInt64 => "array-int64",
        T::ArrayDecimal => "array-decimal",
        T::ArrayStr => "array-str",
        T::Interval => "interval",
        T::Other(_) => "other",
    }
}

fn mysql_data_type(data_type: mysql::DbDataType) -> &'static str {
    use mysql::DbDataType as T;
    match data_type {
        T::Boolean => "boolean",
        T::Int8 => "int8",
        T::Int16 => "int16",
        T::Int32 => "int32",
        T::Int64 => "int64",
        T::Uint8 => "uint8",
        T::Uint16 => "uint16",
        T::Uint32 => "uint32",
        T::Uint64 => "uint64",
        T::Floating32 => "floating32",
        T::Floating64 => "floating64",
        T::Str => "str",
        T::Binary => "binary",
        T::Other => "other",
    }
}

fn redis_kind(error: &redis::Error) -> &'static str {
    match error {
        redis::Error::InvalidAddress => "invalid-address",
        redis::Error::TooManyConnections => "too-many-connections",
        redis::Error::TypeError => "type-error",
        redis::Error::Other(_) => "other",
    }
}

fn redis_result_json(result: &redis::RedisResult) -> Value {
    match result {
        redis::RedisResult::Nil => Value::Null,
        redis::RedisResult::Status(s) => Value::from(s.as_str()),
        redis::RedisResult::Int64(i) => Value::from(*i),
        redis::RedisResult::Binary(b) => Value::from(String::from_utf8_lossy(b).into_owned()),
    }
}

fn redis_result_tagged(result: &redis::RedisResult) -> Value {
    match result {
        redis::RedisResult::Nil => json!(["nil"]),
        redis::RedisResult::Status(s) => json!(["status", s]),
        redis::RedisResult::Int64(i) => json!(["int64", i.to_string()]),
        redis::RedisResult::Binary(b) => json!(["binary", encode(b)]),
    }
}

fn redis_op(action: &str, args: &Value) -> OpResult {
    let failed = |e: redis::Error| Failure::new(redis_kind(&e), e.to_string());
    let connections: fn(&mut Handles) -> &mut Vec<_> = |h| &mut h.redis;
    if action == "open" {
        let connection = redis::Connection::open(text(args, "address")?).map_err(failed)?;
        return Ok(keep(connection, connections));
    }
    let command = text(args, "command")?;
    let list: Vec<Value> = args["args"].as_array().cloned().unwrap_or_default();
    let string_at = |i: usize| -> Result<String, Failure> {
        list.get(i)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Failure::new("invalid-arguments", format!("argument {i} of {command}")))
    };
    let strings = |from: usize| -> Vec<String> {
        list.iter()
            .skip(from)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect()
    };
    let decode = |text: String| {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| Failure::new("invalid-arguments", e.to_string()))
    };
    with_handle(args, "conn", connections, |conn| -> OpResult {
        Ok(match command {
            "publish" => {
                conn.publish(&string_at(0)?, &decode(string_at(1)?)?)
                    .map_err(failed)?;
                Value::Null
            }
            "get" => conn
                .get(&string_at(0)?)
                .map_err(failed)?
                .map_or(Value::Null, |v| encode(&v)),
            "set" => {
                conn.set(&string_at(0)?, &decode(string_at(1)?)?)
                    .map_err(failed)?;
                Value::Null
            }
            "incr" => Value::from(conn.incr(&string_at(0)?).map_err(failed)?),
            "del" => Value::from(conn.del(&strings(0)).map_err(failed)?),
            "sadd" => Value::from(conn.sadd(&string_at(0)?, &strings(1)).map_err(failed)?),
            "smembers" => Value::from(conn.smembers(&string_at(0)?).map_err(failed)?),
            "srem" => Value::from(conn.srem(&string_at(0)?, &strings(1)).map_err(failed)?),
            "execute" => {
                let parameters: Vec<redis::RedisParameter> = list
                    .iter()
                    .skip(1)
                    .map(|v| match v.as_i64() {
                        Some(i) => redis::RedisParameter::Int64(i),
                        None => redis::RedisParameter::Binary(
                            v.as_str().unwrap_or_default().as_bytes().to_vec(),
                        ),
                    })
                    .collect();
                let results = conn.execute(&string_at(0)?, &parameters).map_err(failed)?;
                Value::from(results.iter().map(redis_result_json).collect::<Vec<_>>())
            }
            // The interface's own values: `[tag, val]` parameters and results, 64-bit
            // integers as decimal text and bytes as base64, as for SQL rows.
            "execute-tagged" => {
                let parameters = list
                    .iter()
                    .skip(1)
                    .map(|parameter| match (parameter[0].as_str(), parameter[1].as_str()) {
                        (Some("int64"), Some(digits)) => digits
                            .parse()
                            .map(redis::RedisParameter::Int64)
                            .map_err(|_| Failure::new("invalid-arguments", format!("{digits:?} is not a 64-bit integer"))),
                        (Some("binary"), Some(text)) => decode(text.to_owned()).map(redis::RedisParameter::Binary),
                        _ => Err(Failure::new(
                            "invalid-arguments",
                            format!("a Redis parameter is {{tag: \"int64\", val: bigint}} or {{tag: \"binary\", val: Uint8Array}}, not {parameter}"),
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let results = conn.execute(&string_at(0)?, &parameters).map_err(failed)?;
                Value::from(results.iter().map(redis_result_tagged).collect::<Vec<_>>())
            }
            other => {
                return Err(Failure::new(
                    "unknown-operation",
                    format!("redis command {other}"),
                ))
            }
        })
    })?
}

fn mqtt_op(action: &str, args: &Value) -> OpResult {
    let failed = |e: mqtt::Error| {
        let kind = match &e {
            mqtt::Error::InvalidAddress => "invalid-address",
            mqtt::Error::TooManyConnections => "too-many-connections",
            mqtt::Error::ConnectionFailed(_) => "connection-failed",
            mqtt::Error::Other(_) => "other",
        };
        Failure::new(kind, e.to_string())
    };
    let connections: fn(&mut Handles) -> &mut Vec<_> = |h| &mut h.mqtt;
    match action {
        "open" => {
            let connection = mqtt::Connection::open(
                text(args, "address")?,
                text(args, "username")?,
                text(args, "password")?,
                args["keepAliveSecs"].as_u64().unwrap_or(30),
            )
            .map_err(failed)?;
            Ok(keep(connection, connections))
        }
        "publish" => {
            let topic = text(args, "topic")?;
            let payload = bytes(args, "payload")?;
            let qos = match args["qos"].as_u64() {
                Some(0) => mqtt::Qos::AtMostOnce,
                Some(2) => mqtt::Qos::ExactlyOnce,
                _ => mqtt::Qos::AtLeastOnce,
            };
            with_handle(args, "conn", connections, |c| {
                c.publish(topic, &payload, qos)
            })?
            .map_err(failed)?;
            Ok(Value::Null)
        }
        _ => Err(Failure::new("unknown-operation", format!("mqtt.{action}"))),
    }
}
