//! Embeds in the `rotor` binary what an installed `rotor` would otherwise need a checkout of
//! this repository for: the examples, for `rotor new` (they stay the one source of starter
//! apps), and the rotor-js engines, for `rotor js build` (see `build/js_engines.rs`).

#[path = "build/js_engines.rs"]
mod js_engines;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let examples = workspace.join("examples");
    println!("cargo:rerun-if-changed={}", examples.display());
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.toml").display()
    );

    let mut apps = Vec::new();
    find_apps(&examples, &mut apps);
    apps.sort();
    let mut code =
        String::from("/// One file of an example: its path in the example, and its contents.\n");
    code.push_str("pub type ExampleFile = (&'static str, &'static [u8]);\n");
    code.push_str("/// Each example: its name (its path under `examples/`) and its files.\n");
    code.push_str("pub const EXAMPLES: &[(&str, &[ExampleFile])] = &[\n");
    for app in &apps {
        let name = relative(&examples, app);
        let mut files = Vec::new();
        collect_files(app, &mut files);
        files.sort();
        writeln!(code, "    ({name:?}, &[").unwrap();
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
            let path = relative(app, &file);
            let absolute = file.canonicalize().expect("an example file has a path");
            writeln!(
                code,
                "        ({path:?}, include_bytes!({:?})),",
                absolute.display().to_string()
            )
            .unwrap();
        }
        code.push_str("    ]),\n");
    }
    code.push_str("];\n");
    let manifest = workspace
        .join("Cargo.toml")
        .canonicalize()
        .expect("the workspace manifest");
    writeln!(
        code,
        "/// The workspace's `Cargo.toml`, whose shared dependencies the examples inherit.\npub const WORKSPACE_MANIFEST: &str = include_str!({:?});",
        manifest.display().to_string()
    )
    .unwrap();
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("examples.rs"), code).expect("writing examples.rs");

    js_engines::embed(&workspace, &out);
}

/// The directories under `dir` that hold a `spin.toml`: the apps.
fn find_apps(dir: &Path, apps: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() || skipped(&path) {
            continue;
        }
        if path.join("spin.toml").is_file() {
            apps.push(path);
        } else {
            find_apps(&path, apps);
        }
    }
}

/// Every file of an app, without what builds and runs leave behind.
fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if skipped(&path) {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn skipped(path: &Path) -> bool {
    matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("target" | ".spin" | "node_modules" | "Cargo.lock")
    )
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .expect("under its base")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
