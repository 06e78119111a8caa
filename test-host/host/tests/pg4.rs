//! `spin:postgres/postgres@4.0.0` through `rotor_sdk::pg` and the host, against the real
//! PostgreSQL server: every type the interface carries goes in as a parameter and comes
//! back out (with the server's own normalisations), values written by SQL read back the
//! same way, and a refused statement carries the server's SQLSTATE code.

mod common;

use std::net::SocketAddr;

use http::StatusCode;
use serde_json::{json, Value};

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const GRANT: &str = "allowed_outbound_hosts = [\"postgres://127.0.0.1:5432\"]";

async fn call(address: SocketAddr, statement: &str, params: Value, execute: bool) -> Value {
    let (status, body) = call_raw(address, statement, params, execute).await;
    assert_eq!(status, StatusCode::OK, "{statement}: {body}");
    body
}

async fn call_raw(
    address: SocketAddr,
    statement: &str,
    params: Value,
    execute: bool,
) -> (StatusCode, Value) {
    let request =
        json!({ "address": PG, "statement": statement, "params": params, "execute": execute });
    common::post_json(address, "/pg4", &request).await
}

const COLUMNS: &str = "d DATE, t TIME, ts TIMESTAMP, tz TIMESTAMPTZ, u UUID, j JSONB, \
    n NUMERIC, r4 INT4RANGE, r8 INT8RANGE, rn NUMRANGE, a4 INT4[], a8 INT8[], an NUMERIC[], \
    at TEXT[], iv INTERVAL, b BYTEA, i2 SMALLINT, nothing TEXT";

