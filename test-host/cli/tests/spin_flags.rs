//! The `spin up` flags users type from habit work on `rotor up`: `-f`, `-e`, `--key-value`,
//! `--sqlite @FILE:DATABASE`, `--find-free-port`, `-L/--log-dir` and `--quiet`, and
//! `SPIN_HTTP_LISTEN_ADDR` and `SPIN_RUNTIME_CONFIG_FILE` in place of `--listen` and
//! `--runtime-config-file`.

#[path = "../../host/tests/common/mod.rs"]
mod common;

mod served;

use std::process::Command;

use http::StatusCode;
use rotor_spec::client;
use serde_json::json;
use served::serve;

fn rotor() -> Command {
    common::guests();
    Command::new(env!("CARGO_BIN_EXE_rotor"))
}

#[tokio::test(flavor = "multi_thread")]
async fn spin_up_flags_seed_the_app_and_configure_the_host() {
    let dir = common::app_dir(&common::probe_manifest(
        "key_value_stores = [\"default\", \"cache\"]\nsqlite_databases = [\"default\", \"notes\"]\nenvironment = { GREETING = \"from the manifest\", KEPT = \"kept\" }",
    ));
    std::fs::write(
        dir.path().join("schema.sql"),
        "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('seeded');",
    )
    .unwrap();
    let runtime_config = dir.path().join("runtime.toml");
    std::fs::write(
        &runtime_config,
        format!(
            "[key_value_store.cache]\ntype = \"spin\"\npath = \"{}\"\n\n[sqlite_database.notes]\ntype = \"spin\"\npath = \"{}\"\n",
            dir.path().join("cache.db").display(),
            dir.path().join("notes.db").display()
        ),
    )
    .unwrap();
    let served = serve(
        rotor()
            .current_dir(dir.path())
            .env("SPIN_HTTP_LISTEN_ADDR", "127.0.0.1:0")
            .env("SPIN_RUNTIME_CONFIG_FILE", &runtime_config)
            .args(["up", "--no-cache", "-f"])
            .arg(dir.path())
            .args(["-e", "GREETING=from the flag", "--env", "EXTRA=x=y"])
            .args(["--key-value", "color=teal", "--sqlite", "@schema.sql:notes"]),
    );
    let address = served.address;

    let env = |name: &'static str| async move {
        let response = client::get(address, &format!("/env/{name}")).await.unwrap();
        (response.status, response.text())
    };
    assert_eq!(
        env("GREETING").await,
        (StatusCode::OK, "from the flag".into())
    );
    assert_eq!(env("KEPT").await, (StatusCode::OK, "kept".into()));
    assert_eq!(env("EXTRA").await, (StatusCode::OK, "x=y".into()));

    let color = client::get(address, "/kv/default/color").await.unwrap();
    assert_eq!(color.status, StatusCode::OK, "{}", color.text());
    assert!(color.text().contains("teal"), "{}", color.text());

    // The runtime config came from SPIN_RUNTIME_CONFIG_FILE: `notes` exists, and holds the
    // row the --sqlite file put there.
    let (status, rows) = common::post_json(
        address,
        "/sqlite/notes",
        &json!({ "sql": "SELECT body FROM notes" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert!(rows.to_string().contains("seeded"), "{rows}");
}

#[tokio::test(flavor = "multi_thread")]
async fn log_dir_keeps_each_components_output_and_quiet_keeps_it_off_the_terminal() {
    let dir = common::app_dir(&common::probe_manifest(""));
    let logs = dir.path().join("logs");
    let mut served = serve(
        rotor()
            .args([
                "up",
                "--no-cache",
                "--listen",
                "127.0.0.1:0",
                "--quiet",
                "-L",
            ])
            .arg(&logs)
            .arg(dir.path()),
    );
    let response = client::get(served.address, "/panic").await.unwrap();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    let stderr = served.stop();
    let logged = std::fs::read_to_string(logs.join("probe_stderr.txt")).unwrap();
    assert!(logged.contains("this guest panics on purpose"), "{logged}");
    assert!(
        !logged.contains("[probe]"),
        "files hold the bare lines: {logged}"
    );
    assert!(logs.join("probe_stdout.txt").exists());
    assert!(
        !stderr.contains("[probe]"),
        "--quiet let output through: {stderr}"
    );
}

#[test]
fn find_free_port_moves_past_a_taken_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = common::app_dir(&common::probe_manifest(""));
    let listen = format!("127.0.0.1:{port}");

    let refused = rotor()
        .args(["up", "--no-cache", "--listen", &listen])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains("--find-free-port"), "{stderr}");

    let served = serve(
        rotor()
            .args(["up", "--no-cache", "--find-free-port", "--listen", &listen])
            .arg(dir.path()),
    );
    assert_eq!(served.address.ip(), taken.local_addr().unwrap().ip());
    assert!(
        served.address.port() > port && served.address.port() <= port + 10,
        "{} after {port}",
        served.address
    );
}

#[test]
fn a_sqlite_argument_naming_an_unknown_database_stops_rotor_up() {
    let dir = common::app_dir(&common::probe_manifest(""));
    std::fs::write(dir.path().join("schema.sql"), "SELECT 1;").unwrap();
    let output = rotor()
        .current_dir(dir.path())
        .args([
            "up",
            "--no-cache",
            "--listen",
            "127.0.0.1:0",
            "--sqlite",
            "@schema.sql:nowhere",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no database `nowhere`"), "{stderr}");
}

#[test]
fn help_says_which_spin_flags_are_not_taken() {
    let output = rotor().args(["up", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "-f, --from",
        "-e, --env",
        "--key-value",
        "--find-free-port",
        "-L, --log-dir",
        "-q, --quiet",
        "SPIN_LOG_DIR",
        "SPIN_HTTP_LISTEN_ADDR",
        "SPIN_RUNTIME_CONFIG_FILE",
        "--from-registry",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}
