//! `fermyon:spin/postgres@2.0.0` and `mysql@2.0.0` through the host, against the real
//! PostgreSQL and MariaDB servers of this machine: every type, hostile parameters, refused,
//! malformed and ungranted addresses, unsupported column types, and a burst of concurrent
//! requests through the pool. Each test works in tables of its own.

mod common;

use std::net::SocketAddr;

use http::StatusCode;
use serde_json::{json, Value};

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL: &str = "mysql://root@127.0.0.1:3306/test";
const GRANT: &str =
    "allowed_outbound_hosts = [\"postgres://127.0.0.1:5432\", \"mysql://127.0.0.1:3306\"]";

#[derive(Clone, Copy, PartialEq)]
enum Db {
    Pg,
    Mysql,
}

impl Db {
    fn available(self) -> bool {
        match self {
            Db::Pg => common::service_available("PostgreSQL", "127.0.0.1:5432"),
            Db::Mysql => common::service_available("MariaDB", "127.0.0.1:3306"),
        }
    }

    fn path(self) -> &'static str {
        match self {
            Db::Pg => "/rdbms/pg",
            Db::Mysql => "/rdbms/mysql",
        }
    }

    fn address(self) -> &'static str {
        match self {
            Db::Pg => PG,
            Db::Mysql => MYSQL,
        }
    }

    /// The `n`th positional parameter as the database writes it.
    fn param(self, n: usize) -> String {
        match self {
            Db::Pg => format!("${n}"),
            Db::Mysql => "?".to_owned(),
        }
    }

    fn params(self, count: usize) -> String {
        (1..=count)
            .map(|n| self.param(n))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs one statement through the probe: the probe's status and JSON.
async fn run(
    address: SocketAddr,
    db: Db,
    database: &str,
    statement: &str,
    params: Value,
    execute: bool,
) -> (StatusCode, Value) {
    let call = json!({
        "address": database,
        "statement": statement,
        "params": params,
        "execute": execute,
    });
    common::post_json(address, db.path(), &call).await
}

async fn exec(address: SocketAddr, db: Db, statement: &str, params: Value) -> Value {
    let (status, body) = run(address, db, db.address(), statement, params, true).await;
    assert_eq!(status, StatusCode::OK, "{statement}: {body}");
    body
}

async fn query(address: SocketAddr, db: Db, statement: &str, params: Value) -> Value {
    let (status, body) = run(address, db, db.address(), statement, params, false).await;
    assert_eq!(status, StatusCode::OK, "{statement}: {body}");
    body
}

async fn granted_probe() -> (SocketAddr, tempfile::TempDir) {
    let dir = common::app_dir(&common::probe_manifest(GRANT));
    let address = common::serve(dir.path(), common::test_engine()).await;
    (address, dir)
}

async fn every_type_round_trips(db: Db) {
    let (address, _dir) = granted_probe().await;
    let table = common::unique("types");
    let (create, values) = match db {
        Db::Pg => (
            format!(
                "CREATE TABLE {table} (b BOOLEAN, i2 SMALLINT, i4 INTEGER, i8 BIGINT, f4 REAL, \
                 f8 DOUBLE PRECISION, t TEXT, v VARCHAR(20), bin BYTEA, n INTEGER)"
            ),
            json!([
                {"boolean": true}, {"int16": -32768}, {"int32": 2147483647},
                {"int64": -9223372036854775807i64}, {"floating32": 1.5}, {"floating64": -2.25},
                {"str": "ünïcode ✓"}, {"str": "short"}, {"binary": [0, 1, 254, 255]}, "db-null"
            ]),
        ),
        Db::Mysql => (
            format!(
                "CREATE TABLE {table} (i1 TINYINT, u1 TINYINT UNSIGNED, i2 SMALLINT, \
                 u2 SMALLINT UNSIGNED, i4 INT, u4 INT UNSIGNED, i8 BIGINT, u8 BIGINT UNSIGNED, \
                 f4 FLOAT, f8 DOUBLE, t TEXT, v VARCHAR(20), bin BLOB, n INT) CHARSET utf8mb4"
            ),
            json!([
                {"int8": -128}, {"uint8": 255}, {"int16": -32768}, {"uint16": 65535},
                {"int32": -2147483648}, {"uint32": 4294967295u32},
                {"int64": -9223372036854775807i64}, {"uint64": 18446744073709551615u64},
                {"floating32": 1.5}, {"floating64": -2.25},
                {"str": "ünïcode ✓"}, {"str": "short"}, {"binary": [0, 1, 254, 255]}, "db-null"
            ]),
        ),
    };
    exec(address, db, &create, json!([])).await;
    let count = values.as_array().unwrap().len();
    exec(
        address,
        db,
        &format!("INSERT INTO {table} VALUES ({})", db.params(count)),
        values.clone(),
    )
    .await;
    let result = query(address, db, &format!("SELECT * FROM {table}"), json!([])).await;
    exec(address, db, &format!("DROP TABLE {table}"), json!([])).await;
    assert_eq!(result["rows"], json!([values]), "{result}");
    let types = common::column_types(&result);
    let expected: &[&str] = match db {
        Db::Pg => &[
            "Boolean",
            "Int16",
            "Int32",
            "Int64",
            "Floating32",
            "Floating64",
            "Str",
            "Str",
            "Binary",
            "Int32",
        ],
        Db::Mysql => &[
            "Int8",
            "Uint8",
            "Int16",
            "Uint16",
            "Int32",
            "Uint32",
            "Int64",
            "Uint64",
            "Floating32",
            "Floating64",
            "Str",
            "Str",
            "Binary",
            "Int32",
        ],
    };
    assert_eq!(types, expected);
}

async fn hostile_parameters_stay_data(db: Db) {
    let (address, _dir) = granted_probe().await;
    let table = common::unique("hostile");
    exec(
        address,
        db,
        &format!("CREATE TABLE {table} (name VARCHAR(200))"),
        json!([]),
    )
    .await;
    let hostile = [
        format!("x'; DROP TABLE {table}; --"),
        "O'Brien \"quoted\" \\ backslash".to_owned(),
        "1 OR 1=1".to_owned(),
    ];
    for name in &hostile {
        exec(
            address,
            db,
            &format!("INSERT INTO {table} (name) VALUES ({})", db.param(1)),
            json!([{ "str": name }]),
        )
        .await;
    }
    let result = query(
        address,
        db,
        &format!("SELECT name FROM {table} WHERE name = {}", db.param(1)),
        json!([{ "str": "1 OR 1=1" }]),
    )
    .await;
    assert_eq!(result["rows"], json!([[{ "str": "1 OR 1=1" }]]));
    let result = query(
        address,
        db,
        &format!("SELECT name FROM {table} ORDER BY name"),
        json!([]),
    )
    .await;
    exec(address, db, &format!("DROP TABLE {table}"), json!([])).await;
    let mut expected: Vec<Value> = hostile.iter().map(|n| json!([{ "str": n }])).collect();
    expected.sort_by_key(|v| v[0]["str"].as_str().unwrap().to_owned());
    let mut got = result["rows"].as_array().unwrap().clone();
    got.sort_by_key(|v| v[0]["str"].as_str().unwrap().to_owned());
    assert_eq!(got, expected);
}

async fn bad_addresses_are_typed_errors(db: Db) {
    // A listener the app is not granted: it must see no connection at all.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let scheme = match db {
        Db::Pg => "postgres",
        Db::Mysql => "mysql",
    };
    // A granted port that nobody listens on.
    let closed = common::closed_port();
    // PostgreSQL's `hostaddr` decides where a connection goes, whatever the host name says:
    // a listener on another loopback address at a port granted on 127.0.0.1.
    let diverted = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let diverted_port = diverted.local_addr().unwrap().port();
    let dir = common::app_dir(&common::probe_manifest(&format!(
        "allowed_outbound_hosts = [\"{scheme}://127.0.0.1:5432\", \"{scheme}://127.0.0.1:3306\", \"{scheme}://127.0.0.1:{closed}\", \"{scheme}://127.0.0.1:{diverted_port}\"]"
    )));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let user = match db {
        Db::Pg => "postgres",
        Db::Mysql => "root",
    };
    let mut cases = vec![
        (
            format!("{scheme}://{user}@127.0.0.1:{port}/test"),
            "allowed_outbound_hosts",
        ),
        (format!("{scheme}://{user}@127.0.0.1:{closed}/test"), ""),
        ("this is not an address at all".to_owned(), ""),
    ];
    if db == Db::Pg {
        cases.push((
            format!("postgres://{user}@127.0.0.1:{diverted_port}/test?hostaddr=127.0.0.2"),
            "127.0.0.2",
        ));
    }
    for (database, needle) in &cases {
        let (status, body) = run(address, db, database, "SELECT 1", json!([]), false).await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{database}: {body}"
        );
        assert_eq!(body["error"], "connection-failed", "{database}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{database}: {body}"
        );
    }
    let accepted =
        tokio::time::timeout(std::time::Duration::from_millis(100), listener.accept()).await;
    assert!(accepted.is_err(), "the ungranted address was contacted");
    let accepted =
        tokio::time::timeout(std::time::Duration::from_millis(100), diverted.accept()).await;
    assert!(
        accepted.is_err(),
        "hostaddr took the connection to an ungranted address"
    );

    // A query error carries the server's message, and the host goes on serving.
    let (status, body) = run(
        address,
        db,
        db.address(),
        "SELEKT nonsense",
        json!([]),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"], "query-failed", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("syntax"),
        "{body}"
    );
    let result = query(address, db, "SELECT 41 + 1 AS answer", json!([])).await;
    assert_eq!(result["columns"][0]["name"], "answer");
}

