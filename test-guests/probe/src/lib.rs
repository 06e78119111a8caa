//! Probes the host according to the path:
//!
//! - a path ending in `/headers` lists the request's headers; `/echo` returns the body;
//! - `/panic`, `/loop`, `/alloc`, `/error` misbehave on purpose; `/stream` streams a long body;
//! - `/kv/LABEL[/KEY[/exists]]` and `POST /sqlite/NAME` drive key-value and SQLite (see below);
//! - `POST /rdbms/pg` and `POST /rdbms/mysql` run a statement (see [`RdbmsCall`]) through
//!   Spin 2's interfaces; `POST /pg4` through Spin 3's PostgreSQL interface (see [`Pg4Call`]);
//! - `POST /redis` runs one Redis command (see [`RedisCall`]);
//! - `POST /mqtt` publishes one message (see [`MqttCall`]);
//! - `POST /tcp` connects to the `host:port` in the body, sends `ping` and answers with what
//!   comes back, through `wasi:sockets` (Rust's `std::net`); a failure is a 502 naming the
//!   error's kind;
//! - `GET /config/KEY` and `GET /config` read `wasi:config/store` (see [`config`]);
//! - `GET /variables/NAME` reads a variable, `GET /env/NAME` an environment variable;
//! - `POST /outbound` sends the request its JSON body describes (see [`OutboundCall`]);
//!   `POST /outbound-late-body` writes a request's body only after its response has come
//!   (see [`late_body`]);
//! - `POST /files` reads and writes the files the manifest mounts (see [`files`]);
//! - `POST /sqlite3/NAME`, `POST /wasi-kv/LABEL`, `POST /pg3` and `POST /llm` drive Spin 3's
//!   interfaces that rotor-sdk does not wrap (see [`spin3`]);
//! - anything else answers "fine".
#![forbid(unsafe_code)]
// The probe answers early with a whole `Response` as its error, which keeps each route a few
// lines; it is a test fixture, not code to copy, so the size of that error does not matter.
#![allow(clippy::result_large_err)]

mod config;
mod files;
mod late_body;
mod spin3;

use rotor_sdk::http::outbound::{self, Timeouts};
use rotor_sdk::http::{
    Body, BodyError, Bytes, IntoResponse, Json, Params, Request, Response, Router, StatusCode,
};
use rotor_sdk::key_value::{self, Store};
use rotor_sdk::sqlite::{self, Connection, Value};
use rotor_sdk::variables;
use rotor_sdk::{mqtt, mysql, pg, rdbms, redis};
use serde::{Deserialize, Serialize};

