//! `rotor test --spec-kit KIT APPS`: each spec of the kit runs against the app of its name;
//! the table shows passed, failed, broken and missing apps; `--junit` writes the same as
//! JUnit XML; the command fails when a case fails.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::path::Path;

fn app(apps: &Path, name: &str, route: &str, wasm: &str) {
    let dir = apps.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("spin.toml"),
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"{name}\"\n[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"app\"\n[component.app]\nsource = \"{}\"\n",
            common::guest(wasm).display()
        ),
    )
    .unwrap();
}

#[test]
fn the_kit_reports_each_spec_in_a_table_and_in_junit() {
    common::guests();
    let apps = tempfile::tempdir().unwrap();
    // The hello passes its spec; the hello again, posing as the router, fails the router's;
    // a folder without a manifest is broken; every other spec has no app.
    app(apps.path(), "http-hello", "/hello/...", "http-hello");
    app(apps.path(), "http-router", "/...", "http-hello");
    std::fs::create_dir(apps.path().join("kv-todo")).unwrap();
    let junit = apps.path().join("kit.xml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["test", "--no-cache", "--spec-kit"])
        .arg(common::workspace().join("conformance"))
        .arg("--junit")
        .arg(&junit)
        .arg(apps.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "a failing spec must fail the run: {stdout}"
    );
    let row = |spec: &str| {
        stdout
            .lines()
            .find(|line| line.split_whitespace().next() == Some(spec))
            .unwrap_or_else(|| panic!("no row for {spec}: {stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("http-hello"),
        ["http-hello", "5", "0", "0", "pass"],
        "{stdout}"
    );
    let router = row("http-router");
    let failed: usize = router[2].parse().unwrap();
    assert!(failed > 0 && router[4] == "FAIL", "{stdout}");
    assert_eq!(
        row("kv-todo")[1..5],
        ["0", "1", "0", "broken:"][..],
        "{stdout}"
    );
    assert_eq!(row("pg-orders")[4..], ["no", "app"], "{stdout}");
    // Each failed case says why, above the table.
    assert!(stdout.contains("FAIL "), "{stdout}");

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(
            "<testsuite name=\"http-hello\" tests=\"5\" failures=\"0\" errors=\"0\" skipped=\"0\">"
        ),
        "{xml}"
    );
    assert!(xml.contains("<testsuite name=\"http-router\""), "{xml}");
    assert!(
        xml.contains("<failure message=\"the app could not be run\">"),
        "{xml}"
    );
    assert!(!xml.contains("name=\"pg-orders\""), "{xml}");
}
