//! rotor-js: JavaScript apps built by `rotor js build` and run by the host. The JavaScript
//! twins of the examples pass the very spec files of their Rust twins; a syntax error stops
//! the build with the file, line and column; capabilities work and their refusals are
//! `RotorError`s with a kind; an uncaught exception is a 500 whose cause is logged.

#[path = "../../../host/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use http::{Method, StatusCode};
use rotor_spec::client;
use serde_json::json;

mod spin_js_sdk;

/// The twins' components are built where their spin.toml expects them, one engine's at a time.
static SPECS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Builds `app` with this `rotor`'s default engine (QuickJS where it has it, else boa).
fn js_build(app: &Path, output: &Path) -> std::process::Output {
    js_build_with(app, output, None)
}

/// Builds `app` with `engine`, or with the default engine when `None`.
fn js_build_with(app: &Path, output: &Path, engine: Option<&str>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rotor"));
    command.args(["js", "build"]);
    if let Some(engine) = engine {
        command.args(["--engine", engine]);
    }
    command.arg(app).arg("-o").arg(output).output().unwrap()
}

/// Builds `app` with the default engine; returns what the build printed.
fn build_ok(app: &Path, output: &Path) -> String {
    build_ok_with(app, output, None)
}

/// Builds `app` with `engine` (`None`: the default); returns what the build printed.
fn build_ok_with(app: &Path, output: &Path, engine: Option<&str>) -> String {
    let built = js_build_with(app, output, engine);
    let stderr = String::from_utf8_lossy(&built.stderr).into_owned();
    assert!(built.status.success(), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn the_javascript_twins_pass_their_rust_twins_specs() {
    twins_pass_their_specs(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_platform_pieces_pass_their_spec() {
    web_platform_passes_its_spec(None).await;
}

/// Builds `examples/js/web-platform` with `engine` and runs its spec.
async fn web_platform_passes_its_spec(engine: Option<&str>) {
    js_example_passes_its_spec("web-platform", engine, 9).await;
}

/// Builds `examples/js/NAME` with `engine` (`None`: the default) where its spin.toml reads
/// the component, runs its `test.json5`, and checks that all `cases` passed.
async fn js_example_passes_its_spec(name: &str, engine: Option<&str>, cases: usize) {
    common::guests();
    let app_dir = common::workspace().join("examples/js").join(name);
    let _turn = SPECS.lock().await;
    build_ok_with(
        &app_dir.join("app.js"),
        &common::workspace().join(format!("target/rotor-js/{name}.wasm")),
        engine,
    );
    let results = rotor_spec::conformance::run_spec(
        &app_dir,
        &app_dir.join("test.json5"),
        common::test_engine(),
    )
    .await
    .unwrap();
    let (passed, failed, line) = rotor_spec::conformance::summary(&results);
    assert_eq!(failed, 0, "{name}: {line}");
    assert_eq!(passed, cases, "{name}: {line}");
}

/// The default engine is QuickJS where this `rotor` has it; in CI it must have it, since
/// `cargo xtask` fetches zig to build it.
#[test]
fn the_default_engine_is_quickjs_where_this_rotor_has_it() {
    let has_quickjs = rotor_cli::js_build::JsEngine::QuickJs.component().is_some();
    if std::env::var_os("CI").is_some_and(|ci| ci == "true") {
        assert!(
            has_quickjs,
            "this rotor has no QuickJS engine: no C compiler for WASI when it was built \
             (`cargo xtask` fetches zig into target/toolchains; see the warning it printed)"
        );
    } else if !has_quickjs {
        eprintln!(
            "NOTE: this rotor has no QuickJS engine, so the JavaScript tests ran on boa only \
             (build it with `cargo xtask test`, which fetches zig)"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let built = build_ok(
        &common::workspace().join("examples/js/http-hello/app.js"),
        &dir.path().join("hello.wasm"),
    );
    let expected = if has_quickjs { "quickjs" } else { "boa" };
    assert!(built.contains(&format!(" with {expected}, ")), "{built}");
}

/// The tests above run on the default engine; boa, the engine every `rotor` has, passes the
/// same specs.
#[tokio::test(flavor = "multi_thread")]
async fn with_boa_the_specs_and_the_capabilities_pass_too() {
    twins_pass_their_specs(Some("boa")).await;
    web_platform_passes_its_spec(Some("boa")).await;
    js_example_passes_its_spec("spin-kv-links", Some("boa"), 12).await;
    js_example_passes_its_spec("spin-sqlite-guestbook", Some("boa"), 9).await;
    let dir = tempfile::tempdir().unwrap();
    capabilities_app_with(dir.path(), Some("boa"));
    let address = common::serve(dir.path(), common::test_engine()).await;
    capabilities_answer(address).await;
    let response = client::get(address, "/throw").await.unwrap();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.text(), "Internal Server Error");
}

/// Builds the JavaScript twins with `engine` and runs their Rust twins' specs on them.
async fn twins_pass_their_specs(engine: Option<&str>) {
    common::guests();
    let workspace = common::workspace();
    let runtime = common::test_engine();
    let mut results = Vec::new();
    for example in ["http-hello", "http-router", "kv-todo", "http-outbound"] {
        let app_dir = workspace.join("examples/js").join(example);
        // The example's spin.toml reads the component from this one path.
        let _turn = SPECS.lock().await;
        let built = build_ok_with(
            &app_dir.join("app.js"),
            &workspace.join(format!("target/rotor-js/{example}.wasm")),
            engine,
        );
        assert!(
            built.contains(", pre-initialized in "),
            "{example}: {built}"
        );
        let spec = workspace.join("examples").join(example).join("test.json5");
        let cases = rotor_spec::conformance::run_spec(&app_dir, &spec, runtime.clone())
            .await
            .unwrap();
        assert!(cases.len() >= 4, "{example}: {} cases", cases.len());
        results.extend(cases);
    }
    let (passed, failed, line) = rotor_spec::conformance::summary(&results);
    assert_eq!(failed, 0, "{line}");
    assert!(passed >= 30, "{line}");
}

/// Copies the directory `from` to `to`, files and subdirectories.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Builds the npm-router example's own modules in `dir`, whose `node_modules` the caller
/// filled, and runs the example's spec on it.
async fn npm_router_passes_its_spec(dir: &Path) {
    let example = common::workspace().join("examples/js/npm-router");
    for file in ["app.js", "handlers.js"] {
        std::fs::copy(example.join(file), dir.join(file)).unwrap();
    }
    std::fs::write(
        dir.join("spin.toml"),
        std::fs::read_to_string(example.join("spin.toml"))
            .unwrap()
            .replace("../../../target/rotor-js/npm-router.wasm", "app.wasm"),
    )
    .unwrap();
    let built = build_ok(&dir.join("app.js"), &dir.join("app.wasm"));
    assert!(built.contains(", pre-initialized in "), "{built}");
    let cases =
        rotor_spec::conformance::run_spec(dir, &example.join("test.json5"), common::test_engine())
            .await
            .unwrap();
    let (passed, failed, line) = rotor_spec::conformance::summary(&cases);
    assert_eq!(failed, 0, "{line}");
    assert_eq!(passed, 4, "{line}");
}

/// An app of several modules that imports a package from `node_modules` through its
/// `package.json` `exports`: the npm-router example, with the test tree's stand-in for
/// itty-router, so that no network is needed.
#[tokio::test(flavor = "multi_thread")]
async fn an_app_of_modules_and_a_package_passes_its_spec() {
    common::guests();
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js-modules/itty-router-stand-in"),
        &dir.path().join("node_modules/itty-router"),
    );
    npm_router_passes_its_spec(dir.path()).await;
}

/// The npm-router example with the real itty-router, where its README's `npm install` ran.
#[tokio::test(flavor = "multi_thread")]
async fn the_npm_router_example_passes_its_spec_with_itty_router() {
    let installed = common::workspace().join("examples/js/npm-router/node_modules");
    if !installed.join("itty-router/package.json").is_file() {
        eprintln!(
            "SKIPPED: itty-router is not installed (`npm install` in examples/js/npm-router); \
             an_app_of_modules_and_a_package_passes_its_spec covers the same app offline"
        );
        return;
    }
    common::guests();
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&installed, &dir.path().join("node_modules"));
    npm_router_passes_its_spec(dir.path()).await;
}

/// An import that names nothing stops the build at the import, naming file, line and column.
#[test]
fn an_unresolvable_import_names_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.js"),
        "import { route } from \"./routes.js\";\nexport default { fetch: route };\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("routes.js"),
        "// routes\nimport { Router } from \"no-such-package\";\nexport const route = Router;\n",
    )
    .unwrap();
    let built = js_build(&dir.path().join("app.js"), &dir.path().join("app.wasm"));
    let stderr = String::from_utf8_lossy(&built.stderr);
    assert!(!built.status.success(), "{stderr}");
    let routes = dir.path().join("routes.js");
    assert!(
        stderr.contains(&format!(
            "{}:2:24: cannot import \"no-such-package\"",
            routes.display()
        )),
        "{stderr}"
    );
    assert!(!dir.path().join("app.wasm").exists());
}

/// The engine is inside `rotor`: building an app runs no cargo and reads nothing of this
/// repository, so it works from any directory with nothing on `PATH`.
#[test]
fn rotor_js_build_needs_no_cargo_and_no_checkout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::workspace().join("examples/js/http-hello/app.js"),
        dir.path().join("app.js"),
    )
    .unwrap();
    let mut build = Command::new(env!("CARGO_BIN_EXE_rotor"));
    build
        .args(["js", "build", "app.js", "-o", "out/app.wasm"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", dir.path().join("nothing-here"));
    // The compiled-code cache, so that this test does not compile the engine again.
    if let Some(home) = std::env::var_os("HOME") {
        build.env("HOME", home);
    }
    if let Some(cache) = std::env::var_os("XDG_CACHE_HOME") {
        build.env("XDG_CACHE_HOME", cache);
    }
    let built = build.output().unwrap();
    let stderr = String::from_utf8_lossy(&built.stderr);
    assert!(built.status.success(), "{stderr}");
    assert!(stderr.contains(", pre-initialized in "), "{stderr}");
    let (_, exports) = common::spin_world::interfaces(&dir.path().join("out/app.wasm"));
    assert!(
        exports
            .iter()
            .any(|e| e == "wasi:http/incoming-handler@0.2.0"),
        "{exports:?}"
    );
}

#[test]
fn a_javascript_component_asks_spin_for_nothing_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("hello.wasm");
    build_ok(
        &common::workspace().join("examples/js/http-hello/app.js"),
        &wasm,
    );
    let (imports, mut exports) = common::spin_world::interfaces(&wasm);
    exports.sort();
    // `wizer-initialize` is what `rotor js build` pre-initializes the component with.
    assert_eq!(
        exports,
        [
            "fermyon:spin/inbound-redis",
            "wasi:http/incoming-handler@0.2.0",
            "wizer-initialize"
        ]
    );
    let foreign: Vec<&String> = imports
        .iter()
        .filter(|i| !common::spin_world::is_spin_import(i))
        .collect();
    assert!(
        foreign.is_empty(),
        "imports Spin does not offer: {foreign:?}"
    );
}