async fn unsupported_columns_do_not_trap(db: Db) {
    let (address, _dir) = granted_probe().await;
    let statement = match db {
        Db::Pg => "SELECT now() AS at, NULL::date AS nothing, 'x'::text AS ok",
        Db::Mysql => "SELECT NOW() AS at, CAST(NULL AS DATE) AS nothing, 'x' AS ok",
    };
    let result = query(address, db, statement, json!([])).await;
    assert_eq!(
        result["rows"],
        json!([["unsupported", "db-null", { "str": "x" }]]),
        "{result}"
    );
}

async fn concurrent_requests_share_the_pool(db: Db) {
    let (address, _dir) = granted_probe().await;
    let table = common::unique("burst");
    exec(
        address,
        db,
        &format!("CREATE TABLE {table} (n INTEGER)"),
        json!([]),
    )
    .await;
    let mut tasks = Vec::new();
    for n in 0..100 {
        let statement = format!("INSERT INTO {table} (n) VALUES ({})", db.param(1));
        tasks.push(tokio::spawn(async move {
            run(
                address,
                db,
                db.address(),
                &statement,
                json!([{ "int32": n }]),
                true,
            )
            .await
        }));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let result = query(
        address,
        db,
        &format!("SELECT COUNT(DISTINCT n) AS c FROM {table}"),
        json!([]),
    )
    .await;
    exec(address, db, &format!("DROP TABLE {table}"), json!([])).await;
    let count = &result["rows"][0][0];
    let count = count
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("{result}"));
    assert_eq!(count, 100);
}

