//! `rotor test` on a suite laid out as Spin's conformance suite is (github.com/fermyon/
//! conformance-tests): `tests/NAME/{spin.toml,test.json5}` naming components of
//! `components/` by `%{source=NAME}`, services by `%{port=N}`, Spin's preconditions
//! `tcp-echo` and `http-echo`, and Spin's exact response matching. CI cannot fetch Spin's own
//! suite (a session can, and runs it by hand: see the README), so this one is written in its
//! format, with a component of its own.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

const COMPONENT: &str = r#"
use rotor_sdk::http::{outbound, Bytes, IntoResponse, Request, Response, StatusCode};

fn header(request: &Request<Bytes>, name: &str) -> String {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[rotor_sdk::http_component]
async fn handle(request: Request<Bytes>) -> Response {
    match request.uri().path() {
        "/tcp" => {
            use std::io::{Read as _, Write as _};
            let exchange = || -> std::io::Result<String> {
                let mut stream = std::net::TcpStream::connect(header(&request, "address"))?;
                stream.write_all(b"ping")?;
                let mut reply = [0u8; 4];
                stream.read_exact(&mut reply)?;
                Ok(String::from_utf8_lossy(&reply).into_owned())
            };
            match exchange() {
                Ok(reply) => reply.into_response(),
                Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{:?}", e.kind())).into_response(),
            }
        }
        "/http" => match outbound::post(&header(&request, "url"), "hello").await {
            Ok(response) => match response.into_body().text().await {
                Ok(text) => text.into_response(),
                Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
            },
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{:?}", e.kind())).into_response(),
        },
        "/pg" => {
            let counted = rotor_sdk::pg::Connection::open(&header(&request, "pg")).and_then(|db| {
                db.query("SELECT count(*)::int4 AS n, max(name) AS last FROM suite_things", &[])
            });
            match counted {
                Ok(rows) => match rows.rows().next() {
                    Some(row) => format!(
                        "{}:{}",
                        row.get::<i32>("n").unwrap_or(-1),
                        row.get::<String>("last").unwrap_or_default()
                    )
                    .into_response(),
                    None => (StatusCode::INTERNAL_SERVER_ERROR, "no row").into_response(),
                },
                Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:?}")).into_response(),
            }
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
"#;

/// What Spin's suite writes for the headers a transport adds.
const TRANSPORT_HEADERS: &str = r#"
    { "name": "Date", "optional": true },
    { "name": "content-length", "optional": true },
    { "name": "transfer-encoding", "optional": true }"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A manifest routing everything to the suite's `tiny` component, with `extra` lines in its
/// component table (and after).
fn manifest(name: &str, extra: &str) -> String {
    format!(
        r#"spin_manifest_version = 2

[application]
name = "{name}"

[[trigger.http]]
route = "/..."
component = "test"

[component.test]
source = "%{{source=tiny}}"
{extra}
"#
    )
}

fn test_case(suite: &Path, name: &str, manifest_extra: &str, spec: &str) {
    write(
        &suite.join(format!("tests/{name}/spin.toml")),
        &manifest(name, manifest_extra),
    );
    write(&suite.join(format!("tests/{name}/test.json5")), spec);
}

fn response(status: u16, body: &str) -> String {
    format!(
        r#"{{ "status": {status}, "headers": [
            {{ "name": "content-type", "value": "TEXT/plain; charset=utf-8" }},{TRANSPORT_HEADERS}
        ], "body": "{body}" }}"#
    )
}

/// A suite checkout: `components/tiny` (a crate of its own, sharing the workspace's lock so
/// that it builds from the same dependency versions) and a test per behaviour.
fn write_suite(suite: &Path) {
    let workspace = common::workspace();
    write(
        &suite.join("components/tiny/Cargo.toml"),
        &format!(
            r#"[package]
name = "suite-tiny"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
rotor-sdk = {{ path = "{}" }}

[profile.release]
lto = "thin"

[workspace]
"#,
            workspace.join("sdk").display()
        ),
    );
    std::fs::copy(
        workspace.join("Cargo.lock"),
        suite.join("components/tiny/Cargo.lock"),
    )
    .unwrap();
    write(&suite.join("components/tiny/src/lib.rs"), COMPONENT);

    write(
        &suite.join("tests/tcp-by-range/spin.toml"),
        &manifest(
            "tcp-by-range",
            "allowed_outbound_hosts = [\"*://{{ net }}/24:%{port=7}\"]\n\n\
             [variables]\nnet = { default = \"127.0.0.0\" }",
        ),
    );
    write(
        &suite.join("tests/tcp-by-range/test.json5"),
        &format!(
            r#"{{
  "invocations": [{{
    "request": {{ "method": "get", "path": "/tcp", "headers": [
      {{ "name": "Host", "value": "example.com" }},
      {{ "name": "address", "value": "127.0.0.1:%{{port=7}}" }}
    ] }},
    "response": {}
  }}],
  "preconditions": [{{ "kind": "tcp-echo" }}]
}}"#,
            response(200, "ping")
        ),
    );
    test_case(
        suite,
        "tcp-no-port-permission",
        "allowed_outbound_hosts = [\"tcp://127.0.0.1:1\"]",
        &format!(
            r#"{{
  "invocations": [{{
    "request": {{ "path": "/tcp", "headers": [
      {{ "name": "address", "value": "127.0.0.1:%{{port=7}}" }}
    ] }},
    "response": {}
  }}],
  "preconditions": [{{ "kind": "tcp-echo" }}]
}}"#,
            response(500, "PermissionDenied")
        ),
    );
    test_case(
        suite,
        "http-echo",
        "allowed_outbound_hosts = [\"http://127.0.0.1:%{port=80}\"]",
        &format!(
            r#"{{
  "invocations": [{{
    "request": {{ "method": "post", "path": "/http", "headers": [
      {{ "name": "url", "value": "http://127.0.0.1:%{{port=80}}/echo" }}
    ] }},
    "response": {}
  }}],
  "preconditions": [{{ "kind": "http-echo" }}]
}}"#,
            response(200, "hello")
        ),
    );
    test_case(
        suite,
        "http-no-permission",
        "",
        &format!(
            r#"{{
  "invocations": [{{
    "request": {{ "path": "/http", "headers": [
      {{ "name": "url", "value": "http://127.0.0.1:1/" }}
    ] }},
    "response": {}
  }}]
}}"#,
            response(500, "Denied")
        ),
    );
}