/// An app that calls the host while it loads cannot be snapshotted: the build says so, and
/// the component loads the app on each request instead, with the same answers.
#[tokio::test(flavor = "multi_thread")]
async fn an_app_that_calls_the_host_at_load_time_runs_without_a_snapshot() {
    common::guests();
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("eager.js");
    std::fs::write(
        &app,
        r#"
const greeting = Rotor.variables.get("greeting");
export default { fetch: () => new Response(`${greeting}!`) };
"#,
    )
    .unwrap();
    let wasm = dir.path().join("eager.wasm");
    let built = build_ok(&app, &wasm);
    assert!(built.contains("Not pre-initialized"), "{built}");
    assert!(built.contains("the app will load per request"), "{built}");
    std::fs::write(
        dir.path().join("spin.toml"),
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"eager\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"app\"\n\
             [component.app]\nsource = \"{}\"\nvariables = {{ greeting = \"hi\" }}\n",
            wasm.display()
        ),
    )
    .unwrap();
    let address = common::serve(dir.path(), common::test_engine()).await;
    let response = client::get(address, "/").await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.text(), "hi!");
}

#[test]
fn a_syntax_error_names_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("broken.js");
    std::fs::write(
        &app,
        "export default {\n  fetch(request) {\n    return new Response(\"x\";\n  },\n};\n",
    )
    .unwrap();
    let built = js_build(&app, &dir.path().join("broken.wasm"));
    let stderr = String::from_utf8_lossy(&built.stderr);
    assert!(!built.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:", app.display())),
        "the error should point at line 3: {stderr}"
    );
    assert!(stderr.contains("syntax error"), "{stderr}");
    assert!(!dir.path().join("broken.wasm").exists());
}

