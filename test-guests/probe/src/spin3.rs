//! Spin 3's interfaces that rotor-sdk does not wrap, bound here directly:
//!
//! - `POST /sqlite3/NAME` runs `{"sql", "params": [TEXT-OR-INTEGER...]}` through
//!   `spin:sqlite/sqlite@3.0.0` and answers its rows, `last_insert_rowid` and `changes`;
//! - `POST /wasi-kv/LABEL` runs a fixed round of `wasi:keyvalue` calls on key `{"key"}` and
//!   answers what each returned (see [`keyvalue_round`]);
//! - `POST /pg3` runs `{"address", "sql", "query": bool}` through
//!   `spin:postgres/postgres@3.0.0`;
//! - `POST /llm` runs `{"model", "prompt"}` or `{"model", "embed": [TEXT...]}` through
//!   `fermyon:spin/llm@2.0.0`.
//!
//! Failures answer 500 with `{"error": KIND, "message"}`, as elsewhere in the probe.

use rotor_sdk::http::{Bytes, IntoResponse, Json, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value as JsonValue};

wit_bindgen::generate!({
    inline: "
        package rotor:probe-spin3;
        world spin3-probe {
            import spin:sqlite/sqlite@3.0.0;
            import spin:postgres/postgres@3.0.0;
            import wasi:keyvalue/store@0.2.0-draft2;
            import wasi:keyvalue/atomics@0.2.0-draft2;
            import wasi:keyvalue/batch@0.2.0-draft2;
            import fermyon:spin/llm@2.0.0;
        }
    ",
    path: "../../wit",
    world: "rotor:probe-spin3/spin3-probe",
    generate_all,
});

use self::fermyon::spin2_0_0::llm;
use self::spin::postgres3_0_0::postgres as pg3;
use self::spin::sqlite::sqlite as sqlite3;
use self::wasi::keyvalue::{atomics, batch, store};

