//! Apps built by toolchains no one here wrote, run with the conformance spec
//! `tests/toolchains/test.json5`: hello, key-value, variables, outbound HTTP and SQLite.
//!
//! - `python/`: componentize-py 0.17.2 with Python's `spin-sdk` 3.4.1, from the Python
//!   package registry, in a virtual environment;
//! - `js/`: spin-js-sdk's `j2w` (`@spinframework/build-tools`), from the npm registry;
//! - `rust/`: Spin's own Rust SDK (`spin-sdk` 5.2.0, from crates.io) built for
//!   `wasm32-wasip1`, a core module, as Spin's http-rust template builds it.
//!
//! Tools and builds are cached under `target/toolchains/`, so only the first run downloads
//! and builds. Without the registries (or Python, or Node.js) the tests fail under
//! `CI=true`, naming what is missing, and are skipped loudly otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rotor_host::engine::{Engine, EngineConfig};
use sha2::{Digest as _, Sha256};

const COMPONENTIZE_PY: &str = "componentize-py==0.17.2";
const PYTHON_SPIN_SDK: &str = "spin-sdk==3.4.1";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/toolchains")
}

fn cache() -> PathBuf {
    common::workspace().join("target/toolchains")
}

/// Fails under `CI=true`, naming what is missing; otherwise says so and tells the caller to
/// skip.
fn missing(what: &str, output: Option<&std::process::Output>) -> bool {
    let detail = output
        .map(|o| {
            format!(
                "\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        })
        .unwrap_or_default();
    let message = format!("{what}{detail}");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("SKIPPED: {message}");
    false
}

/// Runs `command`; `Err` with its output when it fails or cannot start.
fn run(command: &mut Command) -> Result<(), Option<std::process::Output>> {
    match command.output() {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(Some(output)),
        Err(_) => Err(None),
    }
}

/// A digest of `files` and `extra`, naming a build of them.
fn digest(files: &[PathBuf], extra: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(extra.as_bytes());
    for file in files {
        hasher.update(std::fs::read(file).unwrap());
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An app directory: the shared manifest beside `wasm`.
fn app_dir(build: &Path, wasm: &Path) -> PathBuf {
    let dir = build.join("app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixtures().join("spin.toml"), dir.join("spin.toml")).unwrap();
    std::fs::copy(wasm, dir.join("app.wasm")).unwrap();
    let _ = std::fs::remove_dir_all(dir.join(".spin"));
    dir
}

/// Runs the shared spec against the app in `dir`; every case must pass.
async fn passes_the_spec(dir: &Path) {
    let engine = Engine::new(EngineConfig {
        cache_dir: Some(cache().join("compiled")),
        ..EngineConfig::default()
    })
    .unwrap();
    let results =
        rotor_spec::conformance::run_spec(dir, &fixtures().join("test.json5"), Arc::clone(&engine))
            .await
            .unwrap();
    let (passed, failed, line) = rotor_spec::conformance::summary(&results);
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| r.outcome.as_ref().err().map(|e| format!("{}: {e}", r.name)))
        .collect();
    assert_eq!(failed, 0, "{line}\n{}", failures.join("\n"));
    assert!(passed >= 9, "{line}");
}

/// Builds `python/app.py` with componentize-py; `None` when the toolchain is unavailable.
fn python_app() -> Option<PathBuf> {
    let wasm = componentize_py(&fixtures().join("python/app.py"))?;
    Some(app_dir(wasm.parent().unwrap(), &wasm))
}

/// Builds the Python module `source` (its directory's `app.py`) with componentize-py into a
/// cached `app.wasm`; `None` when the toolchain is unavailable.
fn componentize_py(source: &Path) -> Option<PathBuf> {
    // Two tests build Python apps; one sets up the virtual environment at a time.
    static VENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = VENV.lock().unwrap_or_else(|e| e.into_inner());
    let root = cache().join("python");
    let venv = root.join("venv");
    let bin = venv.join("bin");
    if !bin.join("componentize-py").exists() {
        std::fs::create_dir_all(&root).unwrap();
        if let Err(output) = run(Command::new("python3").args(["-m", "venv"]).arg(&venv)) {
            missing(
                "python3 cannot make a virtual environment (`python3 -m venv`)",
                output.as_ref(),
            );
            return None;
        }
        if let Err(output) = run(Command::new(bin.join("pip")).args([
            "install",
            "--quiet",
            COMPONENTIZE_PY,
            PYTHON_SPIN_SDK,
        ])) {
            let _ = std::fs::remove_dir_all(&venv);
            missing(
                &format!("pip cannot install {COMPONENTIZE_PY} and {PYTHON_SPIN_SDK} from the Python package registry"),
                output.as_ref(),
            );
            return None;
        }
    }
    let build = root.join(digest(
        &[source.to_owned()],
        &format!("{COMPONENTIZE_PY} {PYTHON_SPIN_SDK}"),
    ));
    let wasm = build.join("app.wasm");
    if !wasm.exists() {
        std::fs::create_dir_all(&build).unwrap();
        std::fs::copy(source, build.join("app.py")).unwrap();
        let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .unwrap();
        let built = run(Command::new(bin.join("componentize-py"))
            .current_dir(&build)
            .env("VIRTUAL_ENV", &venv)
            .env("PATH", path)
            .args(["-w", "spin-http", "componentize", "app", "-o", "app.wasm"]));
        if let Err(output) = built {
            panic!(
                "componentize-py failed to build {}:\n{}",
                source.display(),
                output
                    .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                    .unwrap_or_default()
            );
        }
    }
    Some(wasm)
}

/// The WIT the JavaScript app imports, taken from this repository's `wit/`: the world
/// `rotor:toolchain-app/app` and the packages it names.
fn write_js_wit(dir: &Path) {
    let wit = common::workspace().join("wit/deps");
    let spin = dir.join("deps/spin@2.0.0");
    let sqlite = dir.join("deps/spin-sqlite@3.0.0");
    std::fs::create_dir_all(&spin).unwrap();
    std::fs::create_dir_all(&sqlite).unwrap();
    std::fs::write(spin.join("package.wit"), "package fermyon:spin@2.0.0;\n").unwrap();
    for file in ["key-value.wit", "variables.wit"] {
        std::fs::copy(wit.join("spin@2.0.0").join(file), spin.join(file)).unwrap();
    }
    std::fs::copy(
        wit.join("spin-sqlite@3.0.0/sqlite.wit"),
        sqlite.join("sqlite.wit"),
    )
    .unwrap();
    std::fs::write(
        dir.join("world.wit"),
        "package rotor:toolchain-app@0.1.0;\n\nworld app {\n  import fermyon:spin/key-value@2.0.0;\n  import fermyon:spin/variables@2.0.0;\n  import spin:sqlite/sqlite@3.0.0;\n}\n",
    )
    .unwrap();
}

/// Builds `js/index.js` with j2w; `None` when the toolchain is unavailable.
fn js_app() -> Option<PathBuf> {
    let fixture = fixtures().join("js");
    let sources = [fixture.join("index.js"), fixture.join("package.json")];
    let build = cache().join("js").join(digest(&sources, ""));
    let wasm = build.join("app.wasm");
    if !wasm.exists() {
        std::fs::create_dir_all(&build).unwrap();
        for source in &sources {
            std::fs::copy(source, build.join(source.file_name().unwrap())).unwrap();
        }
        write_js_wit(&build.join("wit"));
        if !build.join("node_modules/.bin/j2w").exists() {
            if let Err(output) = run(Command::new("npm").current_dir(&build).args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])) {
                missing(
                    "npm cannot install @spinframework/build-tools from the npm registry (is Node.js installed?)",
                    output.as_ref(),
                );
                return None;
            }
        }
        let built = run(Command::new(build.join("node_modules/.bin/j2w"))
            .current_dir(&build)
            .args(["-i", "index.js", "-o", "app.wasm"]));
        if let Err(output) = built {
            panic!(
                "j2w failed to build {}:\n{}",
                fixture.display(),
                output
                    .map(|o| format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    ))
                    .unwrap_or_default()
            );
        }
    }
    Some(app_dir(&build, &wasm))
}

/// Builds `rust/` with cargo for wasm32-wasip1; `None` when crates.io is unreachable.
fn rust_app() -> Option<PathBuf> {
    let fixture = fixtures().join("rust");
    let sources = [fixture.join("Cargo.toml"), fixture.join("lib.rs")];
    let build = cache().join("rust").join(digest(&sources, ""));
    let wasm = build.join("target/wasm32-wasip1/release/spin_rust_app.wasm");
    if !wasm.exists() {
        std::fs::create_dir_all(build.join("src")).unwrap();
        std::fs::copy(&sources[0], build.join("Cargo.toml")).unwrap();
        std::fs::copy(&sources[1], build.join("src/lib.rs")).unwrap();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        if let Err(output) = run(Command::new(&cargo)
            .current_dir(&build)
            .env_remove("CARGO_TARGET_DIR")
            .args(["fetch", "--quiet"]))
        {
            missing(
                "cargo cannot fetch spin-sdk 5.2.0 from crates.io",
                output.as_ref(),
            );
            return None;
        }
        let built = run(Command::new(&cargo)
            .current_dir(&build)
            .env_remove("CARGO_TARGET_DIR")
            .args(["build", "--quiet", "--release", "--target", "wasm32-wasip1"]));
        if let Err(output) = built {
            panic!(
                "cargo failed to build {} for wasm32-wasip1 (is the target installed? `rustup target add wasm32-wasip1`):\n{}",
                fixture.display(),
                output
                    .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                    .unwrap_or_default()
            );
        }
    }
    let bytes = std::fs::read(&wasm).unwrap();
    assert!(
        bytes.starts_with(b"\0asm\x01\0\0\0"),
        "{} should be a core module",
        wasm.display()
    );
    Some(app_dir(&build, &wasm))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spin_sdk_rust_core_module_passes_the_spec() {
    let Some(dir) = tokio::task::spawn_blocking(rust_app).await.unwrap() else {
        return;
    };
    passes_the_spec(&dir).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_app_built_with_componentize_py_passes_the_spec() {
    let Some(dir) = tokio::task::spawn_blocking(python_app).await.unwrap() else {
        return;
    };
    passes_the_spec(&dir).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_javascript_app_built_with_j2w_passes_the_spec() {
    let Some(dir) = tokio::task::spawn_blocking(js_app).await.unwrap() else {
        return;
    };
    passes_the_spec(&dir).await;
}

/// The worked example of the conformance kit's README: `conformance/python/http-hello`,
/// Python's spin-sdk, passes the kit's `http-hello` spec, and every other spec of the kit has
/// no app.
#[tokio::test(flavor = "multi_thread")]
async fn a_python_app_passes_the_kits_http_hello() {
    let example = common::workspace().join("conformance/python/http-hello");
    let source = example.join("app.py");
    let Some(wasm) = tokio::task::spawn_blocking(move || componentize_py(&source))
        .await
        .unwrap()
    else {
        return;
    };
    let apps = tempfile::tempdir().unwrap();
    let app = apps.path().join("http-hello");
    std::fs::create_dir(&app).unwrap();
    std::fs::copy(example.join("spin.toml"), app.join("spin.toml")).unwrap();
    std::fs::copy(&wasm, app.join("app.wasm")).unwrap();
    let engine = Engine::new(EngineConfig {
        cache_dir: Some(cache().join("compiled")),
        ..EngineConfig::default()
    })
    .unwrap();
    let rows = rotor_spec::conformance::kit::run_kit(
        &common::workspace().join("conformance"),
        apps.path(),
        engine,
        |_| Ok(()),
    )
    .await
    .unwrap();
    let table = rotor_spec::conformance::kit::table(&rows);
    for row in &rows {
        let (passed, failed, skipped) = row.counts();
        if row.spec == "http-hello" {
            assert_eq!((passed, failed, skipped), (5, 0, 0), "{table}{row:?}");
        } else {
            assert!(
                matches!(row.outcome, rotor_spec::conformance::kit::KitOutcome::NoApp),
                "{table}"
            );
        }
    }
}