/// An app exercising the runtime and the capabilities, one route each.
const CAPABILITIES_APP: &str = r#"
const json = (value, status = 200) => Response.json(value, { status });
const caught = (work) => {
  try { return json({ value: work() }); }
  catch (e) { return json({ name: e.name, kind: e.kind ?? null, message: e.message }, 500); }
};

addEventListener("fetch", (event) => {
  // Thrown before any promise exists: the handler's synchronous path.
  if (event.request.url.endsWith("/throw-now")) throw new Error("thrown at once");
  event.respondWith(route(event.request));
});

async function route(request) {
  const url = new URL(request.url);
  switch (url.pathname) {
    case "/echo": {
      const body = await request.text();
      return new Response(body, {
        status: 201,
        headers: { "x-method": request.method, "x-query": url.searchParams.get("q") ?? "",
                   "x-header": request.headers.get("x-custom") ?? "" },
      });
    }
    case "/kv": return caught(() => {
      const store = Rotor.kv.openDefault();
      store.setJson("k", { n: 1, s: "ü" });
      store.set("raw", new Uint8Array([0, 255]));
      return { json: store.getJson("k"), raw: Array.from(store.get("raw")),
               missing: store.get("nope"), exists: store.exists("k"), keys: store.keys().sort() };
    });
    case "/kv-denied": return caught(() => Rotor.kv.open("secret"));
    case "/sqlite": return caught(() => {
      const db = Rotor.sqlite.openDefault();
      db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER, name TEXT, data BLOB)");
      db.execute("INSERT INTO t VALUES (?, ?, ?)", [7, "seven", new Uint8Array([1, 2])]);
      return db.query("SELECT id, name FROM t WHERE id = ?", [7]);
    });
    case "/sqlite-error": return caught(() => Rotor.sqlite.openDefault().query("SELEC 1"));
    case "/variable": return caught(() => Rotor.variables.get("greeting"));
    case "/variable-missing": return caught(() => Rotor.variables.get("nothing_here"));
    case "/fetch-denied":
      try { await fetch("http://127.0.0.1:9/"); return json({ sent: true }); }
      catch (e) { return json({ name: e.name, kind: e.kind }, 502); }
    case "/throw": throw new Error("boom on purpose");
    case "/reject": return Promise.reject(new TypeError("rejected on purpose"));
    case "/log": console.log("a line", { from: "js" }); return new Response(null, { status: 204 });
    default: return new Response("Not Found", { status: 404 });
  }
}
"#;

