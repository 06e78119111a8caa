//! Variables and secrets through the host: defaults, the environment, Vault (a local stand-in
//! that checks the token and can fail or hang), required variables, and secrets kept out of
//! the logs.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use rotor_host::capabilities::variables::resolve::PROVIDER_FAILED;
use rotor_host::capabilities::StateOptions;
use rotor_spec::client;
use rotor_spec::fixtures::{self, FixtureServer, Reply};
use serde_json::Value;

const VAULT_TOKEN: &str = "hvs.test-token-7f3a";

/// The probe with `[variables]` and component `variables` tables.
fn manifest(app_variables: &str, component_variables: &str, extra: &str) -> String {
    common::probe_manifest(&format!("variables = {{ {component_variables} }}\n{extra}")).replace(
        "[[trigger.http]]",
        &format!("[variables]\n{app_variables}\n\n[[trigger.http]]"),
    )
}

async fn serve(
    manifest: &str,
    environment: &[(&str, &str)],
    runtime_config: Option<String>,
) -> (SocketAddr, tempfile::TempDir) {
    let options = StateOptions {
        environment: Some(common::map(environment)),
        ..StateOptions::default()
    };
    common::serve_manifest(manifest, runtime_config.as_deref(), options).await
}

fn vault_config(url: &str, token: &str) -> String {
    format!("[[config_provider]]\ntype = \"vault\"\nurl = \"{url}\"\ntoken = \"{token}\"\nmount = \"secret\"\nprefix = \"app\"\n")
}

