//! Secrets stay secret: a run of `rotor up` that goes down every error path a secret can
//! travel (database, Redis and MQTT addresses with passwords, a Vault that refuses its
//! token, a secret in an outbound URL, a secret `allowed_outbound_hosts` template that does
//! not make an entry, a Redis trigger address with a password) logs at debug level, and
//! neither that log nor any answer the guest passed back holds a secret value. The guest is
//! told that a provider failed, not where the provider is.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::io::Read as _;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::Method;
use rotor_spec::client;
use rotor_spec::fixtures::{fake_vault, FixtureServer};
use serde_json::json;

/// The value of the secret variable `db_password`, used as every password below.
const PASSWORD: &str = "pw-5ecret-7f3a91";
/// The token `rotor up` gives Vault, which Vault refuses.
const VAULT_TOKEN: &str = "vault-t0ken-c0ffee";
/// The value of a secret variable that does not make an `allowed_outbound_hosts` entry.
const HOST_SECRET: &str = "h0st-5ecret-55aa";

const LOG_LEVEL: &str = "debug,cranelift=info,wasmtime=info,wasmtime_cranelift=info";

/// `rotor up` with its output read as it comes (a full pipe would stop it).
struct Running {
    child: Child,
    first_line: std::sync::mpsc::Receiver<String>,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

fn rotor_up(dir: &std::path::Path, runtime_config: &std::path::Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["up", "--no-cache", "--listen", "127.0.0.1:0"])
        .arg("--runtime-config-file")
        .arg(runtime_config)
        .args(["--variable", &format!("db_password={PASSWORD}")])
        .args(["--variable", &format!("host_entry=bad entry {HOST_SECRET}")])
        .arg(dir)
        .env("RUST_LOG", LOG_LEVEL)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (first, first_line) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
            let Ok(line) = line else { break };
            let _ = first.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = stderr.read_to_string(&mut all);
        all
    });
    Running {
        child,
        first_line,
        stdout,
        stderr,
    }
}