fn capabilities_app(dir: &Path) -> PathBuf {
    capabilities_app_with(dir, None)
}

fn capabilities_app_with(dir: &Path, engine: Option<&str>) -> PathBuf {
    let app = dir.join("capabilities.js");
    std::fs::write(&app, CAPABILITIES_APP).unwrap();
    let wasm = dir.join("capabilities.wasm");
    build_ok_with(&app, &wasm, engine);
    std::fs::write(
        dir.join("spin.toml"),
        format!(
            r#"spin_manifest_version = 2

[application]
name = "js-capabilities"

[variables]
greeting = {{ default = "hello from the manifest" }}

[[trigger.http]]
route = "/..."
component = "app"

[component.app]
source = "{}"
key_value_stores = ["default"]
sqlite_databases = ["default"]
variables = {{ greeting = "{{{{ greeting }}}}" }}
"#,
            wasm.display()
        ),
    )
    .unwrap();
    wasm
}

async fn get_json(address: std::net::SocketAddr, path: &str) -> (StatusCode, serde_json::Value) {
    let response = client::get(address, path).await.unwrap();
    let value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("{path}: not JSON: {}", response.text()));
    (response.status, value)
}

#[tokio::test(flavor = "multi_thread")]
async fn capabilities_work_and_refusals_are_rotor_errors() {
    common::guests();
    let dir = tempfile::tempdir().unwrap();
    capabilities_app(dir.path());
    let address = common::serve(dir.path(), common::test_engine()).await;
    capabilities_answer(address).await;
}

