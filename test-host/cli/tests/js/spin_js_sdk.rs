//! Apps written against spin-js-sdk's documented API build with `rotor js build` unchanged:
//! its modules (`@spinframework/spin-kv`, `-sqlite`, `-variables`, `-redis`, `-postgres`,
//! `-mysql`, `-mqtt`, `-trigger-redis`) are built in, with spin-js-sdk's names and shapes:
//! BigInts for 64-bit integers, `Date`s for PostgreSQL's dates and times, the interface's
//! tagged values for Redis commands, and `e.payload` on errors.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn apps_written_for_spin_js_sdk_pass_their_specs() {
    js_example_passes_its_spec("spin-kv-links", None, 12).await;
    js_example_passes_its_spec("spin-sqlite-guestbook", None, 9).await;
}

/// Each route uses spin-js-sdk's modules and answers what they gave, with BigInts, `Date`s,
/// bytes and `undefined` spelled out so that the test reads their types.
const SPIN_SDK_APP: &str = r#"
import * as Redis from "@spinframework/spin-redis";
import * as Postgres from "@spinframework/spin-postgres";
import * as Mysql from "@spinframework/spin-mysql";
import { open as openMqtt, QoS } from "@spinframework/spin-mqtt";
import { get } from "@spinframework/spin-variables";
import * as Kv from "@fermyon/spin-kv";
import * as Sqlite from "@fermyon/spin-sqlite";
import "@spinframework/wasi-http-proxy";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text) => ({ tag: "binary", val: encoder.encode(text) });

function show(value) {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return `Date ${value.toISOString()}`;
  if (value instanceof Uint8Array) return `bytes ${Array.from(value).join(",")}`;
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return value.map(show);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, show(v)]));
  }
  return value;
}

const routes = {
  "/redis": () => {
    const redis = Redis.open(get("redis_address"));
    const key = get("key");
    redis.set(key, encoder.encode("value ü"));
    return {
      get: decoder.decode(redis.get(key)),
      missing: redis.get(`${key}:missing`),
      incr: [redis.incr(`${key}:n`), redis.incr(`${key}:n`)],
      sadd: redis.sadd(`${key}:s`, ["a", "b", "c"]),
      srem: redis.srem(`${key}:s`, ["a"]),
      smembers: redis.smembers(`${key}:s`).sort(),
      append: redis.execute("APPEND", [bytes(key), bytes("!")]),
      incrby: redis.execute("INCRBY", [bytes(`${key}:n`), { tag: "int64", val: 40n }]),
      getAfter: redis.execute("GET", [bytes(key)]),
      nil: redis.execute("GET", [bytes(`${key}:missing`)]),
      del: redis.del([key, `${key}:n`, `${key}:s`]),
    };
  },
  "/postgres": () => {
    const db = Postgres.open(get("pg_address"));
    const table = get("table");
    db.execute(`CREATE TABLE ${table} (id bigint, name text, small int2, ratio float8, ok boolean,
      raw bytea, born date, at timestamptz, wake time, note text)`, []);
    try {
      const changed = db.execute(
        `INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5, $6, '1815-12-10', '2024-05-06T07:08:09.5Z', '06:30:00', $7)`,
        [9007199254740993n, "Ada", 7, 0.5, true, new Uint8Array([1, 2, 255]), null],
      );
      const { columns, rows } = db.query(`SELECT * FROM ${table} WHERE name = $1`, ["Ada"]);
      return { changed, columns, rows };
    } finally {
      db.execute(`DROP TABLE ${table}`, []);
    }
  },
  "/mysql": () => {
    const db = Mysql.open(get("mysql_address"));
    const table = get("table");
    db.execute(`CREATE TABLE ${table} (id BIGINT, name VARCHAR(40), score DOUBLE, flag TINYINT,
      note VARCHAR(40) NULL, big BIGINT UNSIGNED)`, []);
    try {
      const executed = db.execute(
        `INSERT INTO ${table} VALUES (?, ?, ?, ?, ?, 18446744073709551615)`,
        [9007199254740993n, "Grace", 2.5, 1, null],
      );
      const { columns, rows } = db.query(`SELECT * FROM ${table} WHERE name = ?`, ["Grace"]);
      return { executed, columns, rows };
    } finally {
      db.execute(`DROP TABLE ${table}`, []);
    }
  },
  "/mqtt": () => {
    const mqtt = openMqtt(get("mqtt_address"), "", "", 30n);
    mqtt.publish(get("topic"), encoder.encode("from spin-js-sdk"), QoS.AtLeastOnce);
    try {
      mqtt.publish(get("topic"), encoder.encode("never sent"), 1);
      return { refused: false };
    } catch (e) {
      return { refused: e.name, qos: QoS.ExactlyOnce };
    }
  },
  "/local": () => {
    const db = Sqlite.openDefault();
    db.execute("CREATE TABLE shapes (i INTEGER, r REAL, t TEXT, b BLOB, n TEXT)", []);
    db.execute("INSERT INTO shapes VALUES (?, ?, ?, ?, ?)",
      [{ tag: "integer", val: 5n }, 1.5, "t", new Uint8Array([9]), null]);
    const result = db.execute("SELECT * FROM shapes", []);
    const kv = Kv.openDefault();
    kv.set("object", { a: 1 });
    kv.set("text", "hi");
    return { columns: result.columns, row: result.rows[0], hasNull: "n" in result.rows[0],
             object: kv.getJson("object"), text: decoder.decode(kv.get("text")),
             keys: kv.getKeys().sort(), missing: kv.get("missing") };
  },
  "/errors": () => {
    const out = {};
    try { Kv.open("not-granted"); } catch (e) { out.kv = e.payload; }
    try { Sqlite.openDefault().execute("SELEC 1", []); }
    catch (e) { out.sqlite = e.payload.tag; out.sqliteSays = e.payload.val.includes("syntax error"); }
    try { Redis.open(get("redis_address")).execute("SET", [{ tag: "text", val: "x" }]); }
    catch (e) { out.redisParameter = e.name; }
    try { Kv.openDefault().getJson("missing"); } catch (e) { out.getJsonMissing = e.name; }
    out.variable = get("not_a_variable");
    return out;
  },
};