/// Reads variable `name` through the probe: `Ok(value)` or `Err((kind, message))`.
async fn read(address: SocketAddr, name: &str) -> Result<String, (String, String)> {
    let response = client::send(address, Method::GET, &format!("/variables/{name}"), &[], "")
        .await
        .unwrap();
    if response.status == StatusCode::OK {
        return Ok(response.text());
    }
    let error: Value = serde_json::from_slice(&response.body).unwrap();
    Err((
        error["error"].as_str().unwrap().to_owned(),
        error["message"].as_str().unwrap().to_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn defaults_environment_and_templates() {
    let manifest = manifest(
        "region = { default = \"eu\" }\nhost = { default = \"example.com\" }",
        "region = \"{{ region }}\", url = \"https://{{ host }}/{{ region }}/v1\", fixed = \"plain\"",
        "",
    );
    let (address, _dir) = serve(&manifest, &[], None).await;
    assert_eq!(read(address, "region").await.unwrap(), "eu");
    assert_eq!(
        read(address, "url").await.unwrap(),
        "https://example.com/eu/v1"
    );
    assert_eq!(read(address, "fixed").await.unwrap(), "plain");

    // The environment comes before the default.
    let (address, _dir) = serve(&manifest, &[("SPIN_VARIABLE_REGION", "us")], None).await;
    assert_eq!(
        read(address, "url").await.unwrap(),
        "https://example.com/us/v1"
    );

    // Only the component's own variables are readable, and names are checked.
    let (kind, _) = read(address, "host").await.unwrap_err();
    assert_eq!(kind, "undefined");
    let (kind, _) = read(address, "Not-Valid").await.unwrap_err();
    assert_eq!(kind, "invalid-name");
}

#[tokio::test(flavor = "multi_thread")]
async fn vault_provides_secrets_and_its_failures_are_clear() {
    let vault = FixtureServer::start(fixtures::fake_vault(
        VAULT_TOKEN,
        "secret",
        BTreeMap::from([("app/api_key".to_owned(), "vault-value-123".to_owned())]),
    ))
    .await
    .unwrap();
    let manifest = manifest(
        "api_key = { default = \"fallback\", secret = true }\nmissing = { default = \"from-default\" }",
        "api_key = \"{{ api_key }}\", missing = \"{{ missing }}\"",
        "",
    );

    let (address, _dir) = serve(
        &manifest,
        &[],
        Some(vault_config(&vault.url(), VAULT_TOKEN)),
    )
    .await;
    assert_eq!(read(address, "api_key").await.unwrap(), "vault-value-123");
    // A secret Vault does not have falls through to the default.
    assert_eq!(read(address, "missing").await.unwrap(), "from-default");
    // As in Spin, the runtime config's providers come before the environment.
    let (address, _dir) = serve(
        &manifest,
        &[("SPIN_VARIABLE_API_KEY", "from-env")],
        Some(vault_config(&vault.url(), VAULT_TOKEN)),
    )
    .await;
    assert_eq!(read(address, "api_key").await.unwrap(), "vault-value-123");

    // A required secret Vault does not have: the app is refused before it serves, and the
    // error says where Rotor looked.
    let required = manifest.replace(
        "missing = { default = \"from-default\" }",
        "missing = { required = true }",
    );
    let dir = common::app_dir(&required);
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(&config, vault_config(&vault.url(), VAULT_TOKEN)).unwrap();
    let error = common::load_app(
        dir.path(),
        common::test_engine(),
        &StateOptions {
            runtime_config: Some(config),
            environment: Some(BTreeMap::new()),
            ..StateOptions::default()
        },
    )
    .await
    .err()
    .expect("a required variable without a value must be refused")
    .to_string();
    assert!(error.contains("`missing`"), "{error}");
    assert!(
        error.contains(&format!("Vault at {} has no secret", vault.url())),
        "{error}"
    );

    // A wrong token: a provider error, which tells the guest neither the token nor where
    // Vault is (the host's log says why).
    let (address, _dir) = serve(
        &manifest,
        &[],
        Some(vault_config(&vault.url(), "wrong-token")),
    )
    .await;
    let (kind, message) = read(address, "api_key").await.unwrap_err();
    assert_eq!(kind, "provider");
    assert_eq!(message, PROVIDER_FAILED);
    assert!(!message.contains(&vault.url()), "{message}");

    // A Vault nobody listens on.
    let port = common::closed_port();
    let (address, _dir) = serve(
        &manifest,
        &[],
        Some(vault_config(
            &format!("http://127.0.0.1:{port}"),
            VAULT_TOKEN,
        )),
    )
    .await;
    let (kind, message) = read(address, "api_key").await.unwrap_err();
    assert_eq!(kind, "provider");
    assert_eq!(message, PROVIDER_FAILED);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_vault_is_a_provider_error_not_a_hang() {
    let vault = FixtureServer::start(Arc::new(|_: &_| Reply::Hang))
        .await
        .unwrap();
    let manifest = manifest(
        "api_key = { default = \"fallback\" }",
        "api_key = \"{{ api_key }}\"",
        "",
    );
    let dir = common::app_dir(&manifest);
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(&config, vault_config(&vault.url(), VAULT_TOKEN)).unwrap();
    // The probe's deadline must outlast Vault's five-second limit.
    let engine = rotor_host::engine::Engine::new(rotor_host::engine::EngineConfig {
        request_deadline: Duration::from_secs(20),
        max_instance_memory: 64 << 20,
        cache_dir: None,
        ..Default::default()
    })
    .unwrap();
    let options = StateOptions {
        runtime_config: Some(config),
        environment: Some(BTreeMap::new()),
        ..StateOptions::default()
    };
    let address = common::serve_with(dir.path(), engine, &options).await;
    let started = Instant::now();
    let (kind, message) = read(address, "api_key").await.unwrap_err();
    assert_eq!(kind, "provider");
    assert_eq!(message, PROVIDER_FAILED);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

/// `rotor up` on the app in `dir` with `extra` arguments and debug logging, its stdout and
/// stderr captured.
fn rotor_up(dir: &std::path::Path, extra: &[&std::ffi::OsStr]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["up", "--listen", "127.0.0.1:0", "--no-cache"])
        .args(extra)
        .arg(dir)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_missing_required_variable_stops_rotor_up_before_serving() {
    common::guests();
    let dir = common::app_dir(&manifest(
        "api_token = { required = true, secret = true }",
        "token = \"{{ api_token }}\"",
        "",
    ));
    let child = rotor_up(dir.path(), &[]);
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("api_token"), "{stderr}");
    assert!(stderr.contains("spin.toml"), "{stderr}");
    assert!(stderr.contains("SPIN_VARIABLE_API_TOKEN"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Serving"));
}

#[test]
fn variable_arguments_come_before_every_provider() {
    common::guests();
    let dir = common::app_dir(&manifest(
        "greeting = { default = \"from-default\" }\nname = { required = true }",
        "greeting = \"{{ greeting }}\", name = \"{{ name }}\"",
        "",
    ));
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(
        &config,
        "[[variables_provider]]\ntype = \"static\"\nvalues = { greeting = \"from-static\", name = \"static-name\" }\n",
    )
    .unwrap();
    let file = dir.path().join("more.json");
    std::fs::write(&file, r#"{ "name": "from-file" }"#).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["up", "--listen", "127.0.0.1:0", "--no-cache"])
        .args(["--variable", "greeting=from-cli=with-equals"])
        .arg("--variable")
        .arg(format!("@{}", file.display()))
        .arg("--runtime-config-file")
        .arg(&config)
        .arg(dir.path())
        .env("SPIN_VARIABLE_GREETING", "from-env")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take().unwrap());
    let (first_line, stdout_rest) = first_line_then_drain(child.stdout.take().unwrap());
    let address: Option<SocketAddr> = first_line
        .rsplit("http://")
        .next()
        .and_then(|a| a.trim().parse().ok());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let values = address.map(|address| {
        runtime.block_on(async { (read(address, "greeting").await, read(address, "name").await) })
    });
    let _ = child.kill();
    let _ = child.wait();
    let logs = stderr.join().unwrap();
    let _ = stdout_rest.join();
    let (greeting, name) = values.unwrap_or_else(|| panic!("rotor up did not serve: {logs}"));
    assert_eq!(greeting.unwrap(), "from-cli=with-equals");
    assert_eq!(name.unwrap(), "from-file");
}

#[test]
fn a_malformed_variable_argument_is_refused() {
    let dir = common::app_dir(&manifest("greeting = { default = \"x\" }", "", ""));
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args([
            "up",
            "--listen",
            "127.0.0.1:0",
            "--no-cache",
            "--variable",
            "no-equals-sign",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("expected NAME=VALUE or @FILE"), "{stderr}");
}

#[test]
fn secrets_stay_out_of_the_logs() {
    common::guests();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    const SECRET: &str = "s3cret-from-vault-9c1e";
    let vault = runtime
        .block_on(FixtureServer::start(fixtures::fake_vault(
            VAULT_TOKEN,
            "secret",
            BTreeMap::from([("app/api_key".to_owned(), SECRET.to_owned())]),
        )))
        .unwrap();
    let dir = common::app_dir(&manifest(
        "api_key = { required = true, secret = true }",
        "api_key = \"{{ api_key }}\"",
        "allowed_outbound_hosts = [\"https://allowed.example.com\"]",
    ));
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(&config, vault_config(&vault.url(), VAULT_TOKEN)).unwrap();

    let mut child = rotor_up(
        dir.path(),
        &["--runtime-config-file".as_ref(), config.as_os_str()],
    );
    // Both pipes are drained all along: a full pipe would stall the host mid-log.
    let stderr = drain(child.stderr.take().unwrap());
    let (first_line, stdout_rest) = first_line_then_drain(child.stdout.take().unwrap());
    let address: SocketAddr = first_line
        .rsplit("http://")
        .next()
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("no address in {first_line:?}"));

    // The secret travels in the path of a request the host must deny and log.
    let call = serde_json::json!({
        "url": "https://denied.example.com/callback?key=",
        "url_from_variable": "api_key",
    });
    let reply = runtime
        .block_on(client::send(
            address,
            Method::POST,
            "/outbound",
            &[],
            call.to_string(),
        ))
        .unwrap();
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.text());
    assert!(reply.text().contains("denied"), "{}", reply.text());

    let _ = child.kill();
    let _ = child.wait();
    let logs = stderr.join().unwrap();
    let _ = stdout_rest.join();
    assert!(
        logs.contains("denied.example.com"),
        "the denial should be logged: {logs}"
    );
    assert!(
        !logs.contains(SECRET),
        "the secret leaked into the logs: {logs}"
    );
    assert!(
        !logs.contains(VAULT_TOKEN),
        "the token leaked into the logs: {logs}"
    );
}

/// Reads `pipe` to its end on a thread of its own; the thread returns what it read.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// The first line of `pipe`, and a thread that drains the rest.
fn first_line_then_drain(
    pipe: impl Read + Send + 'static,
) -> (String, std::thread::JoinHandle<String>) {
    let mut reader = BufReader::new(pipe);
    let mut line = String::new();
    let _ = reader.read_line(&mut line);
    (line, drain(reader))
}