fn body<T: for<'de> Deserialize<'de>>(request: &Request<Bytes>) -> Result<T, Response> {
    Json::from_bytes(request.body())
        .map(|Json(value)| value)
        .map_err(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct SqlCall {
    sql: String,
    #[serde(default)]
    params: Vec<JsonValue>,
}

/// `POST /sqlite3/NAME`.
pub fn sqlite3(request: Request<Bytes>, name: &str) -> Response {
    let call: SqlCall = match body(&request) {
        Ok(call) => call,
        Err(response) => return response,
    };
    let sqlite_error = |error: sqlite3::Error| {
        let (kind, message) = match error {
            sqlite3::Error::NoSuchDatabase => ("no-such-database", String::new()),
            sqlite3::Error::AccessDenied => ("access-denied", String::new()),
            sqlite3::Error::InvalidConnection => ("invalid-connection", String::new()),
            sqlite3::Error::DatabaseFull => ("database-full", String::new()),
            sqlite3::Error::Io(message) => ("io", message),
        };
        super::failure(kind, message)
    };
    let connection = match sqlite3::Connection::open(name) {
        Ok(connection) => connection,
        Err(error) => return sqlite_error(error),
    };
    let params: Vec<sqlite3::Value> = call
        .params
        .iter()
        .map(|value| match value {
            JsonValue::Number(n) if n.is_i64() => sqlite3::Value::Integer(n.as_i64().unwrap_or(0)),
            JsonValue::Number(n) => sqlite3::Value::Real(n.as_f64().unwrap_or(0.0)),
            JsonValue::Null => sqlite3::Value::Null,
            JsonValue::String(s) => sqlite3::Value::Text(s.clone()),
            other => sqlite3::Value::Text(other.to_string()),
        })
        .collect();
    match connection.execute(&call.sql, &params) {
        Ok(result) => {
            let rows: Vec<Vec<JsonValue>> = result
                .rows
                .iter()
                .map(|row| {
                    row.values
                        .iter()
                        .map(|value| match value {
                            sqlite3::Value::Integer(i) => json!(i),
                            sqlite3::Value::Real(r) => json!(r),
                            sqlite3::Value::Text(t) => json!(t),
                            sqlite3::Value::Blob(b) => json!(b),
                            sqlite3::Value::Null => JsonValue::Null,
                        })
                        .collect()
                })
                .collect();
            Json(json!({
                "columns": result.columns,
                "rows": rows,
                "last_insert_rowid": connection.last_insert_rowid(),
                "changes": connection.changes(),
            }))
            .into_response()
        }
        Err(error) => sqlite_error(error),
    }
}

fn kv_error(error: &store::Error) -> JsonValue {
    match error {
        store::Error::NoSuchStore => json!({ "error": "no-such-store" }),
        store::Error::AccessDenied => json!({ "error": "access-denied" }),
        store::Error::Other(message) => json!({ "error": "other", "message": message }),
    }
}

fn text(value: Option<Vec<u8>>) -> JsonValue {
    value.map_or(JsonValue::Null, |v| json!(String::from_utf8_lossy(&v)))
}

#[derive(Deserialize)]
struct KeyCall {
    key: String,
}

/// `POST /wasi-kv/LABEL`: opens the bucket, then set, get, exists, two increments, a
/// compare-and-swap that succeeds, one that fails because the value changed after it was
/// read, the batch calls, `list-keys`, and `list-keys` with a cursor.
pub fn keyvalue_round(request: Request<Bytes>, label: &str) -> Response {
    let call: KeyCall = match body(&request) {
        Ok(call) => call,
        Err(response) => return response,
    };
    let bucket = match store::open(label) {
        Ok(bucket) => bucket,
        Err(error) => {
            return super::failure(
                kv_error(&error)["error"].as_str().unwrap_or("other"),
                String::new(),
            )
        }
    };
    let key = call.key;
    let counter = format!("{key}-counter");
    let swapped = format!("{key}-swapped");
    let many = [format!("{key}-a"), format!("{key}-b")];
    let mut report = serde_json::Map::new();
    let mut put = |name: &str, value: JsonValue| {
        report.insert(name.to_owned(), value);
    };

    put(
        "set",
        json!(bucket.set(&key, b"first").map_err(|e| kv_error(&e)).is_ok()),
    );
    put(
        "get",
        bucket.get(&key).map(text).unwrap_or_else(|e| kv_error(&e)),
    );
    put("exists", json!(bucket.exists(&key).ok()));
    put(
        "exists_missing",
        json!(bucket.exists(&format!("{key}-missing")).ok()),
    );
    put(
        "increment_1",
        json!(atomics::increment(&bucket, &counter, 5).ok()),
    );
    put(
        "increment_2",
        json!(atomics::increment(&bucket, &counter, -2).ok()),
    );

    // A swap of a value nobody changed in between is written.
    let swap_ok = atomics::Cas::new(&bucket, &swapped).map_err(|e| kv_error(&e));
    let swap_ok = match swap_ok {
        Ok(cas) => {
            let before = cas.current().ok().flatten();
            let result = atomics::swap(cas, b"swapped-1");
            json!({ "before": text(before), "ok": result.is_ok() })
        }
        Err(error) => error,
    };
    put("swap", swap_ok);
    put(
        "after_swap",
        bucket
            .get(&swapped)
            .map(text)
            .unwrap_or_else(|e| kv_error(&e)),
    );

    // A swap after someone else wrote fails with cas-failed.
    let swap_conflict = match atomics::Cas::new(&bucket, &swapped) {
        Ok(cas) => {
            let _ = bucket.set(&swapped, b"written-meanwhile");
            match atomics::swap(cas, b"swapped-2") {
                Ok(()) => json!("written"),
                Err(atomics::CasError::CasFailed(_)) => json!("cas-failed"),
                Err(atomics::CasError::StoreError(error)) => kv_error(&error),
            }
        }
        Err(error) => kv_error(&error),
    };
    put("swap_conflict", swap_conflict);
    put(
        "after_conflict",
        bucket
            .get(&swapped)
            .map(text)
            .unwrap_or_else(|e| kv_error(&e)),
    );

    let pairs: Vec<(String, Vec<u8>)> = many
        .iter()
        .map(|k| (k.clone(), k.as_bytes().to_vec()))
        .collect();
    put("set_many", json!(batch::set_many(&bucket, &pairs).is_ok()));
    let got: Vec<(String, JsonValue)> = batch::get_many(&bucket, &many)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, text(v)))
        .collect();
    put("get_many", json!(got));
    put(
        "keys",
        match bucket.list_keys(None) {
            Ok(response) => json!({ "keys": response.keys, "cursor": response.cursor }),
            Err(error) => kv_error(&error),
        },
    );
    put(
        "delete_many",
        json!(batch::delete_many(&bucket, &many).is_ok()),
    );
    put("exists_after_delete", json!(bucket.exists(&many[0]).ok()));
    put(
        "cursor",
        match bucket.list_keys(Some("next")) {
            Ok(_) => json!("accepted"),
            Err(error) => kv_error(&error),
        },
    );
    for k in [&key, &counter, &swapped] {
        let _ = bucket.delete(k);
    }
    Json(JsonValue::Object(report)).into_response()
}

