//! `rotor test --against URL` runs a spec against an app someone else started: here, a
//! `rotor up` in another process, as a deployment would be.

#[path = "../../host/tests/common/mod.rs"]
mod common;

mod served;

use std::path::Path;
use std::process::{Command, Output};

use served::{serve, Served};

fn rotor_up(app: &Path, state: &Path) -> Served {
    common::guests();
    serve(
        Command::new(env!("CARGO_BIN_EXE_rotor"))
            .args(["up", "--listen", "127.0.0.1:0", "--state-dir"])
            .arg(state)
            .arg(app),
    )
}

fn url(served: &Served) -> String {
    format!("http://{}", served.address)
}

fn rotor_test_against(url: &str, app: &Path) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["test", "--against", url])
        .arg(app)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

#[test]
fn a_running_app_passes_its_spec_with_what_needs_the_host_skipped() {
    let examples = common::workspace().join("examples");
    let state = tempfile::tempdir().unwrap();
    let todo = rotor_up(&examples.join("kv-todo"), state.path());
    let (output, stdout) = rotor_test_against(&url(&todo), &examples.join("kv-todo"));
    assert!(output.status.success(), "{stdout}");
    let label = format!("against {}", url(&todo));
    assert!(
        stdout.contains(&format!(
            "SKIP {label}: precondition key-value-store (needs the host)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("PASS {label}: creates a todo")),
        "{stdout}"
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.ends_with(" passed, 0 failed, 1 skipped"),
        "{summary}"
    );
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 5, "{summary}");
}

#[test]
fn a_spec_the_running_app_does_not_meet_fails() {
    let examples = common::workspace().join("examples");
    let state = tempfile::tempdir().unwrap();
    let hello = rotor_up(&examples.join("http-hello"), state.path());
    // The router's spec, against the hello: its books are not there.
    let (output, stdout) = rotor_test_against(&url(&hello), &examples.join("http-router"));
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("FAIL against {}: lists the books", url(&hello))),
        "{stdout}"
    );
    // A path prefix is put before every request's path.
    let (output, stdout) = rotor_test_against(
        &format!("{}/hello", url(&hello)),
        &examples.join("http-hello"),
    );
    assert!(!output.status.success(), "{stdout}");
    let (output, stdout) = rotor_test_against(&url(&hello), &examples.join("http-hello"));
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