fn rotor_test(path: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["test", "--no-cache"])
        .arg(path)
        // The suite's component builds into the workspace's target directory, where the
        // SDK and its dependencies are built already.
        .env("CARGO_TARGET_DIR", common::workspace().join("target"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.success(), format!("{stdout}\n{stderr}"))
}

#[test]
fn a_suite_in_spins_layout_passes() {
    common::guests();
    let suite = tempfile::tempdir().unwrap();
    write_suite(suite.path());
    let (ok, output) = rotor_test(&suite.path().join("tests"));
    assert!(ok, "{output}");
    assert!(output.contains("\n4 passed, 0 failed\n"), "{output}");
}

#[test]
fn exact_matching_catches_unlisted_headers_and_bodies() {
    common::guests();
    let suite = tempfile::tempdir().unwrap();
    write_suite(suite.path());
    // The same request, with a spec that leaves out content-type and the body.
    write(
        &suite.path().join("tests/http-no-permission/test.json5"),
        r#"{
  "invocations": [{
    "request": { "path": "/http", "headers": [ { "name": "url", "value": "http://127.0.0.1:1/" } ] },
    "response": { "status": 500, "headers": [ { "name": "Date", "optional": true } ] }
  }]
}"#,
    );
    let (ok, output) = rotor_test(&suite.path().join("tests/http-no-permission"));
    assert!(!ok, "{output}");
    assert!(
        output.contains("header content-type: not expected"),
        "{output}"
    );
    assert!(
        output.contains("body: expected \"\", got \"Denied\""),
        "{output}"
    );
    assert!(output.contains("\n0 passed, 1 failed\n"), "{output}");
}

#[test]
fn a_port_no_precondition_provides_is_an_error() {
    common::guests();
    let suite = tempfile::tempdir().unwrap();
    write_suite(suite.path());
    let spec = suite.path().join("tests/http-echo/test.json5");
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        r#""preconditions": [{ "kind": "http-echo" }]"#,
        r#""preconditions": []"#,
    );
    std::fs::write(&spec, text).unwrap();
    let (ok, output) = rotor_test(&suite.path().join("tests/http-echo"));
    assert!(!ok, "{output}");
    assert!(
        output.contains("no precondition of this spec provides port 80"),
        "{output}"
    );
}

#[test]
fn the_postgres_precondition_loads_spin_dev_from_postgres_init() {
    if !common::service_available("PostgreSQL", "127.0.0.1:5432") {
        return;
    }
    common::guests();
    let suite = tempfile::tempdir().unwrap();
    write_suite(suite.path());
    // As in Spin's suite: the SQL files of `postgres-init`, loaded in name order.
    write(
        &suite.path().join("postgres-init/01-table.sql"),
        "CREATE TABLE suite_things (name text NOT NULL);",
    );
    write(
        &suite.path().join("postgres-init/02-rows.sql"),
        "INSERT INTO suite_things (name) VALUES ('alpha'), ('beta');",
    );
    test_case(
        suite.path(),
        "postgres",
        "allowed_outbound_hosts = [\"postgres://localhost:%{port=5432}\"]",
        &format!(
            r#"{{
  "invocations": [{{
    "request": {{ "path": "/pg", "headers": [
      {{ "name": "pg", "value": "host=localhost port=%{{port=5432}} user=postgres dbname=spin_dev" }}
    ] }},
    "response": {}
  }}],
  "preconditions": [{{ "kind": "postgres" }}]
}}"#,
            response(200, "2:beta")
        ),
    );
    let (ok, output) = rotor_test(&suite.path().join("tests/postgres"));
    assert!(ok, "{output}");
    assert!(output.contains("\n1 passed, 0 failed\n"), "{output}");
}
