//! Helpers shared by the host's integration tests: building guests, writing apps, serving them.
#![allow(dead_code)]

pub mod spin_world;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rotor_host::capabilities::StateOptions;
use rotor_host::engine::{Engine, EngineConfig};
use rotor_host::manifest::Manifest;
use rotor_host::{App, AppOptions};

/// The guests are those `cargo xtask test` builds.
#[path = "../../../../xtask/src/guests.rs"]
mod guest_crates;
use guest_crates::{GUEST_CRATES, WASIP1_CRATES};

/// The built WAGI module of `crate_name`.
pub fn wagi_guest(crate_name: &str) -> PathBuf {
    guests();
    workspace().join(format!("target/wasm32-wasip1/release/{crate_name}.wasm"))
}

/// The core module (built for wasm32-wasip1) of component crate `crate_name`.
pub fn core_module_guest(crate_name: &str) -> PathBuf {
    guests();
    workspace().join(format!(
        "target/wasm32-wasip1/release/{}.wasm",
        crate_name.replace('-', "_")
    ))
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    // Every test crate sits at `test-host/<crate>`.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_owned()
}

/// Builds every guest for wasm32-wasip2 once per test binary; returns their directory.
pub fn guests() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(workspace())
            .args(["build", "--release", "--target", "wasm32-wasip2"]);
        for guest in GUEST_CRATES {
            command.args(["-p", guest]);
        }
        let status = command.status().expect("running cargo to build the guests");
        assert!(status.success(), "building the guest components failed; is the wasm32-wasip2 target installed? (`rustup target add wasm32-wasip2`)");
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command
            .current_dir(workspace())
            .args(["build", "--release", "--target", "wasm32-wasip1"]);
        for guest in WASIP1_CRATES {
            command.args(["-p", guest]);
        }
        let status = command.status().expect("running cargo to build the WAGI guests");
        assert!(status.success(), "building the WAGI modules failed; is the wasm32-wasip1 target installed? (`rustup target add wasm32-wasip1`)");
        workspace().join("target/wasm32-wasip2/release")
    })
}