/// A result larger than the host hands a guest is refused with a message that says so,
/// and a smaller one of the same shape still arrives.
async fn a_result_over_the_limit_is_refused(db: Db) {
    let (address, _dir) = granted_probe().await;
    let megabytes = |rows: usize| match db {
        Db::Pg => format!("SELECT repeat('x', 1048576) AS big FROM generate_series(1, {rows})"),
        Db::Mysql => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             SELECT REPEAT('x', 1048576) AS big FROM n"
        ),
    };
    let over = rotor_host::capabilities::result_limit::MAX_QUERY_RESULT_BYTES / (1 << 20) + 1;
    let (status, reply) = run(
        address,
        db,
        db.address(),
        &megabytes(over),
        json!([]),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{reply}");
    assert_eq!(reply["error"], "query-failed", "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("MiB a result may hold"),
        "{reply}"
    );
    let within = query(address, db, &megabytes(2), json!([])).await;
    assert_eq!(within["rows"].as_array().unwrap().len(), 2);
}

/// A statement that outlives its request is stopped on the server too, not only given up
/// on by the host: otherwise it would go on there, holding its locks and its connection.
async fn a_runaway_statement_is_stopped_on_the_server(db: Db) {
    let (address, _dir) = granted_probe().await;
    let marker = common::unique("runaway");
    let statement = match db {
        Db::Pg => format!("SELECT pg_sleep(30) /* {marker} */"),
        Db::Mysql => format!("SELECT SLEEP(30) /* {marker} */"),
    };
    let started = std::time::Instant::now();
    let (status, reply) = run(address, db, db.address(), &statement, json!([]), false).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{reply}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let activity = match db {
        Db::Pg => format!(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' \
             AND query LIKE '%{marker}%' AND query NOT LIKE '%pg_stat_activity%'"
        ),
        Db::Mysql => format!(
            "SELECT COUNT(*) AS n FROM information_schema.processlist \
             WHERE info LIKE '%{marker}%' AND info NOT LIKE '%processlist%'"
        ),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let result = query(address, db, &activity, json!([])).await;
        let running = result["rows"][0][0]
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_i64)
            .unwrap_or_else(|| panic!("{result}"));
        if running == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the statement still runs on the server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

macro_rules! for_both {
    ($($name:ident),*) => {
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    if Db::Pg.available() {
                        super::$name(Db::Pg).await;
                    }
                }
            )*
        }
        mod mysql {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    if Db::Mysql.available() {
                        super::$name(Db::Mysql).await;
                    }
                }
            )*
        }
    };
}

