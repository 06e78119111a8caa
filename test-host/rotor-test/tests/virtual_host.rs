//! The virtual host itself, on the host's probe guest: stubs and their typed answers,
//! unstubbed and denied calls, stores any component names.

use std::path::PathBuf;
use std::sync::OnceLock;

use rotor_test::stubs::{HttpStub, MqttStub, RedisStub};
use rotor_test::{HttpFailure, RedisReply, VirtualHost, VirtualHostBuilder};
use serde_json::json;

/// The probe component, built once per test binary as the host's tests build it.
fn probe() -> &'static PathBuf {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let status = std::process::Command::new(env!("CARGO"))
            .current_dir(&workspace)
            .args([
                "build",
                "--quiet",
                "--release",
                "--target",
                "wasm32-wasip2",
                "-p",
                "probe",
            ])
            .status()
            .expect("running cargo");
        assert!(
            status.success(),
            "building the probe failed; is the wasm32-wasip2 target installed?"
        );
        workspace.join("target/wasm32-wasip2/release/probe.wasm")
    })
}

/// A probe app granted `grants` (TOML lines of its component), in a directory of its own.
fn probe_app(grants: &str) -> (tempfile::TempDir, VirtualHostBuilder) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"probe\"\n\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"probe\"\n\n[component.probe]\nsource = {:?}\n{grants}\n",
        probe().display().to_string()
    );
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    let builder = VirtualHost::builder(dir.path());
    (dir, builder)
}

fn outbound(host: &VirtualHost, url: &str) -> serde_json::Value {
    host.post_json("/outbound", &json!({ "url": url })).json()
}

#[test]
fn a_call_no_stub_answers_fails_the_test_naming_the_stub_to_write() {
    let (_dir, builder) = probe_app(r#"allowed_outbound_hosts = ["https://api.test"]"#);
    let host = builder.load().unwrap();
    let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        outbound(&host, "https://api.test/users?page=2")
    }))
    .expect_err("an unstubbed request fails the test");
    let message = failure.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("HTTP request from component `probe`: GET https://api.test/users?page=2"),
        "{message}"
    );
    assert!(
        message.contains(r#"HttpStub::new("GET", "https://api.test/users?page=2")"#),
        "{message}"
    );
}

