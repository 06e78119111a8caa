//! `rotor build` on a terminal draws a progress line (spinner, component, time so far, the
//! build's latest output line) and shows a failing build's whole output; in a pipe it writes
//! plain lines. The terminal is a pseudo-terminal from `script` (util-linux).

use std::path::Path;
use std::process::{Command, Output};

const MANIFEST: &str = r#"spin_manifest_version = 2

[application]
name = "progress"

[[trigger.http]]
route = "/..."
component = "app"

[component.app]
source = "app.wasm"

[component.app.build]
command = "BUILD"
"#;

fn app(build: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spin.toml"),
        MANIFEST.replace("BUILD", build),
    )
    .unwrap();
    dir
}

/// `rotor build DIR` on a pseudo-terminal: everything it drew. `None` (after saying so) where
/// there is no `script` and this is not CI.
fn build_on_terminal(dir: &Path) -> Option<Output> {
    let command = format!("{} build {}", env!("CARGO_BIN_EXE_rotor"), dir.display());
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm")
        .env("COLUMNS", "120")
        .env_remove("CI")
        .output();
    match output {
        Ok(output) => Some(output),
        Err(error) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("`script` (util-linux) is needed for this test: {error}")
        }
        Err(error) => {
            eprintln!("SKIPPED: no `script` to make a terminal with: {error}");
            None
        }
    }
}

#[test]
fn a_build_on_a_terminal_shows_a_progress_line() {
    let dir = app("echo compiling part one; sleep 1; echo compiling part two >&2; sleep 1");
    let Some(output) = build_on_terminal(dir.path()) else {
        return;
    };
    let drawn = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{drawn}");
    // Redrawn in place, with the spinner, the component, the time and the latest line.
    assert!(
        drawn.contains("\r\x1b[2K⠋ [1/1] Building component `app` (0.0 s)"),
        "{drawn:?}"
    );
    assert!(drawn.contains("s) · compiling part one"), "{drawn:?}");
    assert!(drawn.contains("s) · compiling part two"), "{drawn:?}");
    assert!(
        drawn.contains("[1/1] Built component `app` in"),
        "{drawn:?}"
    );
    // The build's output went into the progress line only.
    assert!(!drawn.contains("\ncompiling part one"), "{drawn:?}");
}

#[test]
fn a_failing_build_on_a_terminal_shows_all_it_wrote() {
    let dir = app("echo first clue; echo the reason it failed >&2; exit 3");
    let Some(output) = build_on_terminal(dir.path()) else {
        return;
    };
    let drawn = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{drawn}");
    assert!(drawn.contains("first clue"), "{drawn:?}");
    assert!(drawn.contains("the reason it failed"), "{drawn:?}");
    assert!(
        drawn.contains("building component `app` failed"),
        "{drawn:?}"
    );
}

#[test]
fn a_build_in_a_pipe_writes_plain_lines() {
    let dir = app("echo compiling part one");
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .arg("build")
        .arg(dir.path())
        .env_remove("CI")
        .output()
        .unwrap();
    assert!(output.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(stdout, "compiling part one\n");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
    assert!(
        stderr.contains("[1/1] Building component `app`: echo compiling part one\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[1/1] Built component `app` in"),
        "{stderr}"
    );
}