/// The built component of `crate_name` (with `-` as `_`).
pub fn guest(crate_name: &str) -> PathBuf {
    guests().join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// An engine with a short deadline, a small memory cap and no shared cache.
pub fn test_engine() -> Arc<Engine> {
    Engine::new(EngineConfig {
        request_deadline: Duration::from_secs(2),
        max_instance_memory: 64 << 20,
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("building the engine")
}

/// A temporary app directory holding `spin.toml` with `manifest`.
pub fn app_dir(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    dir
}

/// A manifest with one HTTP route to one component whose source is `source`.
pub fn one_route_manifest(route: &str, source: &Path) -> String {
    format!(
        r#"spin_manifest_version = 2

[application]
name = "test-app"

[[trigger.http]]
route = "{route}"
component = "probe"

[component.probe]
source = "{}"
"#,
        source.display()
    )
}

/// A manifest routing `/...` to the probe guest, with `grants` (TOML lines such as
/// `key_value_stores = ["default"]`) in its component table.
pub fn probe_manifest(grants: &str) -> String {
    format!("{}{grants}\n", one_route_manifest("/...", &guest("probe")))
}

/// Loads the app in `dir` and serves it on an ephemeral port.
pub async fn serve(dir: &Path, engine: Arc<Engine>) -> SocketAddr {
    serve_with(dir, engine, &StateOptions::default()).await
}

/// Like [`serve`], with explicit state options (runtime config, state directory).
pub async fn serve_with(dir: &Path, engine: Arc<Engine>, options: &StateOptions) -> SocketAddr {
    let app = load_app(dir, engine, options)
        .await
        .expect("loading the app");
    let serving = app
        .start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("serving the app");
    serving.address.expect("the app has HTTP routes")
}

/// Loads the app in `dir`, as `rotor up` would, without serving it.
pub async fn load_app(
    dir: &Path,
    engine: Arc<Engine>,
    options: &StateOptions,
) -> anyhow::Result<App> {
    let manifest = Manifest::load(&dir.join("spin.toml"))?;
    App::load(
        &manifest,
        &AppOptions {
            engine,
            state: options.clone(),
        },
    )
    .await
}

/// Serves the probe guest at `/...` and returns its address.
pub async fn serve_probe(engine: Arc<Engine>) -> (SocketAddr, tempfile::TempDir) {
    let dir = app_dir(&one_route_manifest("/...", &guest("probe")));
    let address = serve(dir.path(), engine).await;
    (address, dir)
}

/// Serves the probe with `grants`, reading `runtime_config` (TOML) as its runtime config file.
pub async fn serve_probe_with_runtime_config(
    grants: &str,
    runtime_config: &str,
) -> (SocketAddr, tempfile::TempDir) {
    serve_manifest(
        &probe_manifest(grants),
        Some(runtime_config),
        StateOptions::default(),
    )
    .await
}

/// Serves an app whose `spin.toml` is `manifest`, with `runtime_config` (TOML), when given,
/// written beside it as its runtime config file, and the rest of `options`.
pub async fn serve_manifest(
    manifest: &str,
    runtime_config: Option<&str>,
    mut options: StateOptions,
) -> (SocketAddr, tempfile::TempDir) {
    let dir = app_dir(manifest);
    if let Some(text) = runtime_config {
        let config = dir.path().join("runtime-config.toml");
        std::fs::write(&config, text).unwrap();
        options.runtime_config = Some(config);
    }
    let address = serve_with(dir.path(), test_engine(), &options).await;
    (address, dir)
}

/// `(name, value)` pairs as the map an environment or `--variable` values are given as.
pub fn map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether the service at `address` accepts connections. When it does not: under `CI=true`
/// the test fails, naming the service; locally it is skipped, loudly.
pub fn service_available(name: &str, address: &str) -> bool {
    if std::net::TcpStream::connect(address).is_ok() {
        return true;
    }
    let message =
        format!("{name} is not reachable at {address}; start it (see the environment notes)");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("SKIPPED: {message}");
    false
}

/// A client of the machine's Mosquitto subscribed to `topic`, returned once the broker has
/// confirmed the subscription: the client (keep it alive) and its event loop, to poll for
/// the messages.
pub async fn mqtt_subscriber(topic: &str) -> (rumqttc::AsyncClient, rumqttc::EventLoop) {
    let (client, mut events) = rumqttc::AsyncClient::new(
        rumqttc::MqttOptions::new(unique("rotor-sub"), "127.0.0.1", 1883),
        16,
    );
    client
        .subscribe(topic, rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    loop {
        if let rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_)) = events.poll().await.unwrap() {
            return (client, events);
        }
    }
}

/// A name unique to this process and call, for keys and table names shared services see.
pub fn unique(name: &str) -> String {
    format!("{name}_{}", rotor_spec::fixtures::run_id())
}

/// POSTs `body` to `path` of the app at `address`, as the probe's capability routes take
/// their calls, and returns the status and the JSON the app answered.
pub async fn post_json(
    address: SocketAddr,
    path: &str,
    body: &serde_json::Value,
) -> (http::StatusCode, serde_json::Value) {
    let response =
        rotor_spec::client::send(address, http::Method::POST, path, &[], body.to_string())
            .await
            .unwrap();
    let json = serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("{path}: not JSON: {}", response.text()));
    (response.status, json)
}

/// A local TCP port that nothing listens on (it was free a moment ago), for connections
/// that must be refused.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `DbDataType` names of a probe's query result's `columns`, without the enum's prefix.
pub fn column_types(result: &serde_json::Value) -> Vec<&str> {
    result["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("no columns: {result}"))
        .iter()
        .map(|c| {
            c["type"]
                .as_str()
                .unwrap()
                .trim_start_matches("DbDataType::")
        })
        .collect()
}

/// Runs `openssl` with `args` in `dir` (the tests make their CAs and certificates with it);
/// whether it worked, with its complaint when not.
pub fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    match std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
    {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
        Err(error) => Err(error.to_string()),
    }
}

/// A test CA, `ca.pem` and its key `ca.key`, written into `dir` by `openssl`.
pub fn make_test_ca(dir: &Path) -> Result<(), String> {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Rotor test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    )
}

/// `NAME.pem` and its key `NAME.key`, a server certificate for `names` (a subjectAltName
/// value such as `DNS:localhost,IP:127.0.0.1`) signed by the CA of [`make_test_ca`] in `dir`.
pub fn make_test_certificate(dir: &Path, name: &str, names: &str) -> Result<(), String> {
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        format!("subjectAltName={names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=rotor test server",
            "-keyout",
            &key,
            "-out",
            &csr,
        ],
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
    )
}