#[rotor_sdk::http_component]
async fn handle(request: Request<Bytes>) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/kv/") || path.starts_with("/kv-many/") || path.starts_with("/sqlite/") {
        return capabilities().handle(request).await;
    }
    if path == "/config" {
        return config::get_all();
    }
    if let Some(key) = path.strip_prefix("/config/") {
        return config::get(key);
    }
    if let Some(name) = path.strip_prefix("/variables/") {
        return read_variable(name);
    }
    if let Some(name) = path.strip_prefix("/env/") {
        return match std::env::var(name) {
            Ok(value) => value.into_response(),
            Err(_) => (
                StatusCode::NOT_FOUND,
                format!("no environment variable {name}"),
            )
                .into_response(),
        };
    }
    if path == "/outbound" {
        return outbound_call(request).await;
    }
    if path == "/outbound-late-body" {
        return late_body::late_body(request);
    }
    if path == "/files" {
        return files::files_call(request);
    }
    if let Some(name) = path.strip_prefix("/sqlite3/") {
        return spin3::sqlite3(request, name);
    }
    if let Some(label) = path.strip_prefix("/wasi-kv/") {
        return spin3::keyvalue_round(request, label);
    }
    if path == "/pg3" {
        return spin3::pg3(request);
    }
    if path == "/llm" {
        return spin3::llm_call(request);
    }
    if let Some(ms) = path.strip_prefix("/sleep/") {
        let ms: u64 = ms.parse().unwrap_or(0);
        std::thread::sleep(std::time::Duration::from_millis(ms));
        return format!("slept {ms} ms").into_response();
    }
    if path == "/redis" {
        return redis_call(&request);
    }
    if path == "/mqtt" {
        return mqtt_call(&request);
    }
    if path == "/tcp" {
        return tcp_call(&request);
    }
    if let Some(database) = path.strip_prefix("/rdbms/") {
        return rdbms_call(database, &request);
    }
    if path == "/pg4" {
        return pg4_call(&request);
    }
    match path.as_str() {
        "/panic" => panic!("this guest panics on purpose"),
        "/loop" => {
            let mut counter: u64 = 0;
            loop {
                counter = std::hint::black_box(counter.wrapping_add(1));
            }
        }
        "/alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 16 * 1024 * 1024]);
                std::hint::black_box(&hoard);
            }
        }
        "/error" => Err::<(), _>("a secret detail that must not reach the client").into_response(),
        "/stream" => Body::stream(|mut writer| async move {
            for line in 0..1000 {
                writer.write(format!("line {line}\n").as_bytes()).await?;
            }
            Ok::<_, BodyError>(())
        })
        .into_response(),
        // A head and some of the body, then a failure: the client must not take what it got
        // for the whole body.
        "/stream-then-panic" => Body::stream(|mut writer| async move {
            writer.write(b"a first line\n").await?;
            writer.flush().await?;
            if std::hint::black_box(true) {
                panic!("this guest panics halfway through its body");
            }
            Ok::<_, BodyError>(())
        })
        .into_response(),
        // A head and some of the body, then a wait in the host that outlasts any deadline.
        "/stream-then-stall" => Body::stream(|mut writer| async move {
            writer.write(b"a first line\n").await?;
            writer.flush().await?;
            std::thread::sleep(std::time::Duration::from_secs(3600));
            Ok::<_, BodyError>(())
        })
        .into_response(),
        // Asks itself the same again, and answers with how deep the chain went.
        "/recurse" => recurse().await,
        "/echo" => request.into_body().into_response(),
        path if path.ends_with("/headers") => {
            let mut lines: Vec<String> = request
                .headers()
                .iter()
                .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("<binary>")))
                .collect();
            lines.sort();
            lines.push(format!("uri: {}", request.uri()));
            lines.push(format!("method: {}", request.method()));
            lines.join("\n").into_response()
        }
        _ => "fine".into_response(),
    }
}

fn capabilities() -> Router {
    Router::new()
        .get("/kv/:label", kv_keys)
        .get("/kv/:label/:key", kv_get)
        .put("/kv/:label/:key", kv_set)
        .delete("/kv/:label/:key", kv_delete)
        .get("/kv/:label/:key/exists", kv_exists)
        .post("/kv-many/:label/:count", kv_many)
        .post("/sqlite/:name", sqlite_execute)
}

/// A failed call, as JSON: `{"error": "access-denied", "message": "..."}`, status 500.
fn failure(kind: &str, message: String) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({ "error": kind, "message": message })),
    )
        .into_response()
}

fn kv_failure(error: key_value::Error) -> Response {
    match error {
        key_value::Error::AccessDenied => failure("access-denied", String::new()),
        key_value::Error::NoSuchStore => failure("no-such-store", String::new()),
        key_value::Error::StoreTableFull => failure("store-table-full", String::new()),
        key_value::Error::Other(message) => failure("other", message),
    }
}

fn open(params: &Params) -> Result<Store, Response> {
    Store::open(params.get("label").unwrap_or_default()).map_err(kv_failure)
}

fn kv_keys(params: Params) -> Response {
    let result = open(&params).and_then(|store| store.get_keys().map_err(kv_failure));
    match result {
        Ok(keys) => Json(keys).into_response(),
        Err(response) => response,
    }
}

fn kv_get(params: Params) -> Response {
    let key = params.get("key").unwrap_or_default();
    match open(&params).and_then(|store| store.get(key).map_err(kv_failure)) {
        Ok(Some(value)) => value.into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "absent").into_response(),
        Err(response) => response,
    }
}

