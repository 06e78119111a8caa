//! `rotor new`: a new app from one of the examples, which the binary carries (see
//! `build.rs`), renamed and made to stand on its own.
//!
//! A Rust example becomes a crate of its own (`[workspace]`, dependencies spelled out instead
//! of inherited from Rotor's workspace, `rotor-sdk` by version or by `--sdk-path`) whose
//! manifest reads the component from the crate's own `target/`. A JavaScript example's
//! component is built into the app's `target/`. The spec, `test.json5`, comes along (a
//! JavaScript twin's is its Rust twin's), so `rotor test --build NAME` checks the new app at
//! once.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use toml::{Table, Value};

include!(concat!(env!("OUT_DIR"), "/examples.rs"));

/// Where the new app gets `rotor-sdk` from.
pub enum Sdk {
    /// crates.io, at this version.
    Version(String),
    /// A checkout's `sdk/` directory.
    Path(PathBuf),
}

/// Each example's name and the one-line description its manifest gives.
pub fn list() -> Vec<(&'static str, String)> {
    EXAMPLES
        .iter()
        .map(|(name, files)| {
            let description = file(files, "spin.toml")
                .and_then(|text| text.parse::<Table>().ok())
                .and_then(|manifest| {
                    manifest
                        .get("application")?
                        .get("description")?
                        .as_str()
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            (*name, description)
        })
        .collect()
}

fn file<'a>(files: &'a [ExampleFile], path: &str) -> Option<&'a str> {
    files
        .iter()
        .find(|(name, _)| *name == path)
        .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
}

/// Whether `name` can name a crate, a component and a directory alike.
fn check_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    if !starts_well || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        bail!("`{name}` cannot name an app: use lowercase letters, digits and `-`, starting with a letter (such as `orders-api`)");
    }
    Ok(())
}

/// Writes the app `name`, made from `example`, into `parent/name`; returns its directory.
pub fn create(example: &str, name: &str, parent: &Path, sdk: &Sdk) -> anyhow::Result<PathBuf> {
    check_name(name)?;
    let example = example
        .trim_start_matches("examples/")
        .trim_end_matches('/');
    let Some((_, files)) = EXAMPLES.iter().find(|(known, _)| *known == example) else {
        let known: Vec<&str> = EXAMPLES.iter().map(|(known, _)| *known).collect();
        bail!(
            "there is no example `{example}`; `rotor new --list` shows them: {}",
            known.join(", ")
        );
    };
    let dir = parent.join(name);
    if dir.exists() {
        bail!(
            "{} already exists; pick another name or --dir",
            dir.display()
        );
    }
    // Only a Rust example has a Cargo.toml.
    let crate_name = match file(files, "Cargo.toml") {
        Some(text) => Some(crate_name(text)?),
        None => None,
    };
    for (path, bytes) in *files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("a file has a directory"))?;
        let contents = match *path {
            "Cargo.toml" => cargo_manifest(std::str::from_utf8(bytes)?, name, sdk)?.into_bytes(),
            "spin.toml" => spin_manifest(
                std::str::from_utf8(bytes)?,
                example,
                crate_name.as_deref(),
                name,
            )?
            .into_bytes(),
            "README.md" => readme(std::str::from_utf8(bytes)?, example, name).into_bytes(),
            _ => bytes.to_vec(),
        };
        std::fs::write(&target, contents)
            .with_context(|| format!("writing {}", target.display()))?;
    }
    // A JavaScript twin is checked against its Rust twin's spec.
    let twin_spec = example
        .strip_prefix("js/")
        .and_then(|twin| EXAMPLES.iter().find(|(known, _)| *known == twin))
        .and_then(|(_, twin_files)| file(twin_files, "test.json5"));
    if let (None, Some(spec)) = (file(files, "test.json5"), twin_spec) {
        std::fs::write(dir.join("test.json5"), spec)?;
    }
    std::fs::write(dir.join(".gitignore"), "/target\n/.spin\n")?;
    Ok(dir)
}

fn crate_name(cargo_toml: &str) -> anyhow::Result<String> {
    let table: Table = cargo_toml.parse()?;
    table
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("the example's Cargo.toml has no package name")
}