addEventListener("fetch", (event) => {
  const route = routes[new URL(event.request.url).pathname];
  event.respondWith(route ? Response.json(show(route())) : new Response("Not Found", { status: 404 }));
});
"#;

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL: &str = "mysql://root@127.0.0.1:3306/test";
const REDIS: &str = "redis://127.0.0.1:6379";
const MQTT: &str = "mqtt://127.0.0.1:1883";

/// Builds the app above into `dir` with a manifest granting what it uses, and serves it.
async fn serve_spin_sdk_app(
    dir: &Path,
    key: &str,
    table: &str,
    topic: &str,
) -> std::net::SocketAddr {
    common::guests();
    let app = dir.join("app.js");
    std::fs::write(&app, SPIN_SDK_APP).unwrap();
    let wasm = dir.join("app.wasm");
    let built = build_ok(&app, &wasm);
    assert!(built.contains(", pre-initialized in "), "{built}");
    std::fs::write(
        dir.join("spin.toml"),
        format!(
            r#"spin_manifest_version = 2

[application]
name = "js-spin-sdk-modules"

[[trigger.http]]
route = "/..."
component = "app"

[component.app]
source = "app.wasm"
key_value_stores = ["default"]
sqlite_databases = ["default"]
allowed_outbound_hosts = ["redis://127.0.0.1:6379", "postgres://127.0.0.1:5432", "mysql://127.0.0.1:3306", "mqtt://127.0.0.1:1883"]

[component.app.variables]
redis_address = "{REDIS}"
pg_address = "{PG}"
mysql_address = "{MYSQL}"
mqtt_address = "{MQTT}"
key = "{key}"
table = "{table}"
topic = "{topic}"
"#
        ),
    )
    .unwrap();
    common::serve(dir, common::test_engine()).await
}