fn kv_set(params: Params, request: Request<Bytes>) -> Response {
    let key = params.get("key").unwrap_or_default();
    match open(&params).and_then(|store| store.set(key, request.body()).map_err(kv_failure)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(response) => response,
    }
}

fn kv_delete(params: Params) -> Response {
    let key = params.get("key").unwrap_or_default();
    match open(&params).and_then(|store| store.delete(key).map_err(kv_failure)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(response) => response,
    }
}

fn kv_exists(params: Params) -> Response {
    let key = params.get("key").unwrap_or_default();
    match open(&params).and_then(|store| store.exists(key).map_err(kv_failure)) {
        Ok(exists) => exists.to_string().into_response(),
        Err(response) => response,
    }
}

/// Sets then gets `count` keys named `{body}-{n}`: the benchmark's unit of work.
fn kv_many(params: Params, request: Request<Bytes>) -> Response {
    let count: usize = params
        .get("count")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let prefix = String::from_utf8_lossy(request.body()).into_owned();
    let store = match open(&params) {
        Ok(store) => store,
        Err(response) => return response,
    };
    for n in 0..count {
        if let Err(error) = store.set(&format!("{prefix}-{n}"), b"value") {
            return kv_failure(error);
        }
    }
    for n in 0..count {
        match store.get(&format!("{prefix}-{n}")) {
            Ok(Some(_)) => {}
            Ok(None) => return failure("lost", format!("{prefix}-{n} is missing")),
            Err(error) => return kv_failure(error),
        }
    }
    format!("{count}").into_response()
}

/// A SQLite value as JSON: `{"integer": 1}`, `{"real": 1.5}`, `{"text": "x"}`,
/// `{"blob": [1, 2]}` or `"null"`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum TaggedValue {
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Null,
}

impl From<TaggedValue> for Value {
    fn from(value: TaggedValue) -> Value {
        match value {
            TaggedValue::Integer(i) => Value::Integer(i),
            TaggedValue::Real(r) => Value::Real(r),
            TaggedValue::Text(t) => Value::Text(t),
            TaggedValue::Blob(b) => Value::Blob(b),
            TaggedValue::Null => Value::Null,
        }
    }
}

impl From<&Value> for TaggedValue {
    fn from(value: &Value) -> TaggedValue {
        match value {
            Value::Integer(i) => TaggedValue::Integer(*i),
            Value::Real(r) => TaggedValue::Real(*r),
            Value::Text(t) => TaggedValue::Text(t.clone()),
            Value::Blob(b) => TaggedValue::Blob(b.clone()),
            Value::Null => TaggedValue::Null,
        }
    }
}

#[derive(Deserialize)]
struct Statement {
    sql: String,
    #[serde(default)]
    params: Vec<TaggedValue>,
    /// Statements run first on the same connection, in order (their results are dropped).
    #[serde(default)]
    before: Vec<String>,
}

fn sqlite_execute(params: Params, request: Request<Bytes>) -> Response {
    let statement: Statement = match Json::from_bytes(request.body()) {
        Ok(Json(statement)) => statement,
        Err(rejection) => return rejection.into_response(),
    };
    let connection = match Connection::open(params.get("name").unwrap_or_default()) {
        Ok(connection) => connection,
        Err(error) => return sqlite_failure(error),
    };
    for sql in &statement.before {
        if let Err(error) = connection.execute(sql, &[]) {
            return sqlite_failure(error);
        }
    }
    let values: Vec<Value> = statement.params.into_iter().map(Value::from).collect();
    match connection.execute(&statement.sql, &values) {
        Ok(result) => {
            let rows: Vec<Vec<TaggedValue>> = result
                .rows
                .iter()
                .map(|row| row.values.iter().map(TaggedValue::from).collect())
                .collect();
            Json(serde_json::json!({ "columns": result.columns, "rows": rows })).into_response()
        }
        Err(error) => sqlite_failure(error),
    }
}