for_both!(
    every_type_round_trips,
    hostile_parameters_stay_data,
    bad_addresses_are_typed_errors,
    unsupported_columns_do_not_trap,
    concurrent_requests_share_the_pool,
    a_result_over_the_limit_is_refused,
    a_runaway_statement_is_stopped_on_the_server
);

#[tokio::test(flavor = "multi_thread")]
async fn an_ungranted_component_reaches_no_database() {
    if !Db::Pg.available() || !Db::Mysql.available() {
        return;
    }
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    for db in [Db::Pg, Db::Mysql] {
        let (status, body) = run(address, db, db.address(), "SELECT 1", json!([]), false).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"], "connection-failed", "{body}");
    }
}

/// A guest that leaves a transaction open must not leave it to the next request: the pooled
/// connection is rolled back before reuse, so later writes are committed as usual.
#[tokio::test(flavor = "multi_thread")]
async fn an_open_transaction_does_not_outlive_its_request() {
    if !Db::Pg.available() {
        return;
    }
    let (address, _dir) = granted_probe().await;
    let table = common::unique("leftover");
    exec(
        address,
        Db::Pg,
        &format!("CREATE TABLE {table} (n INTEGER)"),
        json!([]),
    )
    .await;
    // A request that begins a transaction and ends without committing.
    exec(address, Db::Pg, "BEGIN", json!([])).await;
    // Its connection goes back to the pool in the background; the next request takes it.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    exec(
        address,
        Db::Pg,
        &format!("INSERT INTO {table} VALUES (1)"),
        json!([]),
    )
    .await;
    let (client, connection) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let count: i64 = client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0);
    // Without the rollback the abandoned transaction would hold the table's lock forever.
    let dropped = client
        .batch_execute(&format!("SET lock_timeout = '5s'; DROP TABLE {table}"))
        .await;
    assert_eq!(
        count, 1,
        "the insert after the abandoned BEGIN was not committed"
    );
    dropped.unwrap();
}