/// Key-value and SQLite through `@fermyon/`'s names, and failures as spin-js-sdk reports
/// them: `e.payload` is the interface's error variant, `get` of an unknown variable `null`.
#[tokio::test(flavor = "multi_thread")]
async fn spin_js_sdk_modules_give_its_shapes_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let address = serve_spin_sdk_app(dir.path(), "unused", "unused", "unused").await;

    let (status, body) = get_json(address, "/local").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "columns": ["i", "r", "t", "b", "n"],
            "row": { "i": "5n", "r": 1.5, "t": "t", "b": "bytes 9", "n": "undefined" },
            "hasNull": true,
            "object": { "a": 1 },
            "text": "hi",
            "keys": ["object", "text"],
            "missing": null,
        })
    );

    let (status, body) = get_json(address, "/errors").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "kv": { "tag": "access-denied" },
            "sqlite": "io",
            "sqliteSays": true,
            "redisParameter": "TypeError",
            "getJsonMissing": "SyntaxError",
            "variable": null,
        })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn spin_js_sdk_redis_module_runs_commands_with_tagged_values() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = common::unique("rotor_js_spin_redis");
    let address = serve_spin_sdk_app(dir.path(), &key, "unused", "unused").await;
    let (status, body) = get_json(address, "/redis").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // "value ü!" in UTF-8.
    let after = "bytes 118,97,108,117,101,32,195,188,33";
    assert_eq!(
        body,
        json!({
            "get": "value ü",
            "missing": "undefined",
            "incr": ["1n", "2n"],
            "sadd": 3,
            "srem": 1,
            "smembers": ["b", "c"],
            "append": [{ "tag": "int64", "val": "9n" }],
            "incrby": [{ "tag": "int64", "val": "42n" }],
            "getAfter": [{ "tag": "binary", "val": after }],
            "nil": [{ "tag": "nil" }],
            "del": 3,
        })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn spin_js_sdk_postgres_module_gives_bigints_and_dates() {
    if !common::service_available("PostgreSQL", "127.0.0.1:5432") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = common::unique("rotor_js_spin_pg");
    let address = serve_spin_sdk_app(dir.path(), "unused", &table, "unused").await;
    let (status, body) = get_json(address, "/postgres").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let types: Vec<(&str, &str)> = body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["dataType"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("id", "int64"),
            ("name", "str"),
            ("small", "int16"),
            ("ratio", "floating64"),
            ("ok", "boolean"),
            ("raw", "binary"),
            ("born", "date"),
            ("at", "datetime"),
            ("wake", "time"),
            ("note", "str"),
        ]
    );
    assert_eq!(body["changed"], "1n");
    assert_eq!(
        body["rows"],
        json!([{
            "id": "9007199254740993n",
            "name": "Ada",
            "small": 7,
            "ratio": 0.5,
            "ok": true,
            "raw": "bytes 1,2,255",
            "born": "Date 1815-12-10T00:00:00.000Z",
            "at": "Date 2024-05-06T07:08:09.500Z",
            "wake": "Date 1970-01-01T06:30:00.000Z",
            "note": null,
        }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn spin_js_sdk_mysql_module_gives_bigints_and_nulls() {
    if !common::service_available("MariaDB", "127.0.0.1:3306") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = common::unique("rotor_js_spin_mysql");
    let address = serve_spin_sdk_app(dir.path(), "unused", &table, "unused").await;
    let (status, body) = get_json(address, "/mysql").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["executed"], "undefined");
    let types: Vec<&str> = body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["dataType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["int64", "str", "floating64", "int8", "str", "uint64"]
    );
    assert_eq!(
        body["rows"],
        json!([{
            "id": "9007199254740993n",
            "name": "Grace",
            "score": 2.5,
            "flag": 1,
            "note": null,
            "big": "18446744073709551615n",
        }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn spin_js_sdk_mqtt_module_publishes_with_its_qos_names() {
    use rumqttc::{Event, Packet, QoS};
    if !common::service_available("Mosquitto", "127.0.0.1:1883") {
        return;
    }
    let topic = common::unique("rotor/js/spin");
    let (_subscriber, mut events) = common::mqtt_subscriber(&topic).await;
    let received = tokio::spawn(async move {
        loop {
            if let Event::Incoming(Packet::Publish(message)) = events.poll().await.unwrap() {
                return (
                    message.qos,
                    String::from_utf8(message.payload.to_vec()).unwrap(),
                );
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let address = serve_spin_sdk_app(dir.path(), "unused", "unused", &topic).await;
    let (status, body) = get_json(address, "/mqtt").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "refused": "TypeError", "qos": "exactly-once" })
    );
    let (qos, payload) = tokio::time::timeout(std::time::Duration::from_secs(30), received)
        .await
        .expect("the message never arrived")
        .unwrap();
    assert_eq!(payload, "from spin-js-sdk");
    assert_eq!(qos, QoS::AtLeastOnce);
}

/// spin-js-sdk's Redis trigger: a `RedisHandler` exported as `inboundRedis`.
const SPIN_SDK_MESSAGE_APP: &str = r#"
import { RedisHandler } from "@spinframework/spin-trigger-redis";
import { open } from "@spinframework/spin-redis";
import { get } from "@spinframework/spin-variables";

const encoder = new TextEncoder();

class Recorder extends RedisHandler {
  async handleMessage(payload) {
    const text = new TextDecoder().decode(payload);
    if (text === "fail") throw new Error("a failing message");
    const redis = open(get("redis_address"));
    redis.execute("RPUSH", [
      { tag: "binary", val: encoder.encode(get("record_key")) },
      { tag: "binary", val: encoder.encode(text.toUpperCase()) },
    ]);
  }
}

export const inboundRedis = new Recorder();
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_spin_js_sdk_redis_handler_gets_the_messages() {
    redis_messages_are_recorded_by(SPIN_SDK_MESSAGE_APP).await;
}