fn sqlite_failure(error: sqlite::Error) -> Response {
    match error {
        sqlite::Error::NoSuchDatabase => failure("no-such-database", String::new()),
        sqlite::Error::AccessDenied => failure("access-denied", String::new()),
        sqlite::Error::InvalidConnection => failure("invalid-connection", String::new()),
        sqlite::Error::DatabaseFull => failure("database-full", String::new()),
        sqlite::Error::Io(message) => failure("io", message),
    }
}

fn read_variable(name: &str) -> Response {
    match variables::get(name) {
        Ok(value) => value.into_response(),
        Err(variables::Error::InvalidName(message)) => failure("invalid-name", message),
        Err(variables::Error::Undefined(message)) => failure("undefined", message),
        Err(variables::Error::Provider(message)) => failure("provider", message),
        Err(variables::Error::Other(message)) => failure("other", message),
    }
}

/// What `POST /outbound` sends. `url_from_variable` names a variable whose value is
/// appended to `url` (so a secret can travel in a request without the test naming it).
#[derive(Deserialize)]
struct OutboundCall {
    #[serde(default = "get")]
    method: String,
    url: String,
    #[serde(default)]
    url_from_variable: Option<String>,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: String,
    /// Sends the body in this many chunks through a streamed body.
    #[serde(default)]
    stream_chunks: Option<usize>,
    #[serde(default)]
    timeout_ms: Option<u64>,
}

fn get() -> String {
    "GET".to_owned()
}

/// Answers 200 with `{"status", "headers", "body"}` from the other side, or 502 with
/// `{"error": KIND, "message"}`.
async fn outbound_call(request: Request<Bytes>) -> Response {
    let call: OutboundCall = match Json::from_bytes(request.body()) {
        Ok(Json(call)) => call,
        Err(rejection) => return rejection.into_response(),
    };
    let mut url = call.url.clone();
    if let Some(name) = &call.url_from_variable {
        match variables::get(name) {
            Ok(value) => url.push_str(&value),
            Err(error) => return failure("variable", error.to_string()),
        }
    }
    let mut builder = rotor_sdk::http::Request::builder()
        .method(call.method.as_str())
        .uri(url);
    for (name, value) in &call.headers {
        builder = builder.header(name, value);
    }
    let body = match call.stream_chunks {
        Some(chunks) => {
            let text = call.body.clone();
            Body::stream(move |mut writer| async move {
                let size = text.len().div_ceil(chunks.max(1)).max(1);
                for piece in text.as_bytes().chunks(size) {
                    writer.write(piece).await?;
                    writer.flush().await?;
                }
                Ok::<_, BodyError>(())
            })
        }
        None => Body::from(call.body.clone()),
    };
    let mut outgoing = match builder.body(body) {
        Ok(outgoing) => outgoing,
        Err(error) => return failure("invalid-request", error.to_string()),
    };
    if let Some(ms) = call.timeout_ms {
        outgoing
            .extensions_mut()
            .insert(Timeouts::all(std::time::Duration::from_millis(ms)));
    }
    let response = match outbound::send(outgoing).await {
        Ok(response) => response,
        Err(error) => return outbound_failure(&error),
    };
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    match response.into_body().text().await {
        Ok(body) => Json(serde_json::json!({ "status": status, "headers": headers, "body": body }))
            .into_response(),
        Err(error) => failure("body", error.to_string()),
    }
}

/// `GET /recurse`: 1 more than what `http://self/recurse` answers, or `0` when the host
/// refuses to go deeper (its error kind after a colon).
async fn recurse() -> Response {
    let request = rotor_sdk::http::Request::builder()
        .uri("http://self/recurse")
        .body(Body::empty())
        .expect("a valid request");
    match outbound::send(request).await {
        Ok(response) => match response.into_body().text().await {
            Ok(text) => {
                let (depth, reason) = text.split_once(':').unwrap_or((&text, ""));
                match depth.parse::<u32>() {
                    Ok(depth) => format!("{}:{reason}", depth + 1).into_response(),
                    Err(_) => (StatusCode::BAD_GATEWAY, text).into_response(),
                }
            }
            Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
        },
        Err(error) => format!("0:{error}").into_response(),
    }
}

