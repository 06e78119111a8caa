//! Guest SQL is fenced in: it cannot reach files outside its database, a transaction it
//! leaves open holds only its own work (and is rolled back when its instance ends), and a
//! runaway statement is stopped at the request deadline, freeing the database.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use http::StatusCode;
use rotor_host::capabilities::StateOptions;
use serde_json::{json, Value};

/// The probe with the default database granted, its state in a directory of its own.
async fn app() -> (SocketAddr, tempfile::TempDir, tempfile::TempDir) {
    let state = tempfile::tempdir().unwrap();
    let options = StateOptions {
        state_dir: Some(state.path().to_owned()),
        ..StateOptions::default()
    };
    let (address, dir) = common::serve_manifest(
        &common::probe_manifest("sqlite_databases = [\"default\"]"),
        None,
        options,
    )
    .await;
    (address, dir, state)
}

async fn sql(address: SocketAddr, statement: &str) -> (StatusCode, Value) {
    common::post_json(address, "/sqlite/default", &json!({ "sql": statement })).await
}

#[tokio::test(flavor = "multi_thread")]
async fn guest_sql_cannot_reach_other_files() {
    let (address, _dir, _state) = app().await;
    let outside = tempfile::tempdir().unwrap();
    let target = |name: &str| -> PathBuf { outside.path().join(name) };
    for (statement, file) in [
        (
            format!(
                "ATTACH DATABASE '{}' AS other",
                target("attached.db").display()
            ),
            target("attached.db"),
        ),
        (
            format!("VACUUM INTO '{}'", target("copy.db").display()),
            target("copy.db"),
        ),
    ] {
        let (status, reply) = sql(address, &statement).await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{statement}: {reply}"
        );
        assert!(!file.exists(), "{statement} wrote {}", file.display());
    }
    let (status, reply) = sql(address, "SELECT load_extension('/tmp/evil.so')").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_left_open_holds_only_its_own_request() {
    let (address, _dir, state) = app().await;
    sql(address, "CREATE TABLE log (entry TEXT)").await;
    // One request opens a transaction, writes, and ends without committing; another opens
    // one and ends.
    let (status, reply) = common::post_json(
        address,
        "/sqlite/default",
        &json!({ "before": ["BEGIN"], "sql": "INSERT INTO log VALUES ('uncommitted')" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let (status, reply) = sql(address, "BEGIN").await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    // The next request's write is committed on its own, at once.
    let (status, reply) = sql(address, "INSERT INTO log VALUES ('committed')").await;
    assert_eq!(status, StatusCode::OK, "{reply}");

    // Seen from outside the host, as after a crash: only the committed write is there.
    let file = state.path().join("sqlite_db.db");
    let outside = rusqlite::Connection::open(&file).unwrap();
    let entries: Vec<String> = outside
        .prepare("SELECT entry FROM log ORDER BY entry")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(entries, ["committed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runaway_statement_is_stopped_at_the_deadline() {
    let (address, _dir, _state) = app().await;
    let started = Instant::now();
    let (status, reply) = sql(
        address,
        "WITH RECURSIVE forever(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM forever) SELECT count(*) FROM forever",
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{reply}");
    // The test engine's deadline is 2 s; the host gives up on a guest 1 s after that.
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    // The database is free again at once (before, the statement kept the connection for
    // good and this waited forever).
    let (status, reply) = tokio::time::timeout(Duration::from_secs(5), sql(address, "SELECT 1"))
        .await
        .expect("the database is still held by the stopped statement");
    assert_eq!(status, StatusCode::OK, "{reply}");
}

/// A result larger than the host hands a guest is refused before it is all in memory.
#[tokio::test(flavor = "multi_thread")]
async fn a_result_over_the_limit_is_refused() {
    let (address, _dir, _state) = app().await;
    let megabytes = |rows: usize| {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             SELECT hex(zeroblob(524288)) FROM n"
        )
    };
    let over = rotor_host::capabilities::result_limit::MAX_QUERY_RESULT_BYTES / (1 << 20) + 1;
    let (status, reply) = sql(address, &megabytes(over)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{reply}");
    assert!(
        reply.to_string().contains("MiB a result may hold"),
        "{reply}"
    );
    let (status, reply) = sql(address, &megabytes(2)).await;
    assert_eq!(status, StatusCode::OK, "{}", reply.to_string().len());
}
