//! Bad apps are refused before serving, with errors that say where the problem is.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::process::Command;

use rotor_host::capabilities::StateOptions;

fn load_error(manifest: &str) -> String {
    let dir = common::app_dir(manifest);
    let path = dir.path().join("spin.toml");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let result = runtime.block_on(common::load_app(
        dir.path(),
        common::test_engine(),
        &StateOptions::default(),
    ));
    let error = result.err().expect("the app must be refused");
    let text = format!("{error:#}");
    assert!(
        text.contains(&path.display().to_string()),
        "the error must name the file: {text}"
    );
    text
}

#[test]
fn malformed_toml_is_reported_by_rotor_up_with_file_line_and_key() {
    let dir = common::app_dir(
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[component.a]\nsource = [1, 2]\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["up", "--listen", "127.0.0.1:0", "--no-cache"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "{}:5: at `component.a.source`",
        dir.path().join("spin.toml").display()
    );
    assert!(
        stderr.contains(&expected),
        "expected {expected:?} in: {stderr}"
    );
}

#[test]
fn a_missing_component_file_is_named() {
    let text = load_error(&common::one_route_manifest(
        "/...",
        std::path::Path::new("does-not-exist.wasm"),
    ));
    assert!(text.contains("component `probe`"), "{text}");
    assert!(text.contains("does not exist"), "{text}");
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text_file = dir.path().join("notes.wasm");
    std::fs::write(&text_file, "just some text").unwrap();
    let text = load_error(&common::one_route_manifest("/...", &text_file));
    assert!(text.contains("is not a WebAssembly file"), "{text}");

    let core_module = dir.path().join("core.wasm");
    std::fs::write(&core_module, b"\0asm\x01\0\0\0").unwrap();
    let text = load_error(&common::one_route_manifest("/...", &core_module));
    assert!(
        text.contains("core WebAssembly module without component type information"),
        "{text}"
    );

    let broken = dir.path().join("broken.wasm");
    std::fs::write(&broken, b"\0asm\x0d\0\x01\0\xff\xff\xff").unwrap();
    let text = load_error(&common::one_route_manifest("/...", &broken));
    assert!(text.contains("is not a valid component"), "{text}");
}

#[test]
fn colliding_routes_are_refused() {
    let source = common::guest("probe");
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "collide"

[[trigger.http]]
route = "/users/:id"
component = "probe"

[[trigger.http]]
route = "/users/:name"
component = "probe"

[component.probe]
source = "{}"
"#,
        source.display()
    );
    let text = load_error(&manifest);
    assert!(text.contains(":10: at `trigger.http.route`"), "{text}");
    assert!(
        text.contains("routes \"/users/:id\" and \"/users/:name\" match the same requests"),
        "{text}"
    );
}

#[test]
fn a_component_without_the_http_export_is_refused() {
    // A component that is fine in every other way but exports nothing.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wasm");
    std::fs::write(&empty, b"\0asm\x0d\0\x01\0").unwrap();
    let text = load_error(&common::one_route_manifest("/...", &empty));
    assert!(
        text.contains("does not export wasi:http/incoming-handler"),
        "{text}"
    );
}