/// What the capabilities app answers: requests and responses, key-value, SQLite, variables,
/// and refusals as `RotorError`s with a kind.
async fn capabilities_answer(address: std::net::SocketAddr) {
    let response = client::send(
        address,
        Method::PUT,
        "/echo?q=a%20b",
        &[("x-custom".to_owned(), "yes".to_owned())],
        "ünïcode body",
    )
    .await
    .unwrap();
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.text(), "ünïcode body");
    assert_eq!(response.headers["x-method"], "PUT");
    assert_eq!(response.headers["x-query"], "a b");
    assert_eq!(response.headers["x-header"], "yes");
    assert_eq!(
        response.headers["content-type"],
        "text/plain; charset=utf-8"
    );

    let (status, body) = get_json(address, "/kv").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["value"],
        json!({ "json": { "n": 1, "s": "ü" }, "raw": [0, 255], "missing": null,
                "exists": true, "keys": ["k", "raw"] })
    );
    let (status, body) = get_json(address, "/kv-denied").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["name"], "RotorError");
    assert_eq!(body["kind"], "access-denied", "{body}");

    let (status, body) = get_json(address, "/sqlite").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], json!([{ "id": 7, "name": "seven" }]));
    let (_, body) = get_json(address, "/sqlite-error").await;
    assert_eq!(body["kind"], "io", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("syntax error"),
        "{body}"
    );

    let (_, body) = get_json(address, "/variable").await;
    assert_eq!(body["value"], "hello from the manifest");
    let (_, body) = get_json(address, "/variable-missing").await;
    assert_eq!(body["kind"], "undefined", "{body}");

    let (status, body) = get_json(address, "/fetch-denied").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body, json!({ "name": "RotorError", "kind": "denied" }));
}

#[tokio::test(flavor = "multi_thread")]
async fn uncaught_exceptions_are_500s_and_the_host_keeps_serving() {
    common::guests();
    let dir = tempfile::tempdir().unwrap();
    capabilities_app(dir.path());
    let address = common::serve(dir.path(), common::test_engine()).await;
    for path in ["/throw", "/reject"] {
        let response = client::get(address, path).await.unwrap();
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        // The cause goes to the log, not to the client.
        assert_eq!(response.text(), "Internal Server Error", "{path}");
    }
    let response = client::get(address, "/log").await.unwrap();
    assert_eq!(response.status, StatusCode::NO_CONTENT);
}

