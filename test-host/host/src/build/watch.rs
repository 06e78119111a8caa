//! What `rotor watch` watches, and what a change calls for: Spin's `spin watch` rules.
//!
//! - A component's sources are its `build.watch` globs, relative to its build's `workdir`;
//!   without any, a Rust crate's `src/**/*.rs` and `Cargo.toml`, or a JavaScript app's
//!   `**/*.js`, `**/*.mjs` and `package.json`. A change to them rebuilds that component.
//! - A change to a component's `source` (its `.wasm`) restarts the app, as does the manifest,
//!   which is read again (and, unless builds are skipped, every component rebuilt).
//! - Nothing under `target/`, `node_modules/`, `.spin/` or `.git/` counts: builds write
//!   there, and a watch that saw its own builds would never settle.

use std::collections::BTreeSet;
use std::path::{Component as PathPart, Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};

use crate::manifest::{ComponentSource, Manifest};

/// The directories whose contents never call for a rebuild.
const IGNORED_DIRECTORIES: &[&str] = &["target", "node_modules", ".spin", ".git"];

/// What to watch for one app.
#[derive(Debug)]
pub struct WatchPlan {
    manifest: PathBuf,
    components: Vec<WatchedComponent>,
}

#[derive(Debug)]
struct WatchedComponent {
    name: String,
    /// Absolute patterns of the files it is built from; empty without a build command.
    sources: Vec<glob::Pattern>,
    /// The `.wasm` it loads from, absolute.
    artifact: Option<PathBuf>,
}

/// What a batch of changed files calls for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// The manifest changed: read it again.
    pub manifest: bool,
    /// The components to rebuild.
    pub rebuild: BTreeSet<String>,
    /// Something the running app loaded changed: restart it.
    pub restart: bool,
}

impl Changes {
    /// Whether anything is to be done.
    pub fn any(&self) -> bool {
        self.manifest || self.restart || !self.rebuild.is_empty()
    }
}

impl WatchPlan {
    /// The plan for `manifest`.
    pub fn new(manifest: &Manifest) -> WatchPlan {
        let dir = absolute(manifest.dir());
        let components = manifest
            .components
            .iter()
            .map(|(name, component)| {
                let sources = match &component.build {
                    None => Vec::new(),
                    Some(build) => {
                        let workdir = match &build.workdir {
                            Some(workdir) => dir.join(workdir),
                            None => dir.clone(),
                        };
                        let globs: Vec<String> = if !build.watch.is_empty() {
                            build.watch.clone()
                        } else if workdir.join("Cargo.toml").exists() {
                            vec!["src/**/*.rs".into(), "Cargo.toml".into()]
                        } else {
                            vec!["**/*.js".into(), "**/*.mjs".into(), "package.json".into()]
                        };
                        globs
                            .iter()
                            .filter_map(|glob| {
                                let path = workdir.join(glob);
                                glob::Pattern::new(&path.to_string_lossy()).ok()
                            })
                            .collect()
                    }
                };
                let artifact = match &component.source {
                    ComponentSource::Local(path) => Some(dir.join(path)),
                    _ => None,
                };
                WatchedComponent {
                    name: name.clone(),
                    sources,
                    artifact,
                }
            })
            .collect();
        WatchPlan {
            manifest: dir.join(manifest.path.file_name().unwrap_or("spin.toml".as_ref())),
            components,
        }
    }

    /// The directories to watch, and how: the literal part of each source glob (all of it
    /// where the glob reaches into subdirectories), and the directories of the manifest and
    /// of each artifact. A directory that does not exist yet is watched through its nearest
    /// existing ancestor, as far as that goes (not recursively: a crate's `target/` is no
    /// place for thousands of watches); [`WatchPlan::roots`] is worth asking again after a
    /// build, which makes the directories its artifacts go to.
    pub fn roots(&self) -> Vec<(PathBuf, RecursiveMode)> {
        let mut roots = BTreeSet::new();
        let mut add = |dir: &Path, recursive: bool| {
            let mut dir = dir.to_owned();
            while !dir.is_dir() {
                match dir.parent() {
                    Some(parent) => dir = parent.to_owned(),
                    None => return,
                }
            }
            roots.insert((dir, recursive));
        };
        if let Some(dir) = self.manifest.parent() {
            add(dir, false);
        }
        for component in &self.components {
            for pattern in &component.sources {
                let (base, recursive) = literal_base(Path::new(pattern.as_str()));
                add(&base, recursive);
            }
            if let Some(dir) = component.artifact.as_deref().and_then(Path::parent) {
                add(dir, false);
            }
        }
        // A directory watched recursively covers whatever lies beneath it.
        let recursive_roots: Vec<PathBuf> = roots
            .iter()
            .filter(|(_, recursive)| *recursive)
            .map(|(dir, _)| dir.clone())
            .collect();
        roots
            .into_iter()
            .filter(|(dir, recursive)| !recursive_covers(&recursive_roots, dir, *recursive))
            .map(|(dir, recursive)| {
                let mode = if recursive {
                    RecursiveMode::Recursive
                } else {
                    RecursiveMode::NonRecursive
                };
                (dir, mode)
            })
            .collect()
    }