#[derive(Deserialize)]
struct Pg3Call {
    address: String,
    sql: String,
    #[serde(default)]
    query: bool,
}

/// `POST /pg3`.
pub fn pg3(request: Request<Bytes>) -> Response {
    let call: Pg3Call = match body(&request) {
        Ok(call) => call,
        Err(response) => return response,
    };
    let pg_error = |error: pg3::Error| {
        let (kind, message) = match error {
            pg3::Error::ConnectionFailed(m) => ("connection-failed", m),
            pg3::Error::BadParameter(m) => ("bad-parameter", m),
            pg3::Error::QueryFailed(m) => ("query-failed", m),
            pg3::Error::ValueConversionFailed(m) => ("value-conversion-failed", m),
            pg3::Error::Other(m) => ("other", m),
        };
        super::failure(kind, message)
    };
    let connection = match pg3::Connection::open(&call.address) {
        Ok(connection) => connection,
        Err(error) => return pg_error(error),
    };
    if !call.query {
        return match connection.execute(&call.sql, &[]) {
            Ok(changed) => Json(json!({ "changed": changed })).into_response(),
            Err(error) => pg_error(error),
        };
    }
    match connection.query(&call.sql, &[]) {
        Ok(rows) => {
            let columns: Vec<JsonValue> = rows
                .columns
                .iter()
                .map(|c| json!({ "name": c.name, "type": format!("{:?}", c.data_type) }))
                .collect();
            let values: Vec<Vec<String>> = rows
                .rows
                .iter()
                .map(|row| row.iter().map(|v| format!("{v:?}")).collect())
                .collect();
            Json(json!({ "columns": columns, "rows": values })).into_response()
        }
        Err(error) => pg_error(error),
    }
}

#[derive(Deserialize)]
struct LlmCall {
    model: String,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    embed: Option<Vec<String>>,
}

/// `POST /llm`.
pub fn llm_call(request: Request<Bytes>) -> Response {
    let call: LlmCall = match body(&request) {
        Ok(call) => call,
        Err(response) => return response,
    };
    let llm_error = |error: llm::Error| {
        let (kind, message) = match error {
            llm::Error::ModelNotSupported => ("model-not-supported", String::new()),
            llm::Error::RuntimeError(m) => ("runtime-error", m),
            llm::Error::InvalidInput(m) => ("invalid-input", m),
        };
        super::failure(kind, message)
    };
    if let Some(texts) = call.embed {
        return match llm::generate_embeddings(&call.model, &texts) {
            Ok(result) => Json(json!({
                "embeddings": result.embeddings,
                "prompt_tokens": result.usage.prompt_token_count,
            }))
            .into_response(),
            Err(error) => llm_error(error),
        };
    }
    let params = llm::InferencingParams {
        max_tokens: 7,
        repeat_penalty: 1.0,
        repeat_penalty_last_n_token_count: 8,
        temperature: 0.5,
        top_k: 3,
        top_p: 0.25,
    };
    match llm::infer(
        &call.model,
        call.prompt.as_deref().unwrap_or(""),
        Some(params),
    ) {
        Ok(result) => Json(json!({
            "text": result.text,
            "prompt_tokens": result.usage.prompt_token_count,
            "generated_tokens": result.usage.generated_token_count,
        }))
        .into_response(),
        Err(error) => llm_error(error),
    }
}