fn outbound_failure(error: &outbound::SendError) -> Response {
    use outbound::SendErrorKind::*;
    let kind = match error.kind() {
        Denied => "denied",
        Dns => "dns",
        Connect => "connect",
        Tls => "tls",
        Timeout => "timeout",
        Protocol => "protocol",
        InvalidRequest => "invalid-request",
        Body => "body",
        Status(_) => "status",
        _ => "other",
    };
    (
        StatusCode::BAD_GATEWAY,
        Json(serde_json::json!({ "error": kind, "message": error.to_string() })),
    )
        .into_response()
}

/// What `POST /rdbms/{pg,mysql}` runs: `{"address", "statement", "params": [TAGGED...],
/// "execute": bool}`, where a parameter is `{"int32": 5}`, `{"str": "x"}`, `"db-null"`...
#[derive(Deserialize)]
struct RdbmsCall {
    address: String,
    statement: String,
    #[serde(default)]
    params: Vec<TaggedParameter>,
    #[serde(default)]
    execute: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum TaggedParameter {
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Uint8(u8),
    Uint16(u16),
    Uint32(u32),
    Uint64(u64),
    Floating32(f32),
    Floating64(f64),
    Str(String),
    Binary(Vec<u8>),
    DbNull,
}

impl From<TaggedParameter> for rdbms::ParameterValue {
    fn from(value: TaggedParameter) -> Self {
        use rdbms::ParameterValue as P;
        match value {
            TaggedParameter::Boolean(v) => P::Boolean(v),
            TaggedParameter::Int8(v) => P::Int8(v),
            TaggedParameter::Int16(v) => P::Int16(v),
            TaggedParameter::Int32(v) => P::Int32(v),
            TaggedParameter::Int64(v) => P::Int64(v),
            TaggedParameter::Uint8(v) => P::Uint8(v),
            TaggedParameter::Uint16(v) => P::Uint16(v),
            TaggedParameter::Uint32(v) => P::Uint32(v),
            TaggedParameter::Uint64(v) => P::Uint64(v),
            TaggedParameter::Floating32(v) => P::Floating32(v),
            TaggedParameter::Floating64(v) => P::Floating64(v),
            TaggedParameter::Str(v) => P::Str(v),
            TaggedParameter::Binary(v) => P::Binary(v),
            TaggedParameter::DbNull => P::DbNull,
        }
    }
}

/// A value as `{"int32": 5}`; NULL as `"db-null"`, an unsupported one as `"unsupported"`.
fn tagged_value(value: &rdbms::DbValue) -> serde_json::Value {
    use rdbms::DbValue as V;
    use serde_json::json;
    match value {
        V::Boolean(v) => json!({ "boolean": v }),
        V::Int8(v) => json!({ "int8": v }),
        V::Int16(v) => json!({ "int16": v }),
        V::Int32(v) => json!({ "int32": v }),
        V::Int64(v) => json!({ "int64": v }),
        V::Uint8(v) => json!({ "uint8": v }),
        V::Uint16(v) => json!({ "uint16": v }),
        V::Uint32(v) => json!({ "uint32": v }),
        V::Uint64(v) => json!({ "uint64": v }),
        V::Floating32(v) => json!({ "floating32": v }),
        V::Floating64(v) => json!({ "floating64": v }),
        V::Str(v) => json!({ "str": v }),
        V::Binary(v) => json!({ "binary": v }),
        V::DbNull => json!("db-null"),
        V::Unsupported => json!("unsupported"),
    }
}

fn rdbms_call(database: &str, request: &Request<Bytes>) -> Response {
    let call: RdbmsCall = match Json::from_bytes(request.body()) {
        Ok(Json(call)) => call,
        Err(rejection) => return rejection.into_response(),
    };
    let params: Vec<rdbms::ParameterValue> = call.params.into_iter().map(Into::into).collect();
    let outcome = match database {
        "pg" => rotor_sdk::spin::postgres::Connection::open(&call.address).and_then(|db| {
            if call.execute {
                db.execute(&call.statement, &params)
                    .map(|n| serde_json::json!({ "rows_affected": n }))
            } else {
                db.query(&call.statement, &params)
                    .map(|set| row_set_json(&set))
            }
        }),
        "mysql" => mysql::Connection::open(&call.address).and_then(|db| {
            if call.execute {
                db.execute(&call.statement, &params)
                    .map(|()| serde_json::json!({ "done": true }))
            } else {
                db.query(&call.statement, &params)
                    .map(|set| row_set_json(&set))
            }
        }),
        _ => return (StatusCode::NOT_FOUND, "pg or mysql").into_response(),
    };
    match outcome {
        Ok(json) => Json(json).into_response(),
        Err(rdbms::Error::ConnectionFailed(m)) => failure("connection-failed", m),
        Err(rdbms::Error::BadParameter(m)) => failure("bad-parameter", m),
        Err(rdbms::Error::QueryFailed(m)) => failure("query-failed", m),
        Err(rdbms::Error::ValueConversionFailed(m)) => failure("value-conversion-failed", m),
        Err(rdbms::Error::Other(m)) => failure("other", m),
    }
}

fn row_set_json(set: &rdbms::RowSet) -> serde_json::Value {
    let columns: Vec<serde_json::Value> = set
        .columns
        .iter()
        .map(|c| serde_json::json!({ "name": c.name, "type": format!("{:?}", c.data_type) }))
        .collect();
    let rows: Vec<Vec<serde_json::Value>> = set
        .rows
        .iter()
        .map(|row| row.iter().map(tagged_value).collect())
        .collect();
    serde_json::json!({ "columns": columns, "rows": rows })
}

/// What `POST /pg4` runs through `rotor_sdk::pg`: `{"address", "statement", "params":
/// [...], "execute": bool}`, where each parameter is the interface's variant name and, for
/// all but `db-null`, its value in JSON: `["date", [2024, 2, 29]]`, `["decimal", "1.50"]`,
/// `["range-int32", [[1, "inclusive"], null]]`, `["interval", [micros, days, months]]`.
/// Rows come back as `to_json()` objects, columns as `{name, type}`, errors as `{error,
/// message, code?}`.
#[derive(Deserialize)]
struct Pg4Call {
    address: String,
    statement: String,
    #[serde(default)]
    params: Vec<(String, serde_json::Value)>,
    #[serde(default)]
    execute: bool,
}

fn pg4_parameter(kind: &str, value: serde_json::Value) -> Result<pg::ParameterValue, String> {
    use pg::{ParameterValue as P, RangeBoundKind};
    fn from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
    fn bound<T>(value: Option<(T, String)>) -> Option<(T, RangeBoundKind)> {
        value.map(|(v, kind)| {
            let kind = if kind == "inclusive" {
                RangeBoundKind::Inclusive
            } else {
                RangeBoundKind::Exclusive
            };
            (v, kind)
        })
    }
    type Range<T> = (Option<(T, String)>, Option<(T, String)>);
    Ok(match kind {
        "boolean" => P::Boolean(from(value)?),
        "int16" => P::Int16(from(value)?),
        "int32" => P::Int32(from(value)?),
        "int64" => P::Int64(from(value)?),
        "floating64" => P::Floating64(from(value)?),
        "str" => P::Str(from(value)?),
        "binary" => P::Binary(from(value)?),
        "date" => P::Date(from(value)?),
        "time" => P::Time(from(value)?),
        "datetime" => P::Datetime(from(value)?),
        "timestamp" => P::Timestamp(from(value)?),
        "uuid" => P::Uuid(from(value)?),
        "jsonb" => P::from(value),
        "decimal" => P::Decimal(from(value)?),
        "range-int32" => {
            let (lower, upper): Range<i32> = from(value)?;
            P::RangeInt32((bound(lower), bound(upper)))
        }
        "range-int64" => {
            let (lower, upper): Range<i64> = from(value)?;
            P::RangeInt64((bound(lower), bound(upper)))
        }
        "range-decimal" => {
            let (lower, upper): Range<String> = from(value)?;
            P::RangeDecimal((bound(lower), bound(upper)))
        }
        "array-int32" => P::ArrayInt32(from(value)?),
        "array-int64" => P::ArrayInt64(from(value)?),
        "array-decimal" => P::ArrayDecimal(from(value)?),
        "array-str" => P::ArrayStr(from(value)?),
        "interval" => {
            let (micros, days, months) = from(value)?;
            P::Interval(pg::Interval {
                micros,
                days,
                months,
            })
        }
        "db-null" => P::DbNull,
        other => return Err(format!("unknown parameter kind {other:?}")),
    })
}

fn pg4_call(request: &Request<Bytes>) -> Response {
    let call: Pg4Call = match Json::from_bytes(request.body()) {
        Ok(Json(call)) => call,
        Err(rejection) => return rejection.into_response(),
    };
    let params = match call
        .params
        .into_iter()
        .map(|(kind, value)| pg4_parameter(&kind, value))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(params) => params,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let outcome = pg::Connection::open(&call.address).and_then(|db| {
        if call.execute {
            db.execute(&call.statement, &params)
                .map(|n| serde_json::json!({ "rows_affected": n }))
        } else {
            db.query(&call.statement, &params).map(|set| {
                let columns: Vec<serde_json::Value> = set
                    .columns
                    .iter()
                    .map(|c| serde_json::json!({ "name": c.name, "type": format!("{:?}", c.data_type) }))
                    .collect();
                let rows: Vec<serde_json::Value> = set.rows().map(|row| row.to_json()).collect();
                serde_json::json!({ "columns": columns, "rows": rows })
            })
        }
    });
    let failure = |kind: &str, message: String, code: Option<String>| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({ "error": kind, "message": message, "code": code })),
        )
            .into_response()
    };
    match outcome {
        Ok(json) => Json(json).into_response(),
        Err(pg::Error::ConnectionFailed(m)) => failure("connection-failed", m, None),
        Err(pg::Error::BadParameter(m)) => failure("bad-parameter", m, None),
        Err(pg::Error::QueryFailed(pg::QueryError::DbError(db))) => {
            failure("query-failed", db.as_text, Some(db.code))
        }
        Err(pg::Error::QueryFailed(pg::QueryError::Text(m))) => failure("query-failed", m, None),
        Err(pg::Error::ValueConversionFailed(m)) => failure("value-conversion-failed", m, None),
        Err(pg::Error::Other(m)) => failure("other", m, None),
    }
}