    /// What the files in `changed` call for; with `skip_build`, sources only restart the
    /// app when the artifacts they make change.
    pub fn classify(&self, changed: &BTreeSet<PathBuf>, skip_build: bool) -> Changes {
        let mut changes = Changes::default();
        for path in changed {
            if *path == self.manifest {
                changes.manifest = true;
                continue;
            }
            for component in &self.components {
                if component.artifact.as_deref() == Some(path.as_path()) {
                    changes.restart = true;
                }
                if !skip_build
                    && !is_ignored(path)
                    && component.sources.iter().any(|p| p.matches_path(path))
                {
                    changes.rebuild.insert(component.name.clone());
                }
            }
        }
        changes
    }
}

/// Whether `dir` lies strictly below (or, when not itself recursive, at) one of `recursive`.
fn recursive_covers(recursive: &[PathBuf], dir: &Path, dir_recursive: bool) -> bool {
    recursive
        .iter()
        .any(|root| dir.starts_with(root) && (dir != root || !dir_recursive))
}

/// The directory of `pattern` before its first wildcard, and whether the pattern reaches
/// below it.
fn literal_base(pattern: &Path) -> (PathBuf, bool) {
    let parts: Vec<_> = pattern.components().collect();
    let wild = parts
        .iter()
        .position(|part| part.as_os_str().to_string_lossy().contains(['*', '?', '[']));
    match wild {
        // A plain file: its directory.
        None => (pattern.parent().unwrap_or(Path::new("/")).to_owned(), false),
        Some(index) => {
            let base: PathBuf = parts[..index].iter().collect();
            // `dir/*.rs` stays in `dir`; `dir/**/x` or `dir/*/x.rs` go deeper.
            let deeper = index + 1 < parts.len()
                || parts[index].as_os_str().to_string_lossy().contains("**");
            (base, deeper)
        }
    }
}

fn is_ignored(path: &Path) -> bool {
    path.components().any(|part| {
        matches!(part, PathPart::Normal(name) if IGNORED_DIRECTORIES.iter().any(|d| name == *d))
    })
}

fn absolute(dir: &Path) -> PathBuf {
    dir.canonicalize()
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_owned())
}

/// Watches a plan's roots and hands over changed files in debounced batches.
pub struct FileWatcher {
    // Dropping the watcher stops the events.
    _watcher: notify::RecommendedWatcher,
    events: tokio::sync::mpsc::UnboundedReceiver<PathBuf>,
}

