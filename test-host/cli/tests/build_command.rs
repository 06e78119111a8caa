//! `rotor build` runs each component's build command and stops at the first failure.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::process::Command;

fn manifest_with_build(command: &str) -> String {
    format!(
        r#"spin_manifest_version = 2
[application]
name = "builds"

[component.first]
source = "first.wasm"
[component.first.build]
command = "{command}"
"#
    )
}

#[test]
fn a_successful_build_command_runs_in_the_app_directory() {
    let dir = common::app_dir(&manifest_with_build("echo built > marker.txt"));
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .arg("build")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    // What it is doing, and for how long.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("[1/1] Building component `first`: echo built > marker.txt"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[1/1] Built component `first` in "),
        "{stderr}"
    );
    assert!(
        stderr.contains("Finished building all components in "),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("marker.txt")).unwrap(),
        "built\n"
    );
}

#[test]
fn a_failing_build_command_is_reported_with_its_output() {
    let dir = common::app_dir(&manifest_with_build("echo compiler says no >&2; exit 3"));
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .arg("build")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("compiler says no"), "{stderr}");
    assert!(
        stderr.contains("building component `first` failed"),
        "{stderr}"
    );
    assert!(stderr.contains("exit status: 3"), "{stderr}");
}

#[test]
fn a_list_of_commands_runs_in_order_in_the_workdir_and_stops_at_a_failure() {
    let manifest = r#"spin_manifest_version = 2
[application]
name = "builds"

[component.first]
source = "first.wasm"
[component.first.build]
command = ["echo one > log.txt", "echo two >> log.txt", "exit 4", "echo never >> log.txt"]
workdir = "web"
"#;
    let dir = common::app_dir(manifest);
    std::fs::create_dir(dir.path().join("web")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .arg("build")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the command was `exit 4`"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("web/log.txt")).unwrap(),
        "one\ntwo\n"
    );
}