fn tcp_call(request: &Request<Bytes>) -> Response {
    use std::io::{Read as _, Write as _};
    let address = String::from_utf8_lossy(request.body()).trim().to_owned();
    let exchange = || -> std::io::Result<Vec<u8>> {
        let mut stream = std::net::TcpStream::connect(address.as_str())?;
        stream.write_all(b"ping")?;
        let mut reply = [0u8; 4];
        stream.read_exact(&mut reply)?;
        Ok(reply.to_vec())
    };
    match exchange() {
        Ok(reply) => reply.into_response(),
        Err(error) => (
            StatusCode::BAD_GATEWAY,
            format!("{:?}: {error}", error.kind()),
        )
            .into_response(),
    }
}

/// What `POST /redis` runs: `{"address", "command", "key", "value", "values", "channel",
/// "args"}`, where `command` is one of the typed calls or `execute` (with `name` and `args`).
#[derive(Deserialize)]
struct RedisCall {
    address: String,
    command: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    args: Vec<serde_json::Value>,
    /// For `batch`: several `execute`s, in order, on the one connection.
    #[serde(default)]
    calls: Vec<RedisExecute>,
}

/// One command of a `batch`.
#[derive(Deserialize)]
struct RedisExecute {
    name: String,
    #[serde(default)]
    args: Vec<serde_json::Value>,
}