#[test]
fn allowed_unstubbed_calls_reach_the_guest_as_errors() {
    let (_dir, builder) = probe_app(r#"allowed_outbound_hosts = ["https://api.test"]"#);
    let host = builder.allow_unstubbed_calls().load().unwrap();
    let answer = outbound(&host, "https://api.test/x");
    assert!(answer["error"].is_string(), "{answer}");
    host.calls().assert_lines(&["http GET https://api.test/x"]);
}

#[test]
fn a_stub_answers_with_its_status_headers_and_body_and_the_last_added_wins() {
    let (_dir, builder) = probe_app(r#"allowed_outbound_hosts = ["https://api.test"]"#);
    let host = builder
        .stub(HttpStub::get("https://api.test/*").status(500))
        .stub(
            HttpStub::get("https://api.test/users/*")
                .status(201)
                .header("x-from", "stub")
                .body("made"),
        )
        .load()
        .unwrap();
    let answer = outbound(&host, "https://api.test/users/7");
    assert_eq!(answer["status"], 201);
    assert_eq!(answer["body"], "made");
    assert!(
        answer["headers"]
            .as_array()
            .unwrap()
            .contains(&json!(["x-from", "stub"])),
        "{answer}"
    );
    host.stub(HttpStub::get("https://api.test/users/7").fail(HttpFailure::ConnectionRefused));
    assert_eq!(
        outbound(&host, "https://api.test/users/7")["error"],
        "connect"
    );
    assert_eq!(outbound(&host, "https://api.test/other")["status"], 500);
}

#[test]
fn a_host_outside_allowed_outbound_hosts_is_denied_before_any_stub() {
    let (_dir, builder) = probe_app(r#"allowed_outbound_hosts = ["https://api.test"]"#);
    let host = builder.stub(HttpStub::new("*", "*")).load().unwrap();
    assert_eq!(
        outbound(&host, "https://elsewhere.test/")["error"],
        "denied"
    );
    host.calls().assert_lines(&[]);
}

#[test]
fn redis_stubs_answer_typed_calls_and_raw_commands() {
    let (_dir, builder) = probe_app(r#"allowed_outbound_hosts = ["redis://cache.test:6379"]"#);
    let host = builder
        .stub(RedisStub::new("GET", "greeting").reply(vec![RedisReply::Binary(b"hi".to_vec())]))
        .stub(RedisStub::new("INCR", "hits").reply(vec![RedisReply::Int(42)]))
        .stub(RedisStub::new("SMEMBERS", "tags").reply(vec![
            RedisReply::Binary(b"b".to_vec()),
            RedisReply::Binary(b"a".to_vec()),
        ]))
        .stub(RedisStub::new("HSET", "*").reply(vec![RedisReply::Int(1)]))
        .load()
        .unwrap();
    let call = |body: serde_json::Value| {
        let mut body = body;
        body["address"] = json!("redis://cache.test:6379");
        host.post_json("/redis", &body).json()
    };
    assert_eq!(
        call(json!({"command": "get", "key": "greeting"}))["result"],
        "hi"
    );
    assert_eq!(
        call(json!({"command": "incr", "key": "hits"}))["result"],
        42
    );
    assert_eq!(
        call(json!({"command": "smembers", "key": "tags"}))["result"],
        json!(["a", "b"])
    );
    assert_eq!(
        call(json!({"command": "execute", "name": "hset", "args": ["h", "f", 5]}))["result"],
        json!([{"int64": 1}])
    );
    host.calls().assert_lines(&[
        "redis redis://cache.test:6379: GET greeting",
        "redis redis://cache.test:6379: INCR hits",
        "redis redis://cache.test:6379: SMEMBERS tags",
        "redis redis://cache.test:6379: HSET h f 5",
    ]);
}

#[test]
fn mqtt_messages_are_recorded_with_their_user_and_qos() {
    let (_dir, builder) = probe_app(r#"allowed_outbound_hosts = ["mqtt://broker.test:1883"]"#);
    let host = builder.stub(MqttStub::topic("sensors/#")).load().unwrap();
    let published = host.post_json(
        "/mqtt",
        &json!({"address": "mqtt://broker.test:1883", "username": "ada", "topic": "sensors/#", "payload": "21.5", "qos": 1}),
    );
    published.assert_status(200);
    host.calls()
        .assert_lines(&["mqtt mqtt://broker.test:1883: publish sensors/# (qos 1) 21.5"]);
}

#[test]
fn any_store_a_component_names_exists_and_others_are_denied() {
    let (_dir, builder) = probe_app(r#"key_value_stores = ["default", "cache"]"#);
    let host = builder.key_value("cache", "seeded", "yes").load().unwrap();
    assert_eq!(
        host.get("/kv/cache/seeded").assert_status(200).text(),
        "yes"
    );
    host.send("PUT", "/kv/cache/fresh", "new")
        .assert_status(204);
    assert_eq!(host.key_value("cache", "fresh"), Some(b"new".to_vec()));
    let denied = host.get("/kv/secrets/x");
    assert!(
        denied.text().contains("access-denied") || denied.text().contains("AccessDenied"),
        "{}",
        denied.text()
    );
    host.calls()
        .assert_lines(&["key-value cache: set fresh = new"]);
}

#[test]
fn sqlite_databases_are_in_memory_one_set_per_host() {
    let (dir, builder) = probe_app(r#"sqlite_databases = ["audit"]"#);
    let host = builder
        .sqlite(
            "audit",
            "CREATE TABLE log (entry TEXT); INSERT INTO log VALUES ('seeded');",
        )
        .load()
        .unwrap();
    let inserted = host.post_json(
        "/sqlite/audit",
        &json!({"sql": "INSERT INTO log VALUES (?)", "params": [{"text": "from the guest"}]}),
    );
    inserted.assert_status(200);
    assert_eq!(
        host.sqlite("audit", "SELECT entry FROM log ORDER BY rowid"),
        vec![
            vec![rotor_test::SqlValue::Text("seeded".into())],
            vec![rotor_test::SqlValue::Text("from the guest".into())]
        ]
    );
    host.calls()
        .assert_lines(&[r#"sqlite audit: INSERT INTO log VALUES (?) ["from the guest"]"#]);
    // Another host of the same app starts from nothing, and neither wrote a file.
    let (_other_dir, other) = probe_app(r#"sqlite_databases = ["audit"]"#);
    let other = other.load().unwrap();
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        other.sqlite("audit", "SELECT entry FROM log")
    }))
    .is_err());
    assert!(!dir.path().join(".spin").exists());
}

#[test]
fn raw_sockets_are_refused_even_where_allowed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let (_dir, builder) = probe_app(r#"allowed_outbound_hosts = ["*://127.0.0.1:*"]"#);
    let host = builder.load().unwrap();
    let response = host.send("POST", "/tcp", address.to_string());
    response.assert_status(502);
    assert!(
        listener.accept().is_err(),
        "the guest reached a real socket"
    );
}

#[test]
fn build_first_runs_the_build_commands_once_per_process() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"built\"\n\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"probe\"\n\n[component.probe]\nsource = \"built.wasm\"\n\n[component.probe.build]\ncommand = \"cp {} built.wasm && echo built >> builds.log\"\n",
        probe().display()
    );
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    for _ in 0..2 {
        let host = VirtualHost::builder(dir.path())
            .build_first()
            .load()
            .unwrap();
        host.get("/echo").assert_status(200);
    }
    let log = std::fs::read_to_string(dir.path().join("builds.log")).unwrap();
    assert_eq!(log, "built\n");
    // Without a build, a missing component is an error that names it.
    let unbuilt = tempfile::tempdir().unwrap();
    std::fs::write(
        unbuilt.path().join("spin.toml"),
        "spin_manifest_version = 2\n[application]\nname = \"unbuilt\"\n\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"probe\"\n\n[component.probe]\nsource = \"missing.wasm\"\n",
    )
    .unwrap();
    let error = VirtualHost::load(unbuilt.path())
        .err()
        .expect("nothing to load");
    assert!(format!("{error:#}").contains("missing.wasm"), "{error:#}");
}