#[tokio::test(flavor = "multi_thread")]
async fn every_type_goes_in_and_comes_back() {
    if !common::service_available("PostgreSQL", "127.0.0.1:5432") {
        return;
    }
    let dir = common::app_dir(&common::probe_manifest(GRANT));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let table = common::unique("pg4_types");
    call(
        address,
        &format!("CREATE TABLE {table} (id INTEGER, {COLUMNS})"),
        json!([]),
        true,
    )
    .await;
    let params = json!([
        ["date", [2024, 2, 29]],
        ["time", [23, 59, 58, 123_456_000]],
        ["datetime", [1999, 12, 31, 23, 59, 59, 500_000_000]],
        ["timestamp", 1_700_000_000],
        ["uuid", "FEDCBA98-fedc-fedc-fedc-fedcba987654"],
        ["jsonb", { "s": "x", "n": [1, 2.5, null] }],
        ["decimal", "-12345678901234567890.000123"],
        ["range-int32", [[1, "exclusive"], [10, "inclusive"]]],
        ["range-int64", [null, [5, "inclusive"]]],
        ["range-decimal", [["0.5", "inclusive"], null]],
        ["array-int32", [1, null, 3]],
        ["array-int64", [9_000_000_000i64]],
        ["array-decimal", ["1.10", null]],
        ["array-str", ["a", null, "ü"]],
        ["interval", [3_600_000_001i64, 2, 14]],
        ["binary", [0, 255]],
        ["int32", 7],
        ["db-null", null],
    ]);
    let placeholders: Vec<String> = (1..=18).map(|n| format!("${n}")).collect();
    let inserted = call(
        address,
        &format!(
            "INSERT INTO {table} VALUES (1, {})",
            placeholders.join(", ")
        ),
        params,
        true,
    )
    .await;
    assert_eq!(inserted["rows_affected"], 1);
    let result = call(
        address,
        &format!("SELECT * FROM {table} WHERE id = 1"),
        json!([]),
        false,
    )
    .await;
    call(address, &format!("DROP TABLE {table}"), json!([]), true).await;
    // What PostgreSQL gives back: discrete ranges normalised to [lower, upper), the UUID in
    // lower case, the decimal at its own scale, the time zone dropped to UTC.
    assert_eq!(
        result["rows"][0],
        json!({
            "id": 1,
            "d": "2024-02-29",
            "t": "23:59:58.123456",
            "ts": "1999-12-31T23:59:59.5Z",
            "tz": "2023-11-14T22:13:20Z",
            "u": "fedcba98-fedc-fedc-fedc-fedcba987654",
            "j": { "s": "x", "n": [1, 2.5, null] },
            "n": "-12345678901234567890.000123",
            "r4": { "lower": { "value": 2, "inclusive": true }, "upper": { "value": 11, "inclusive": false } },
            "r8": { "lower": null, "upper": { "value": 6, "inclusive": false } },
            "rn": { "lower": { "value": "0.5", "inclusive": true }, "upper": null },
            "a4": [1, null, 3],
            "a8": [9_000_000_000i64],
            "an": ["1.10", null],
            "at": ["a", null, "ü"],
            "iv": { "months": 14, "days": 2, "micros": 3_600_000_001i64 },
            "b": [0, 255],
            "i2": 7,
            "nothing": null,
        }),
        "{result}"
    );
    let types = common::column_types(&result);
    assert_eq!(
        types,
        [
            "Int32",
            "Date",
            "Time",
            "Datetime",
            "Datetime",
            "Uuid",
            "Jsonb",
            "Decimal",
            "RangeInt32",
            "RangeInt64",
            "RangeDecimal",
            "ArrayInt32",
            "ArrayInt64",
            "ArrayDecimal",
            "ArrayStr",
            "Interval",
            "Binary",
            "Int16",
            "Str"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn values_written_by_sql_read_back_and_odd_types_are_unsupported() {
    if !common::service_available("PostgreSQL", "127.0.0.1:5432") {
        return;
    }
    let dir = common::app_dir(&common::probe_manifest(GRANT));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let result = call(
        address,
        "SELECT DATE '2525-12-25' AS d, INTERVAL 'P1Y2M3DT4H5M6.7S' AS iv, \
         0.000000000000000000000000000001::numeric AS tiny, 'NaN'::numeric AS nan, \
         '(1,40]'::int4range AS r, 'empty'::int4range AS nothing, \
         '{1,2}'::int2[] AS small, point(1, 2) AS p",
        json!([]),
        false,
    )
    .await;
    assert_eq!(
        result["rows"][0],
        json!({
            "d": "2525-12-25",
            "iv": { "months": 14, "days": 3, "micros": 14_706_700_000i64 },
            "tiny": "0.000000000000000000000000000001",
            "nan": "NaN",
            "r": { "lower": { "value": 2, "inclusive": true }, "upper": { "value": 41, "inclusive": false } },
            "nothing": { "lower": { "value": 0, "inclusive": false }, "upper": { "value": 0, "inclusive": false } },
            "small": [1, 2],
            "p": null,
        }),
        "{result}"
    );
    assert_eq!(result["columns"][7]["type"], "DbDataType::Other(\"point\")");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_typed_with_the_servers_code() {
    if !common::service_available("PostgreSQL", "127.0.0.1:5432") {
        return;
    }
    let dir = common::app_dir(&common::probe_manifest(GRANT));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let (status, body) = call_raw(address, "SELEC 1", json!([]), false).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"], "query-failed", "{body}");
    assert_eq!(body["code"], "42601", "{body}");
    let (_, body) = call_raw(address, "SELECT $1::uuid", json!([["uuid", "nope"]]), false).await;
    assert_eq!(body["error"], "bad-parameter", "{body}");
    let (_, body) = call_raw(
        address,
        "SELECT $1::date",
        json!([["date", [2023, 2, 30]]]),
        false,
    )
    .await;
    assert_eq!(body["error"], "bad-parameter", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("not a date"),
        "{body}"
    );
    let (_, body) = call_raw(address, "SELECT $1::int4", json!([["uuid", "x"]]), false).await;
    assert_eq!(body["error"], "bad-parameter", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot send uuid"),
        "{body}"
    );
    // Without a grant nothing is opened.
    let (address, _dir) = common::serve_probe(common::test_engine()).await;
    let (_, body) = call_raw(address, "SELECT 1", json!([]), false).await;
    assert_eq!(body["error"], "connection-failed", "{body}");
}