/// Runs `name args` through `execute`, its results as JSON.
fn redis_execute(
    db: &redis::Connection,
    name: &str,
    args: &[serde_json::Value],
) -> Result<serde_json::Value, redis::Error> {
    use serde_json::json;
    let args: Vec<redis::RedisParameter> = args
        .iter()
        .map(|arg| match arg.as_i64() {
            Some(n) => redis::RedisParameter::from(n),
            None => redis::RedisParameter::from(arg.as_str().unwrap_or_default()),
        })
        .collect();
    db.execute(name, &args).map(|results| {
        json!(results
            .iter()
            .map(|r| match r {
                redis::RedisResult::Nil => json!("nil"),
                redis::RedisResult::Status(s) => json!({ "status": s }),
                redis::RedisResult::Int64(n) => json!({ "int64": n }),
                redis::RedisResult::Binary(b) => json!({ "binary": String::from_utf8_lossy(b) }),
            })
            .collect::<Vec<_>>())
    })
}

fn redis_call(request: &Request<Bytes>) -> Response {
    use serde_json::json;
    let call: RedisCall = match Json::from_bytes(request.body()) {
        Ok(Json(call)) => call,
        Err(rejection) => return rejection.into_response(),
    };
    let outcome =
        redis::Connection::open(&call.address).and_then(|db| match call.command.as_str() {
            "set" => db
                .set(&call.key, call.value.as_bytes())
                .map(|()| json!(null)),
            "get" => db.get_string(&call.key).map(|v| json!(v)),
            "incr" => db.incr(&call.key).map(|n| json!(n)),
            "del" => db.del(&call.values).map(|n| json!(n)),
            "sadd" => db.sadd(&call.key, &call.values).map(|n| json!(n)),
            "srem" => db.srem(&call.key, &call.values).map(|n| json!(n)),
            "smembers" => db.smembers(&call.key).map(|mut members| {
                members.sort();
                json!(members)
            }),
            "publish" => db
                .publish(&call.channel, call.value.as_bytes())
                .map(|()| json!(null)),
            "execute" => redis_execute(&db, &call.name, &call.args),
            "batch" => call
                .calls
                .iter()
                .map(|one| redis_execute(&db, &one.name, &one.args))
                .collect::<Result<Vec<_>, _>>()
                .map(|all| json!(all)),
            other => Err(redis::Error::Other(format!(
                "the probe knows no command {other:?}"
            ))),
        });
    match outcome {
        Ok(value) => Json(json!({ "result": value })).into_response(),
        Err(redis::Error::InvalidAddress) => failure("invalid-address", String::new()),
        Err(redis::Error::TooManyConnections) => failure("too-many-connections", String::new()),
        Err(redis::Error::TypeError) => failure("type-error", String::new()),
        Err(redis::Error::Other(message)) => failure("other", message),
    }
}

