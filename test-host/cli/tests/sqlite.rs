//! `fermyon:spin/sqlite@2.0.0` through the host: grants, every value type, SQL errors,
//! persistence, and `rotor up --sqlite`.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use http::StatusCode;
use serde_json::{json, Value};

async fn sql(address: SocketAddr, database: &str, statement: Value) -> (StatusCode, Value) {
    common::post_json(address, &format!("/sqlite/{database}"), &statement).await
}

async fn granted_app() -> (SocketAddr, tempfile::TempDir) {
    let dir = common::app_dir(&common::probe_manifest("sqlite_databases = [\"default\"]"));
    let address = common::serve(dir.path(), common::test_engine()).await;
    (address, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_value_type_round_trips() {
    let (address, _dir) = granted_app().await;
    let (status, _) = sql(
        address,
        "default",
        json!({"sql": "CREATE TABLE kinds (i INTEGER, r REAL, t TEXT, b BLOB, n)"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let values = json!([
        {"integer": -9007199254740993i64},
        {"real": 2.5},
        {"text": "it's \"quoted\" ünïcode"},
        {"blob": [0, 1, 254, 255]},
        "null"
    ]);
    let (status, _) = sql(
        address,
        "default",
        json!({"sql": "INSERT INTO kinds VALUES (?, ?, ?, ?, ?)", "params": values}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, result) = sql(
        address,
        "default",
        json!({"sql": "SELECT i, r, t, b, n FROM kinds"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["columns"], json!(["i", "r", "t", "b", "n"]));
    assert_eq!(result["rows"], json!([values]));

    // Integer bounds survive too.
    let (_, result) = sql(
        address,
        "default",
        json!({"sql": "SELECT ?, ?", "params": [{"integer": i64::MIN}, {"integer": i64::MAX}]}),
    )
    .await;
    assert_eq!(
        result["rows"],
        json!([[{"integer": i64::MIN}, {"integer": i64::MAX}]])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_syntax_error_is_a_typed_error_with_sqlites_message() {
    let (address, _dir) = granted_app().await;
    let (status, error) = sql(address, "default", json!({"sql": "SELEC 1"})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error["error"], "io", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("syntax error"),
        "{error}"
    );
    let (status, result) = sql(address, "default", json!({"sql": "SELECT 1 AS one"})).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the host keeps serving after a bad statement"
    );
    assert_eq!(result["rows"], json!([[{"integer": 1}]]));
}

#[tokio::test(flavor = "multi_thread")]
async fn parameters_stay_data() {
    let (address, _dir) = granted_app().await;
    sql(
        address,
        "default",
        json!({"sql": "CREATE TABLE names (name TEXT)"}),
    )
    .await;
    let hostile = "x'); DROP TABLE names; --";
    let (status, _) = sql(
        address,
        "default",
        json!({"sql": "INSERT INTO names VALUES (?)", "params": [{"text": hostile}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, result) = sql(address, "default", json!({"sql": "SELECT name FROM names"})).await;
    assert_eq!(result["rows"], json!([[{"text": hostile}]]));
}

#[tokio::test(flavor = "multi_thread")]
async fn ungranted_databases_are_access_denied() {
    let dir = common::app_dir(&common::probe_manifest(""));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let (_, error) = sql(address, "default", json!({"sql": "SELECT 1"})).await;
    assert_eq!(error["error"], "access-denied", "{error}");
    assert!(
        !dir.path().join(".spin/sqlite_db.db").exists(),
        "a denied open must not create the file"
    );

    let (address, _dir) = granted_app().await;
    let (_, error) = sql(address, "analytics", json!({"sql": "SELECT 1"})).await;
    assert_eq!(error["error"], "access-denied", "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_survive_a_restart() {
    let (first, dir) = granted_app().await;
    sql(
        first,
        "default",
        json!({"sql": "CREATE TABLE kept (v TEXT)"}),
    )
    .await;
    sql(
        first,
        "default",
        json!({"sql": "INSERT INTO kept VALUES ('yes')"}),
    )
    .await;
    let second = common::serve(dir.path(), common::test_engine()).await;
    let (_, result) = sql(second, "default", json!({"sql": "SELECT v FROM kept"})).await;
    assert_eq!(result["rows"], json!([[{"text": "yes"}]]));
}

#[test]
fn rotor_up_runs_sqlite_migrations_before_serving() {
    common::guests();
    let dir = common::app_dir(&common::probe_manifest("sqlite_databases = [\"default\"]"));
    let migrations = dir.path().join("migrations.sql");
    std::fs::write(&migrations, "CREATE TABLE IF NOT EXISTS notes (title TEXT);\nINSERT INTO notes VALUES ('from the file');").unwrap();
    let mut rotor = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["up", "--listen", "127.0.0.1:0", "--no-cache"])
        .arg("--sqlite")
        .arg(format!("@{}", migrations.display()))
        .args(["--sqlite", "INSERT INTO notes VALUES ('inline')"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    // Only the first line is read; the pipe then closes, and `rotor up` must go on serving
    // after its later lines fail to print (it once died of that broken pipe).
    BufReader::new(rotor.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let address: SocketAddr = first_line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first_line:?}"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, result) = runtime.block_on(sql(
        address,
        "default",
        json!({"sql": "SELECT title FROM notes ORDER BY rowid"}),
    ));
    let _ = rotor.kill();
    let _ = rotor.wait();
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(
        result["rows"],
        json!([[{"text": "from the file"}], [{"text": "inline"}]])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runtime_config_database_on_its_own_file() {
    let (address, dir) = common::serve_probe_with_runtime_config(
        "sqlite_databases = [\"default\", \"analytics\"]",
        "[sqlite_database.analytics]\ntype = \"spin\"\npath = \"data/analytics.db\"\n",
    )
    .await;
    let (status, _) = sql(
        address,
        "analytics",
        json!({"sql": "CREATE TABLE hits (n INTEGER)"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sql(
        address,
        "analytics",
        json!({"sql": "INSERT INTO hits VALUES (41), (1)"}),
    )
    .await;
    let (_, result) = sql(
        address,
        "analytics",
        json!({"sql": "SELECT sum(n) AS total FROM hits"}),
    )
    .await;
    assert_eq!(result["rows"], json!([[{"integer": 42}]]));
    assert!(dir.path().join("data/analytics.db").exists());
    // The default database is a different file: the table is not there.
    let (_, error) = sql(address, "default", json!({"sql": "SELECT * FROM hits"})).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or("")
            .contains("no such table"),
        "{error}"
    );
}
