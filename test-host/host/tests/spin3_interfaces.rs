//! The interfaces Spin 3.6 adds to Spin 2's platform, called by a guest that imports them
//! directly (the probe's `spin3` module): `spin:sqlite@3.0.0`, the `wasi:keyvalue` draft on
//! both store backends, `spin:postgres@3.0.0` against the real server, and
//! `fermyon:spin/llm@2.0.0` against a stand-in model server.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http::{Response, StatusCode};
use rotor_host::capabilities::StateOptions;
use rotor_spec::fixtures::{FixtureServer, Reply};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_3_reports_the_last_row_id_and_the_changes() {
    let state = tempfile::tempdir().unwrap();
    let options = StateOptions {
        state_dir: Some(state.path().to_owned()),
        ..StateOptions::default()
    };
    let (address, _dir) = common::serve_manifest(
        &common::probe_manifest("sqlite_databases = [\"default\"]"),
        None,
        options,
    )
    .await;
    let run = |sql: &str, params: Value| {
        let call = json!({ "sql": sql, "params": params });
        async move { common::post_json(address, "/sqlite3/default", &call).await }
    };
    let (status, reply) = run(
        "CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT, weight REAL)",
        json!([]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    run(
        "INSERT INTO pets (name, weight) VALUES (?, ?)",
        json!(["Rex", 12.5]),
    )
    .await;
    let (_, reply) = run(
        "INSERT INTO pets (name, weight) VALUES (?, ?), (?, ?)",
        json!(["Tom", 4.25, "Kit", null]),
    )
    .await;
    assert_eq!(reply["last_insert_rowid"], 3, "{reply}");
    assert_eq!(reply["changes"], 2, "{reply}");
    let (_, reply) = run(
        "UPDATE pets SET weight = 1 WHERE weight IS NOT NULL",
        json!([]),
    )
    .await;
    assert_eq!(reply["changes"], 2, "{reply}");
    let (_, reply) = run("SELECT id, name, weight FROM pets ORDER BY id", json!([])).await;
    assert_eq!(reply["columns"], json!(["id", "name", "weight"]));
    assert_eq!(
        reply["rows"],
        json!([[1, "Rex", 1.0], [2, "Tom", 1.0], [3, "Kit", null]])
    );

    let (status, reply) =
        common::post_json(address, "/sqlite3/elsewhere", &json!({ "sql": "SELECT 1" })).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply["error"], "access-denied", "{reply}");
}

/// Runs the probe's `wasi:keyvalue` round on `label` and checks every step.
async fn keyvalue_round(address: SocketAddr, label: &str) {
    let key = common::unique("wasi_kv");
    let (status, reply) = common::post_json(
        address,
        &format!("/wasi-kv/{label}"),
        &json!({ "key": key }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["set"], true, "{reply}");
    assert_eq!(reply["get"], "first", "{reply}");
    assert_eq!(reply["exists"], true, "{reply}");
    assert_eq!(reply["exists_missing"], false, "{reply}");
    assert_eq!(reply["increment_1"], 5, "{reply}");
    assert_eq!(reply["increment_2"], 3, "{reply}");
    assert_eq!(
        reply["swap"],
        json!({ "before": null, "ok": true }),
        "{reply}"
    );
    assert_eq!(reply["after_swap"], "swapped-1", "{reply}");
    assert_eq!(reply["swap_conflict"], "cas-failed", "{reply}");
    assert_eq!(reply["after_conflict"], "written-meanwhile", "{reply}");
    assert_eq!(reply["set_many"], true, "{reply}");
    assert_eq!(
        reply["get_many"],
        json!([
            [format!("{key}-a"), format!("{key}-a")],
            [format!("{key}-b"), format!("{key}-b")]
        ]),
        "{reply}"
    );
    let keys: Vec<&str> = reply["keys"]["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{reply}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in [format!("{key}-a"), format!("{key}-b"), key.clone()] {
        assert!(keys.contains(&expected.as_str()), "{expected} in {keys:?}");
    }
    assert_eq!(reply["keys"]["cursor"], Value::Null, "{reply}");
    assert_eq!(reply["delete_many"], true, "{reply}");
    assert_eq!(reply["exists_after_delete"], false, "{reply}");
    assert_eq!(reply["cursor"]["error"], "other", "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wasi_keyvalue_on_sqlite() {
    let state = tempfile::tempdir().unwrap();
    let options = StateOptions {
        state_dir: Some(state.path().to_owned()),
        ..StateOptions::default()
    };
    let (address, _dir) = common::serve_manifest(
        &common::probe_manifest("key_value_stores = [\"default\"]"),
        None,
        options,
    )
    .await;
    keyvalue_round(address, "default").await;

    let (status, reply) =
        common::post_json(address, "/wasi-kv/secret", &json!({ "key": "k" })).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply["error"], "access-denied", "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wasi_keyvalue_on_redis() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    let (address, _dir) = common::serve_manifest(
        &common::probe_manifest("key_value_stores = [\"cache\"]"),
        Some("[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n"),
        StateOptions::default(),
    )
    .await;
    keyvalue_round(address, "cache").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_3_reads_dates_and_times() {
    if !common::service_available("PostgreSQL", "127.0.0.1:5432") {
        return;
    }
    let (address, _dir) = common::serve_manifest(
        &common::probe_manifest("allowed_outbound_hosts = [\"postgres://127.0.0.1:5432\"]"),
        None,
        StateOptions::default(),
    )
    .await;
    let pg = "postgres://postgres@127.0.0.1:5432/test";
    let table = common::unique("pg3_times");
    let run = |sql: String, query: bool| {
        let call = json!({ "address": pg, "sql": sql, "query": query });
        async move { common::post_json(address, "/pg3", &call).await }
    };
    let (status, reply) = run(
        format!("CREATE TABLE {table} (id INT4, d DATE, ts TIMESTAMP, u UUID, name TEXT)"),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let (_, reply) = run(
        format!("INSERT INTO {table} VALUES (1, '2024-02-29', '1999-12-31 23:59:59', gen_random_uuid(), 'x'), (2, NULL, NULL, NULL, 'y')"),
        false,
    )
    .await;
    assert_eq!(reply["changed"], 2, "{reply}");
    let (status, reply) = run(
        format!("SELECT id, d, ts, u, name FROM {table} ORDER BY id"),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let types: Vec<&str> = reply["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "DbDataType::Int32",
            "DbDataType::Date",
            "DbDataType::Datetime",
            "DbDataType::Other",
            "DbDataType::Str"
        ]
    );
    assert_eq!(
        reply["rows"][0],
        json!([
            "DbValue::Int32(1)",
            "DbValue::Date((2024, 2, 29))",
            "DbValue::Datetime((1999, 12, 31, 23, 59, 59, 0))",
            "DbValue::Unsupported",
            "DbValue::Str(\"x\")"
        ])
    );
    assert_eq!(reply["rows"][1][1], "DbValue::DbNull");
    let (status, reply) = run(format!("SELECT nonsense FROM {table}"), true).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply["error"], "query-failed", "{reply}");
    run(format!("DROP TABLE {table}"), false).await;
}

/// A stand-in for a model server speaking Spin's protocol; keeps what it was sent.
async fn model_server(seen: Arc<Mutex<Vec<(String, String, Value)>>>) -> FixtureServer {
    FixtureServer::start(Arc::new(move |request: &http::Request<bytes::Bytes>| {
        let body: Value = serde_json::from_slice(request.body()).unwrap_or(Value::Null);
        let model_refused = body["model"] == "refused";
        let auth = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        seen.lock()
            .unwrap()
            .push((request.uri().path().to_owned(), auth, body.clone()));
        let answer = match request.uri().path() {
            "/infer" => json!({ "text": "a haiku", "usage": { "promptTokenCount": 3, "generatedTokenCount": 2 } }),
            "/embed" => json!({ "embeddings": [[0.5, -1.0]], "usage": { "promptTokenCount": 4 } }),
            "/v1/chat/completions" if model_refused => {
                json!({ "error": { "message": "quota exceeded" } })
            }
            "/v1/chat/completions" => json!({
                "choices": [{ "message": { "role": "assistant", "content": "an open answer" } }],
                "usage": { "completion_tokens": 5, "prompt_tokens": 6 }
            }),
            "/v1/embeddings" => json!({ "data": [{ "embedding": [0.25] }], "usage": { "prompt_tokens": 2 } }),
            _ => return Reply::Respond(Response::builder().status(404).body(bytes::Bytes::new()).unwrap()),
        };
        Reply::Respond(Response::new(bytes::Bytes::from(answer.to_string())))
    }))
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn llm_calls_the_configured_model_server() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = model_server(seen.clone()).await;
    let runtime_config = format!(
        "[llm_compute]\ntype = \"remote_http\"\nurl = \"{}\"\nauth_token = \"t0ken\"\n",
        server.url()
    );
    let (address, _dir) = common::serve_manifest(
        &common::probe_manifest("ai_models = [\"llama2-chat\", \"all-minilm-l6-v2\"]"),
        Some(&runtime_config),
        StateOptions::default(),
    )
    .await;

    let (status, reply) = common::post_json(
        address,
        "/llm",
        &json!({ "model": "llama2-chat", "prompt": "write a haiku" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        reply,
        json!({ "text": "a haiku", "prompt_tokens": 3, "generated_tokens": 2 })
    );
    let (status, reply) = common::post_json(
        address,
        "/llm",
        &json!({ "model": "all-minilm-l6-v2", "embed": ["one text"] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        reply,
        json!({ "embeddings": [[0.5, -1.0]], "prompt_tokens": 4 })
    );

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let (path, auth, body) = &seen[0];
    assert_eq!(path, "/infer");
    assert_eq!(auth, "bearer t0ken");
    assert_eq!(
        body,
        &json!({
            "model": "llama2-chat",
            "prompt": "write a haiku",
            "options": {
                "maxTokens": 7, "repeatPenalty": 1.0, "repeatPenaltyLastNTokenCount": 8,
                "temperature": 0.5, "topK": 3, "topP": 0.25
            }
        })
    );
    assert_eq!(seen[1].0, "/embed");
    assert_eq!(
        seen[1].2,
        json!({ "model": "all-minilm-l6-v2", "input": ["one text"] })
    );

    // A model the component is not granted never reaches the server.
    let (status, reply) = common::post_json(
        address,
        "/llm",
        &json!({ "model": "gpt-9", "prompt": "hi" }),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply["error"], "invalid-input", "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("ai_models"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn llm_without_a_model_server_loads_and_says_so() {
    let (address, _dir) = common::serve_manifest(
        &common::probe_manifest("ai_models = [\"llama2-chat\"]"),
        None,
        StateOptions::default(),
    )
    .await;
    let (status, reply) = common::post_json(
        address,
        "/llm",
        &json!({ "model": "llama2-chat", "prompt": "hi" }),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply["error"], "runtime-error", "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("llm_compute"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn llm_speaks_openai_when_the_runtime_config_says_so() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = model_server(seen.clone()).await;
    // As in Spin, the endpoints are joined from the server's root, whatever path the URL has.
    let runtime_config = format!(
        "[llm_compute]\ntype = \"remote_http\"\nurl = \"{}/ignored/path\"\nauth_token = \"sk-test\"\napi_type = \"open_ai\"\n",
        server.url()
    );
    let (address, _dir) = common::serve_manifest(
        &common::probe_manifest(
            "ai_models = [\"gpt-4o\", \"text-embedding-3-small\", \"refused\"]",
        ),
        Some(&runtime_config),
        StateOptions::default(),
    )
    .await;
    let (status, reply) = common::post_json(
        address,
        "/llm",
        &json!({ "model": "gpt-4o", "prompt": "say something" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        reply,
        json!({ "text": "an open answer", "prompt_tokens": 6, "generated_tokens": 5 })
    );
    let (status, reply) = common::post_json(
        address,
        "/llm",
        &json!({ "model": "text-embedding-3-small", "embed": ["a", "b"] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply, json!({ "embeddings": [[0.25]], "prompt_tokens": 2 }));
    let (status, reply) = common::post_json(
        address,
        "/llm",
        &json!({ "model": "refused", "prompt": "x" }),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply["error"], "runtime-error", "{reply}");
    assert_eq!(reply["message"], "quota exceeded", "{reply}");

    let seen = seen.lock().unwrap().clone();
    let (path, auth, body) = &seen[0];
    assert_eq!(path, "/v1/chat/completions");
    assert_eq!(auth, "bearer sk-test");
    assert_eq!(
        body,
        &json!({
            "messages": [{ "role": "user", "content": "say something" }],
            "model": "gpt-4o",
            "max_completion_tokens": 7,
            "frequency_penalty": 1.0
        })
    );
    assert_eq!(seen[1].0, "/v1/embeddings");
    assert_eq!(
        seen[1].2,
        json!({ "input": ["a", "b"], "model": "text-embedding-3-small" })
    );
}