impl FileWatcher {
    /// Starts watching `plan`'s roots.
    pub fn start(plan: &WatchPlan) -> anyhow::Result<FileWatcher> {
        let (send, events) = tokio::sync::mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if matches!(
                    event.kind,
                    EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                ) {
                    for path in event.paths {
                        let _ = send.send(path);
                    }
                }
            })?;
        for (dir, mode) in plan.roots() {
            watcher
                .watch(&dir, mode)
                .map_err(|e| anyhow::anyhow!("cannot watch {}: {e}", dir.display()))?;
        }
        Ok(FileWatcher {
            _watcher: watcher,
            events,
        })
    }

    /// The files changed so far, and until none has changed for `quiet` (nothing, at once,
    /// when nothing is waiting): what a build just did to the watched files.
    pub async fn settle(&mut self, quiet: Duration) -> BTreeSet<PathBuf> {
        let mut batch = BTreeSet::new();
        while let Ok(Some(path)) = tokio::time::timeout(quiet, self.events.recv()).await {
            batch.insert(path);
        }
        batch
    }

    /// The files changed from the next change on until none has changed for `quiet`: an
    /// editor's burst of saves, or a `git checkout`, is one batch.
    pub async fn next_batch(&mut self, quiet: Duration) -> BTreeSet<PathBuf> {
        let mut batch = BTreeSet::new();
        match self.events.recv().await {
            Some(path) => batch.insert(path),
            None => return batch,
        };
        while let Ok(Some(path)) = tokio::time::timeout(quiet, self.events.recv()).await {
            batch.insert(path);
        }
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(manifest: &str, files: &[&str]) -> (tempfile::TempDir, WatchPlan) {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let path = dir.path().join("spin.toml");
        std::fs::write(&path, manifest).unwrap();
        let manifest = Manifest::load(&path).unwrap();
        (dir, WatchPlan::new(&manifest))
    }

    const TWO_COMPONENTS: &str = r#"spin_manifest_version = 2
[application]
name = "w"
[[trigger.http]]
route = "/api/..."
component = "api"
[[trigger.http]]
route = "/web/..."
component = "web"
[component.api]
source = "api/target/wasm32-wasip2/release/api.wasm"
[component.api.build]
command = "cargo build --target wasm32-wasip2 --release"
workdir = "api"
[component.web]
source = "web.wasm"
[component.web.build]
command = "rotor js build web/app.js -o web.wasm"
watch = ["web/**/*.js", "web/style.css"]
"#;

    #[test]
    fn sources_rebuild_their_component_and_artifacts_restart() {
        let (dir, plan) = plan(TWO_COMPONENTS, &["api/Cargo.toml", "api/src/lib.rs"]);
        let root = dir.path().canonicalize().unwrap();
        let classify = |paths: &[&str], skip_build: bool| {
            let changed = paths.iter().map(|p| root.join(p)).collect();
            plan.classify(&changed, skip_build)
        };
        let rebuild = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            classify(&["api/src/routes/orders.rs"], false),
            Changes {
                rebuild: rebuild(&["api"]),
                ..Changes::default()
            }
        );
        assert_eq!(
            classify(&["api/Cargo.toml"], false).rebuild,
            rebuild(&["api"])
        );
        assert_eq!(
            classify(&["web/lib/util.js", "web/style.css"], false).rebuild,
            rebuild(&["web"])
        );
        // Builds' own output, and files no glob names, call for nothing.
        assert!(!classify(
            &[
                "api/target/debug/x.rs",
                "api/README.md",
                "web/node_modules/x/i.js"
            ],
            false
        )
        .any());
        // Artifacts restart; the manifest is read again.
        assert!(classify(&["api/target/wasm32-wasip2/release/api.wasm"], false).restart);
        assert!(classify(&["web.wasm"], false).restart);
        assert!(classify(&["spin.toml"], false).manifest);
        // Skipping builds, sources do nothing.
        assert!(!classify(&["api/src/lib.rs"], true).any());
    }

    #[test]
    fn roots_are_the_globs_literal_directories() {
        let (dir, plan) = plan(
            TWO_COMPONENTS,
            &["api/Cargo.toml", "api/src/lib.rs", "web/app.js"],
        );
        let root = dir.path().canonicalize().unwrap();
        let roots = plan.roots();
        let has = |path: &str, mode: RecursiveMode| {
            roots.contains(&(root.join(path).components().collect(), mode))
        };
        assert!(has("api/src", RecursiveMode::Recursive), "{roots:?}");
        assert!(has("web", RecursiveMode::Recursive), "{roots:?}");
        assert!(has("api", RecursiveMode::NonRecursive), "{roots:?}");
        assert!(has("", RecursiveMode::NonRecursive), "{roots:?}");
        // The artifact's directory does not exist yet: its nearest ancestor stands in, not
        // recursively (it holds `target/`).
        assert!(
            !roots.iter().any(|(d, _)| d.ends_with("release")),
            "{roots:?}"
        );
        assert!(!has("api", RecursiveMode::Recursive), "{roots:?}");
        // Nothing is watched twice: `web/style.css`'s directory is inside `web/**`'s.
        assert_eq!(
            roots.iter().filter(|(d, _)| d.ends_with("web")).count(),
            1,
            "{roots:?}"
        );
    }

    #[test]
    fn literal_bases() {
        for (pattern, base, deeper) in [
            ("/a/src/**/*.rs", "/a/src", true),
            ("/a/Cargo.toml", "/a", false),
            ("/a/*.js", "/a", false),
            ("/a/*/x.rs", "/a", true),
        ] {
            assert_eq!(
                literal_base(Path::new(pattern)),
                (PathBuf::from(base), deeper),
                "{pattern}"
            );
        }
    }
}
