//! `rotor-sdk` and `rotor-macro` as crates.io would get them: packaged with `cargo package`,
//! unpacked, and used by a project outside the workspace (through `[patch.crates-io]`, so
//! nothing is published and nothing is fetched), whose hello the host then serves.

mod common;

use std::path::Path;
use std::process::Command;

use http::StatusCode;

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs `command`, panicking with its output when it fails.
fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Packages both crates into `target_dir/package` and unpacks them into `into`.
fn package_and_unpack(workspace: &Path, target_dir: &Path, into: &Path) {
    run(
        cargo()
            .current_dir(workspace)
            .args(["package", "--offline", "--no-verify", "--allow-dirty"])
            .args(["-p", "rotor-macro", "-p", "rotor-sdk", "--target-dir"])
            .arg(target_dir),
        "cargo package",
    );
    for name in ["rotor-macro", "rotor-sdk"] {
        let version = env!("CARGO_PKG_VERSION");
        let archive = target_dir
            .join("package")
            .join(format!("{name}-{version}.crate"));
        run(
            Command::new("tar")
                .arg("-xzf")
                .arg(&archive)
                .arg("-C")
                .arg(into),
            &format!("unpacking {}", archive.display()),
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_packaged_sdk_builds_a_hello_outside_the_workspace() {
    let workspace = common::workspace();
    let version = env!("CARGO_PKG_VERSION");
    let scratch = tempfile::tempdir().unwrap();
    // Kept between runs, as the workspace's own target is: the scratch build compiles
    // wit-bindgen and serde again for itself.
    let target_dir = workspace.join("target/packaged-sdk");
    let unpacked = scratch.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    package_and_unpack(&workspace, &target_dir, &unpacked);

    // Nothing of the repository travels but what the packages hold: the example's source.
    let app = scratch.path().join("hello");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::copy(
        workspace.join("examples/http-hello/src/lib.rs"),
        app.join("src/lib.rs"),
    )
    .unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        format!(
            r#"[package]
name = "packaged-hello"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
rotor-sdk = "{version}"
serde = {{ version = "1", features = ["derive"] }}

[patch.crates-io]
rotor-sdk = {{ path = "{sdk}" }}
rotor-macro = {{ path = "{macro_}" }}

[workspace]
"#,
            sdk = unpacked.join(format!("rotor-sdk-{version}")).display(),
            macro_ = unpacked.join(format!("rotor-macro-{version}")).display(),
        ),
    )
    .unwrap();
    // The workspace's lock pins the same versions of everything else, all already cached.
    std::fs::copy(workspace.join("Cargo.lock"), app.join("Cargo.lock")).unwrap();
    run(
        cargo()
            .current_dir(&app)
            .args([
                "build",
                "--offline",
                "--release",
                "--target",
                "wasm32-wasip2",
            ])
            .arg("--target-dir")
            .arg(target_dir.join("hello")),
        "building the hello against the packaged crates",
    );
    let component = target_dir.join("hello/wasm32-wasip2/release/packaged_hello.wasm");

    let dir = common::app_dir(&common::one_route_manifest("/...", &component));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let response = rotor_spec::client::get(address, "/?name=crates.io")
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.text(), "Hello, crates.io!\n");
}
