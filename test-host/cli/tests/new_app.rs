//! `rotor new` starts an app from an example that builds and passes its own spec at once,
//! outside the workspace.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::process::{Command, Output};

fn rotor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn list_shows_every_example_with_what_it_is() {
    let output = rotor(&["new", "--list"]);
    assert!(output.status.success());
    let listing = text(&output.stdout);
    for example in std::fs::read_dir(common::workspace().join("examples")).unwrap() {
        let example = example.unwrap().path();
        if example.join("spin.toml").exists() {
            let name = example.file_name().unwrap().to_str().unwrap().to_owned();
            assert!(
                listing
                    .lines()
                    .any(|line| line.starts_with(&format!("{name} "))),
                "{name} missing from:\n{listing}"
            );
        }
    }
    assert!(
        listing.contains("A JSON todo API stored in key-value."),
        "{listing}"
    );
}

#[test]
fn a_new_app_builds_and_passes_its_spec() {
    let parent = tempfile::tempdir().unwrap();
    let sdk = common::workspace().join("sdk");
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["new", "kv-todo", "my-todos", "--dir"])
        .arg(parent.path())
        .arg("--sdk-path")
        .arg(&sdk)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let app = parent.path().join("my-todos");
    let manifest = std::fs::read_to_string(app.join("spin.toml")).unwrap();
    assert!(manifest.contains("[component.my-todos]"), "{manifest}");
    assert!(
        manifest.contains("source = \"target/wasm32-wasip2/release/my_todos.wasm\""),
        "{manifest}"
    );

    // Offline: everything it needs is in cargo's cache already, and a test must not need
    // the network.
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["test", "--build"])
        .arg(&app)
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("PASS {}: creates a todo", app.display())),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with(" passed, 0 failed"), "{stdout}");
}

#[test]
fn bad_requests_are_refused_with_the_reason() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().to_str().unwrap();
    let unknown = rotor(&["new", "no-such-example", "app", "--dir", dir]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("there is no example `no-such-example`"),
        "{}",
        text(&unknown.stderr)
    );
    let bad_name = rotor(&["new", "http-hello", "My_App", "--dir", dir]);
    assert!(!bad_name.status.success());
    assert!(text(&bad_name.stderr).contains("cannot name an app"));

    assert!(rotor(&["new", "http-hello", "taken", "--dir", dir])
        .status
        .success());
    let again = rotor(&["new", "http-hello", "taken", "--dir", dir]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));
}

#[test]
fn a_javascript_app_gets_its_rust_twins_spec() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().to_str().unwrap();
    assert!(rotor(&["new", "js/http-hello", "js-hello", "--dir", dir])
        .status
        .success());
    let app = parent.path().join("js-hello");
    assert_eq!(
        std::fs::read_to_string(app.join("test.json5")).unwrap(),
        std::fs::read_to_string(common::workspace().join("examples/http-hello/test.json5"))
            .unwrap()
    );
    let manifest = std::fs::read_to_string(app.join("spin.toml")).unwrap();
    assert!(
        manifest.contains("command = \"rotor js build app.js -o target/js-hello.wasm\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("source = \"target/js-hello.wasm\""),
        "{manifest}"
    );
}