/// What `POST /mqtt` publishes: `{"address", "username", "password", "topic", "payload",
/// "qos": 0 | 1 | 2}`.
#[derive(Deserialize)]
struct MqttCall {
    address: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    topic: String,
    payload: String,
    #[serde(default)]
    qos: u8,
}

fn mqtt_call(request: &Request<Bytes>) -> Response {
    let call: MqttCall = match Json::from_bytes(request.body()) {
        Ok(Json(call)) => call,
        Err(rejection) => return rejection.into_response(),
    };
    let qos = match call.qos {
        0 => mqtt::Qos::AtMostOnce,
        1 => mqtt::Qos::AtLeastOnce,
        _ => mqtt::Qos::ExactlyOnce,
    };
    let outcome = mqtt::Connection::open(&call.address, &call.username, &call.password, 30)
        .and_then(|broker| broker.publish(&call.topic, call.payload.as_bytes(), qos));
    match outcome {
        Ok(()) => Json(serde_json::json!({ "published": true })).into_response(),
        Err(mqtt::Error::InvalidAddress) => failure("invalid-address", String::new()),
        Err(mqtt::Error::TooManyConnections) => failure("too-many-connections", String::new()),
        Err(mqtt::Error::ConnectionFailed(message)) => failure("connection-failed", message),
        Err(mqtt::Error::Other(message)) => failure("other", message),
    }
}