#[test]
fn the_log_shows_where_an_exception_was_thrown() {
    common::guests();
    let dir = tempfile::tempdir().unwrap();
    capabilities_app(dir.path());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut up = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["up", "--no-cache", "--listen", &address.to_string()])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        // Compiling the engine takes a while, more so while other tests compile theirs.
        for _ in 0..2400 {
            if let Ok(response) = client::get(address, "/throw").await {
                return response.status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("rotor up did not start");
    });
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    runtime.block_on(async {
        let response = client::get(address, "/throw-now").await.unwrap();
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.text(), "Internal Server Error");
        client::get(address, "/log").await.unwrap();
    });
    up.kill().unwrap();
    let output = up.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    // boa puts the place after the message, QuickJS in a stack trace under it: either way
    // the exception's report names the file, line and column of the `throw`.
    for (message, place) in [
        ("Error: boom on purpose", "capabilities.js:45:"),
        ("Error: thrown at once", "capabilities.js:10:"),
    ] {
        let report = log
            .split(&format!("uncaught exception: {message}"))
            .nth(1)
            .unwrap_or_else(|| panic!("no report of {message:?}: {log}"));
        let report = report.split("uncaught exception").next().unwrap();
        assert!(report.contains(place), "{message} at {place}: {log}");
    }
    assert!(log.contains(r#"[log] a line {"from":"js"}"#), "{log}");
}

/// A Redis-triggered JavaScript app: each message is pushed, upper-cased, onto a list.
const MESSAGE_APP: &str = r#"
export default {
  message(payload) {
    const text = new TextDecoder().decode(payload);
    if (text === "fail") throw new Error("a failing message");
    const redis = Rotor.redis.open(Rotor.variables.get("redis_address"));
    redis.execute("RPUSH", Rotor.variables.get("record_key"), text.toUpperCase());
  },
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_javascript_app_handles_redis_messages() {
    redis_messages_are_recorded_by(MESSAGE_APP).await;
}

/// Serves `app_source` on a Redis channel of its own and checks that it records each message
/// but the failing one, upper-cased, on a list.
async fn redis_messages_are_recorded_by(app_source: &str) {
    use redis::AsyncCommands as _;
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    common::guests();
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("messages.js");
    std::fs::write(&app, app_source).unwrap();
    let wasm = dir.path().join("messages.wasm");
    build_ok(&app, &wasm);
    let channel = common::unique("rotor_js_channel");
    let key = common::unique("rotor_js_records");
    std::fs::write(
        dir.path().join("spin.toml"),
        format!(
            r#"spin_manifest_version = 2

[application]
name = "js-messages"

[application.trigger.redis]
address = "redis://127.0.0.1:6379"

[[trigger.redis]]
channel = "{channel}"
component = "app"

[component.app]
source = "{}"
allowed_outbound_hosts = ["redis://127.0.0.1:6379"]
variables = {{ redis_address = "redis://127.0.0.1:6379", record_key = "{key}" }}
"#,
            wasm.display()
        ),
    )
    .unwrap();
    let app = common::load_app(dir.path(), common::test_engine(), &Default::default())
        .await
        .unwrap();
    let running = app.start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    // Publish until the subscription is live, then the real messages.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let _: i64 = redis.publish(&channel, "ready").await.unwrap();
        let records: Vec<String> = redis.lrange(&key, 0, -1).await.unwrap();
        if records.iter().any(|r| r == "READY") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never subscribed");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let _: i64 = redis.del(&key).await.unwrap();
    for payload in ["first", "fail", "ünïcode"] {
        let _: i64 = redis.publish(&channel, payload).await.unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let records = loop {
        let mut records: Vec<String> = redis.lrange(&key, 0, -1).await.unwrap();
        records.retain(|r| r != "READY");
        if records.len() >= 2 || std::time::Instant::now() > deadline {
            break records;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    running.stop().await.unwrap();
    let _: i64 = redis.del(&key).await.unwrap();
    // The failing message is skipped; the others are handled, each once. The trigger runs
    // messages concurrently, so they may finish in either order.
    let mut records = records;
    records.sort();
    assert_eq!(records, ["FIRST", "ÜNÏCODE"]);
}