/// The example's `Cargo.toml`, renamed, with what it inherited from Rotor's workspace
/// spelled out.
fn cargo_manifest(text: &str, name: &str, sdk: &Sdk) -> anyhow::Result<String> {
    let workspace: Table = WORKSPACE_MANIFEST.parse()?;
    let inherited_package = workspace
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default();
    let inherited_dependencies = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default();
    let mut manifest: Table = text.parse()?;
    let package = manifest
        .get_mut("package")
        .and_then(Value::as_table_mut)
        .context("the example's Cargo.toml has no [package]")?;
    package.insert("name".into(), Value::String(name.to_owned()));
    package.remove("publish");
    package.remove("license");
    for (key, value) in package.iter_mut() {
        if is_inherited(value) {
            if let Some(own) = inherited_package.get(key) {
                *value = own.clone();
            }
        }
    }
    package.retain(|_, value| !is_inherited(value));
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(dependencies) = manifest.get_mut(section).and_then(Value::as_table_mut) else {
            continue;
        };
        for (dependency, spec) in dependencies.iter_mut() {
            if dependency == "rotor-sdk" {
                *spec = merged(sdk_spec(sdk), spec);
            } else if is_inherited(spec) {
                let own = inherited_dependencies
                    .get(dependency)
                    .cloned()
                    .with_context(|| format!("{dependency} is not a workspace dependency"))?;
                *spec = merged(own, spec);
            }
        }
    }
    // The app is a workspace of its own, wherever it is put.
    manifest.insert("workspace".into(), Value::Table(Table::new()));
    // A `Table` sorts its keys; a reader expects `[package]` first and `[workspace]` last.
    let order = [
        "package",
        "lib",
        "dependencies",
        "dev-dependencies",
        "build-dependencies",
    ];
    let mut keys: Vec<&String> = manifest.keys().collect();
    keys.sort_by_key(|key| match order.iter().position(|o| o == key) {
        Some(position) => position,
        None if key.as_str() == "workspace" => order.len() + 1,
        None => order.len(),
    });
    let mut text = String::new();
    for key in keys {
        let section = Table::from_iter([(key.clone(), manifest[key].clone())]);
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&toml::to_string(&section)?);
    }
    Ok(text)
}

fn is_inherited(value: &Value) -> bool {
    value.get("workspace").and_then(Value::as_bool) == Some(true)
}

fn sdk_spec(sdk: &Sdk) -> Value {
    let mut spec = Table::new();
    match sdk {
        Sdk::Version(version) => spec.insert("version".into(), Value::String(version.clone())),
        Sdk::Path(path) => spec.insert("path".into(), Value::String(path.display().to_string())),
    };
    Value::Table(spec)
}