impl Running {
    /// The address of the first line, `Serving ... on http://ADDRESS`.
    fn address(&self) -> SocketAddr {
        let line = self
            .first_line
            .recv_timeout(Duration::from_secs(60))
            .expect("rotor up printed no address");
        assert_no_secret(&line, "the banner");
        line.trim()
            .rsplit_once("http://")
            .and_then(|(_, address)| address.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
    }

    /// Everything it wrote, once it has stopped (after SIGTERM, or on its own).
    fn output(mut self, terminate: bool) -> String {
        if terminate {
            Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "rotor up did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut all = self.stdout.join().unwrap();
        all.push_str(&self.stderr.join().unwrap());
        all
    }
}

fn assert_no_secret(text: &str, what: &str) {
    for secret in [PASSWORD, VAULT_TOKEN, HOST_SECRET] {
        assert!(
            !text.contains(secret),
            "{what} shows the secret {secret:?}:\n{text}"
        );
    }
}

fn manifest(grants: &str) -> String {
    format!(
        r#"spin_manifest_version = 2

[application]
name = "secrets"

[application.trigger.redis]
address = "redis://:{PASSWORD}@127.0.0.1:{closed}"

[variables]
db_password = {{ required = true, secret = true }}
api_key = {{ default = "from-the-default", secret = true }}
host_entry = {{ required = true, secret = true }}

[[trigger.http]]
route = "/..."
component = "probe"

[[trigger.redis]]
channel = "never-published"
component = "recorder"

[component.probe]
source = "{probe}"
{grants}
variables = {{ password = "{{{{ db_password }}}}", api_key = "{{{{ api_key }}}}" }}

[component.recorder]
source = "{recorder}"
"#,
        closed = common::closed_port(),
        probe = common::guest("probe").display(),
        recorder = common::guest("redis-probe").display(),
    )
}

#[test]
fn no_secret_reaches_the_log_or_the_guest() {
    for (name, address) in [
        ("PostgreSQL", "127.0.0.1:5432"),
        ("MariaDB", "127.0.0.1:3306"),
        ("Redis", "127.0.0.1:6379"),
        ("Mosquitto", "127.0.0.1:1883"),
    ] {
        if !common::service_available(name, address) {
            return;
        }
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let vault = runtime
        .block_on(FixtureServer::start(fake_vault(
            "the-right-token",
            "secret",
            [("api_key".to_owned(), "never-read".to_owned())].into(),
        )))
        .unwrap();
    let closed = common::closed_port();
    let state = tempfile::tempdir().unwrap();
    let runtime_config = state.path().join("runtime-config.toml");
    std::fs::write(
        &runtime_config,
        format!(
            "[[variables_provider]]\ntype = \"vault\"\nurl = \"{}\"\ntoken = \"{VAULT_TOKEN}\"\nmount = \"secret\"\n",
            vault.url()
        ),
    )
    .unwrap();

    // A secret template that does not make an entry stops the app at load, naming the
    // template.
    let dir = common::app_dir(&manifest("allowed_outbound_hosts = [\"{{ host_entry }}\"]"));
    let output = rotor_up(dir.path(), &runtime_config).output(false);
    assert!(output.contains("{{ host_entry }}"), "{output}");
    assert_no_secret(&output, "a load error");

    let grants: Vec<String> = [
        "postgres://127.0.0.1:5432",
        "mysql://127.0.0.1:3306",
        "redis://127.0.0.1:6379",
        "mqtt://127.0.0.1:1883",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(
        ["postgres", "mysql", "redis", "mqtt", "http"]
            .into_iter()
            .map(|scheme| format!("{scheme}://127.0.0.1:{closed}")),
    )
    .collect();
    let dir = common::app_dir(&manifest(&format!(
        "allowed_outbound_hosts = {}",
        serde_json::to_string(&grants).unwrap()
    )));
    let rotor = rotor_up(dir.path(), &runtime_config);
    let address = rotor.address();

    runtime.block_on(async {
        let pw = PASSWORD;
        let database = |path: &str, address: String| {
            (path.to_owned(), json!({"address": address, "statement": "SELECT 1", "params": [], "execute": false}))
        };
        let calls = [
            // Refused connections, and a server that refuses the password.
            database("/rdbms/pg", format!("postgres://postgres:{pw}@127.0.0.1:{closed}/test")),
            database("/rdbms/mysql", format!("mysql://root:{pw}@127.0.0.1:{closed}/test")),
            database("/rdbms/mysql", format!("mysql://root:{pw}@127.0.0.1:3306/test")),
            database("/rdbms/pg", format!("postgres://postgres:{pw}@127.0.0.1:5432/no_such_db")),
            // An address outside the grant, and one that is not an address.
            database("/rdbms/pg", format!("postgres://postgres:{pw}@10.9.8.7:5432/test")),
            database("/rdbms/mysql", format!("mysql://root:{pw}@[not-an-address")),
            (
                "/redis".to_owned(),
                json!({"address": format!("redis://:{pw}@127.0.0.1:{closed}"), "command": "get", "key": "k"}),
            ),
            (
                "/redis".to_owned(),
                json!({"address": format!("redis://:{pw}@127.0.0.1:6379"), "command": "get", "key": "k"}),
            ),
            (
                "/redis".to_owned(),
                json!({"address": format!("redis://:{pw}@10.9.8.7:6379"), "command": "get", "key": "k"}),
            ),
            (
                "/mqtt".to_owned(),
                json!({"address": format!("mqtt://127.0.0.1:{closed}"), "username": "u", "password": pw, "topic": "t", "payload": "p"}),
            ),
            (
                "/mqtt".to_owned(),
                json!({"address": "mqtt://127.0.0.1:1883", "username": "u", "password": pw, "topic": common::unique("rotor/secrets"), "payload": "p"}),
            ),
            (
                "/outbound".to_owned(),
                json!({"url": format!("http://user:{pw}@127.0.0.1:{closed}/x?token={pw}")}),
            ),
            (
                "/outbound".to_owned(),
                json!({"url": format!("http://denied.example/x?token={pw}")}),
            ),
        ];
        for (path, body) in calls {
            let (_, reply) = common::post_json(address, &path, &body).await;
            assert_no_secret(&reply.to_string(), &format!("the guest's answer to {body}"));
        }
        // A provider that fails: the guest learns that, not where Vault is.
        for path in ["/variables/api_key", "/config/api_key"] {
            let response = client::send(address, Method::GET, path, &[], "").await.unwrap();
            let text = response.text();
            assert!(response.status.is_server_error(), "{path}: {text}");
            assert!(!text.contains(&vault.address().port().to_string()), "{path}: {text}");
            assert!(text.contains("provider failed"), "{path}: {text}");
        }
    });

    let log = rotor.output(true);
    // The run went where it should: the log shows the failures it had to show.
    assert!(log.contains("refused the token"), "{log}");
    assert!(
        log.contains("not permitted") || log.contains("denied"),
        "{log}"
    );
    assert_no_secret(&log, "the log");
}
