//! What running Spin's own conformance suite (github.com/fermyon/conformance-tests) needs
//! beyond Rotor's specs: its `%{key=value}` substitutions and components built from source.
//!
//! In a checkout of the suite, `tests/NAME/spin.toml` says `source = "%{source=COMPONENT}"`
//! for a crate in `components/COMPONENT`, and both the manifest and the requests say
//! `%{port=N}` for "the port where the service a guest knows on port N really listens"
//! (80 for the HTTP echo server, 7 for the TCP echo server, 6379 for Redis, ...).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::Context as _;

/// Replaces every `%{key=value}` in `text` with `lookup(key, value)`; an unknown key is an
/// error naming it.
pub fn substitute(
    text: &str,
    mut lookup: impl FnMut(&str, &str) -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("%{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .with_context(|| format!("an unclosed `%{{` in {:?}", &rest[start..]))?;
        let inner = &after[..end];
        let (key, value) = inner
            .split_once('=')
            .with_context(|| format!("`%{{{inner}}}` is not of the form %{{key=value}}"))?;
        out.push_str(&lookup(key.trim(), value.trim())?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Guest-visible port → the port the precondition's service really listens on.
#[derive(Debug, Clone, Default)]
pub struct Ports(BTreeMap<u16, u16>);

impl Ports {
    /// Records that the service guests know on `guest` listens on `actual`.
    pub fn expose(&mut self, guest: u16, actual: u16) {
        self.0.insert(guest, actual);
    }

    /// The real port for `%{port=N}`.
    pub fn resolve(&self, guest: &str) -> anyhow::Result<u16> {
        let guest: u16 = guest
            .parse()
            .with_context(|| format!("`%{{port={guest}}}`: not a port number"))?;
        self.0.get(&guest).copied().with_context(|| {
            format!("`%{{port={guest}}}`: no precondition of this spec provides port {guest}")
        })
    }

    /// `text` with its `%{port=N}` replaced; any other key is an error.
    pub fn substitute(&self, text: &str) -> anyhow::Result<String> {
        substitute(text, |key, value| match key {
            "port" => Ok(self.resolve(value)?.to_string()),
            other => anyhow::bail!("unknown substitution `%{{{other}=...}}`"),
        })
    }
}

/// The manifest text of the app in `app_dir` with `%{source=NAME}` and `%{port=N}` filled in.
/// Components named by `%{source}` are built (once per run) from the suite's `components/`.
pub fn manifest_text(app_dir: &Path, text: &str, ports: &Ports) -> anyhow::Result<String> {
    substitute(text, |key, value| match key {
        "port" => Ok(ports.resolve(value)?.to_string()),
        "source" => {
            let wasm = built_component(app_dir, value)?;
            // The value lands inside a TOML string.
            Ok(wasm
                .to_string_lossy()
                .replace('\\', "/")
                .replace('"', "\\\""))
        }
        other => anyhow::bail!("unknown substitution `%{{{other}=...}}` in spin.toml"),
    })
}

/// Finds `components/NAME` in `app_dir`'s ancestors, builds it for `wasm32-wasip2` and returns
/// the component's path. Each crate is built once per process.
fn built_component(app_dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let crate_dir = app_dir
        .ancestors()
        .map(|dir| dir.join("components").join(name))
        .find(|dir| dir.join("Cargo.toml").exists())
        .with_context(|| {
            format!(
                "`%{{source={name}}}`: no components/{name}/Cargo.toml above {}",
                app_dir.display()
            )
        })?;
    let built = BUILT.get_or_init(Mutex::default);
    // Holding the lock while building keeps two apps from building one crate at once.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(&crate_dir) {
        return Ok(path.clone());
    }
    let wasm = cargo_build(&crate_dir)?;
    built.insert(crate_dir, wasm.clone());
    Ok(wasm)
}

fn cargo_build(crate_dir: &Path) -> anyhow::Result<PathBuf> {
    eprintln!("building {} for wasm32-wasip2", crate_dir.display());
    let mut build = rotor_host::build::cargo_wasm::cargo();
    build
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(crate_dir.join("Cargo.toml"));
    let label = format!("Building {}", crate_dir.display());
    rotor_host::build::cargo_wasm::build(build, &label)?.map_err(|failure| {
        anyhow::anyhow!(
            "building {} failed:\n{}\n(the target needs `rustup target add wasm32-wasip2`; \
             Spin's suite also needs `cargo update -p url --precise 2.5.4` in its checkout)",
            crate_dir.display(),
            failure.tail(15)
        )
    })
}

/// The SQL that sets up Spin's `spin_dev` database: every `*.sql` file, in name order, of the
/// suite's `postgres-init` directory (`crates/test-environment/services/postgres-init` in a
/// checkout, or a `postgres-init` directory beside or above the tests).
pub fn postgres_init_sql(app_dir: &Path) -> anyhow::Result<String> {
    let dir = app_dir
        .ancestors()
        .flat_map(|dir| {
            [
                dir.join("postgres-init"),
                dir.join("crates/test-environment/services/postgres-init"),
            ]
        })
        .find(|dir| dir.is_dir())
        .with_context(|| {
            format!(
                "{}: precondition postgres without `variable` loads the suite's \
                 postgres-init/*.sql, and no postgres-init directory is above the test",
                app_dir.display()
            )
        })?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut sql = String::new();
    for file in files {
        sql.push_str(
            &std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?,
        );
        sql.push_str(";\n");
    }
    Ok(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_replace_each_template_and_keep_the_rest() {
        let mut ports = Ports::default();
        ports.expose(80, 41234);
        ports.expose(7, 40007);
        assert_eq!(
            ports
                .substitute("http://localhost:%{port=80}/x and 127.0.0.1:%{ port = 7 }")
                .unwrap(),
            "http://localhost:41234/x and 127.0.0.1:40007"
        );
        assert_eq!(ports.substitute("no templates").unwrap(), "no templates");
    }

    #[test]
    fn bad_substitutions_name_the_problem() {
        let ports = Ports::default();
        let error = ports.substitute("x %{port=6379}").unwrap_err().to_string();
        assert!(
            error.contains("no precondition of this spec provides port 6379"),
            "{error}"
        );
        let error = ports.substitute("%{port=http}").unwrap_err().to_string();
        assert!(error.contains("not a port number"), "{error}");
        let error = ports.substitute("%{colour=red}").unwrap_err().to_string();
        assert!(
            error.contains("unknown substitution `%{colour=...}`"),
            "{error}"
        );
        let error = ports.substitute("%{port=80").unwrap_err().to_string();
        assert!(error.contains("unclosed"), "{error}");
        let error = ports.substitute("%{port}").unwrap_err().to_string();
        assert!(error.contains("not of the form"), "{error}");
    }
}