/// `base` (a version string or a table) with the keys `local` adds (`features`,
/// `optional`), without its `workspace = true`.
fn merged(base: Value, local: &Value) -> Value {
    let mut table = match base {
        Value::String(version) => {
            Table::from_iter([("version".to_owned(), Value::String(version))])
        }
        Value::Table(table) => table,
        other => return other,
    };
    if let Some(local) = local.as_table() {
        for (key, value) in local {
            if key != "workspace" {
                table.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Table(table)
}

/// The example's `spin.toml` for the new app: its own name, a single component named like
/// the app, and the component read from the app's own `target/`.
fn spin_manifest(
    text: &str,
    example: &str,
    crate_name: Option<&str>,
    name: &str,
) -> anyhow::Result<String> {
    let manifest: Table = text.parse()?;
    let components: Vec<String> = manifest
        .get("component")
        .and_then(Value::as_table)
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    let mut text = text.to_owned();
    if let Some(old) = manifest
        .get("application")
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
    {
        text = text.replacen(
            &format!("name = \"{old}\""),
            &format!("name = \"{name}\""),
            1,
        );
    }
    if let [component] = components.as_slice() {
        text = text
            .replace(
                &format!("[component.{component}]"),
                &format!("[component.{name}]"),
            )
            .replace(
                &format!("[component.{component}."),
                &format!("[component.{name}."),
            )
            .replace(
                &format!("component = \"{component}\""),
                &format!("component = \"{name}\""),
            );
    }
    match crate_name {
        Some(crate_name) => {
            let old = crate_name.replace('-', "_");
            let new = name.replace('-', "_");
            // A library's file name has `_` for `-`; a binary's (a WAGI module) keeps `-`.
            text = text
                .replace("\"../../target/", "\"target/")
                .replace(&format!("/{old}.wasm\""), &format!("/{new}.wasm\""))
                .replace(&format!("/{crate_name}.wasm\""), &format!("/{name}.wasm\""));
        }
        None => {
            let js_name = example.trim_start_matches("js/");
            text = text.replace(
                &format!("../../../target/rotor-js/{js_name}.wasm"),
                &format!("target/{name}.wasm"),
            );
        }
    }
    Ok(text)
}

/// The example's README for the new app: its title and the example's paths name the app;
/// nothing else changes, since the example's name may be an ordinary word (`config`).
fn readme(text: &str, example: &str, name: &str) -> String {
    let mut text = text.replace(&format!("examples/{example}"), name);
    // Its unit tests live in the repository's `examples/unit-tests/`, which the app lacks.
    if let Some(start) = text.find("\n## Unit tests\n") {
        let end = text[start + 1..]
            .find("\n## ")
            .map_or(text.len(), |offset| start + 1 + offset);
        text.replace_range(start..end, "");
    }
    let text = match text.split_once('\n') {
        Some((title, rest)) if title.trim() == format!("# {example}") => {
            format!("# {name}\n{rest}")
        }
        _ => text,
    };
    format!(
        "{text}\n---\nMade with `rotor new {example} {name}`. Build and check it with `rotor test --build .`, serve it with `rotor up --build`.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_fit_crates_and_components() {
        assert!(check_name("orders-api").is_ok());
        assert!(check_name("api2").is_ok());
        for bad in ["", "Orders", "2api", "orders_api", "-api", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_example_is_listed_with_its_description() {
        let listed = list();
        let hello = listed
            .iter()
            .find(|(name, _)| *name == "http-hello")
            .unwrap();
        assert!(hello.1.contains("greeting"), "{}", hello.1);
        assert!(listed.iter().any(|(name, _)| *name == "js/http-hello"));
        assert!(
            listed
                .iter()
                .all(|(_, description)| !description.is_empty()),
            "{listed:?}"
        );
    }

    #[test]
    fn only_the_title_and_paths_of_a_readme_are_renamed() {
        let (_, files) = EXAMPLES.iter().find(|(n, _)| *n == "config").unwrap();
        let text = readme(file(files, "README.md").unwrap(), "config", "settings");
        assert!(text.starts_with("# settings\n"), "{text}");
        assert!(text.contains("cargo xtask up settings"), "{text}");
        assert!(text.contains("runtime-config.toml"), "{text}");
        assert!(!text.contains("examples/config"), "{text}");
        assert!(file(files, "README.md").unwrap().contains("## Unit tests"));
        assert!(!text.contains("unit-tests"), "{text}");
    }

    #[test]
    fn a_wagi_module_keeps_its_binary_name_in_the_manifest() {
        let (_, files) = EXAMPLES.iter().find(|(n, _)| *n == "wagi-hello").unwrap();
        let text = spin_manifest(
            file(files, "spin.toml").unwrap(),
            "wagi-hello",
            Some("wagi-hello"),
            "my-cgi",
        )
        .unwrap();
        assert!(
            text.contains("source = \"target/wasm32-wasip1/release/my-cgi.wasm\""),
            "{text}"
        );
    }

    #[test]
    fn a_rust_example_becomes_a_crate_of_its_own() {
        let (_, files) = EXAMPLES
            .iter()
            .find(|(n, _)| *n == "pubsub-subscriber")
            .unwrap();
        let text = file(files, "Cargo.toml").unwrap();
        let manifest: Table = cargo_manifest(text, "my-subscriber", &Sdk::Version("0.1.0".into()))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(manifest["package"]["name"].as_str(), Some("my-subscriber"));
        assert_eq!(manifest["package"]["edition"].as_str(), Some("2021"));
        let sdk = &manifest["dependencies"]["rotor-sdk"];
        assert_eq!(sdk["version"].as_str(), Some("0.1.0"));
        assert_eq!(sdk["features"][0].as_str(), Some("cloudevents"));
        assert!(sdk.get("path").is_none());
        assert!(sdk.get("workspace").is_none());
        assert!(manifest.get("workspace").is_some());
        let text = toml::to_string(&manifest).unwrap();
        assert!(!text.contains("workspace = true"), "{text}");
    }
}
