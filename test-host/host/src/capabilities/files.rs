//! A component's `files`, mounted read-only as Spin mounts them: every entry is copied, when
//! the app loads, into one directory per component that the guest sees as `/`.
//!
//! Copying (Spin's default for `spin up`) keeps the guest's view fixed while the app runs and
//! lets globs, single files and placed directories share one root. Each matched path must
//! resolve inside the app directory, so a symbolic link cannot carry a guest out of it.

use std::path::Path;
#[cfg(test)]
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::manifest::{Component, FilesMount, Manifest};

/// The files one component sees: a staged copy, removed when the app is dropped.
#[derive(Debug)]
pub struct FilesRoot {
    staged: tempfile::TempDir,
}

impl FilesRoot {
    /// The host directory the guest sees as `/`.
    pub fn path(&self) -> &Path {
        self.staged.path()
    }

    /// Mounts the files read-only at `/` of the guest `wasi` is for.
    pub fn mount(&self, wasi: &mut WasiCtxBuilder) -> anyhow::Result<()> {
        wasi.preopened_dir(self.path(), "/", FsPerms::ReadOnly)
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("cannot mount {}: {e}", self.path().display()))
    }
}

/// Copies what component `name`'s `files` names into a fresh directory; `None` when it names
/// nothing. Errors name the manifest and the entry.
pub fn stage(
    manifest: &Manifest,
    name: &str,
    component: &Component,
) -> anyhow::Result<Option<FilesRoot>> {
    if component.files.is_empty() {
        return Ok(None);
    }
    let app_dir = manifest
        .dir()
        .canonicalize()
        .with_context(|| format!("cannot read the app directory {}", manifest.dir().display()))?;
    let staged = tempfile::Builder::new()
        .prefix("rotor-files-")
        .tempdir()
        .context("cannot create a directory for the component's files")?;
    let excluded = component
        .exclude_files
        .iter()
        .enumerate()
        .map(|(index, pattern)| {
            glob::Pattern::new(pattern).map_err(|e| {
                anyhow::anyhow!(
                    "{}: at `component.{name}.exclude_files[{index}]`: {pattern:?} is not a glob pattern: {e}",
                    manifest.path.display()
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let stager = Stager {
        app_dir: &app_dir,
        root: staged.path(),
        excluded: &excluded,
    };
    for (index, entry) in component.files.iter().enumerate() {
        stager.stage(entry.get_ref()).with_context(|| {
            format!(
                "{}: at `component.{name}.files[{index}]`",
                manifest.path.display()
            )
        })?;
    }
    Ok(Some(FilesRoot { staged }))
}

struct Stager<'a> {
    app_dir: &'a Path,
    root: &'a Path,
    excluded: &'a [glob::Pattern],
}

impl Stager<'_> {
    fn stage(&self, entry: &FilesMount) -> anyhow::Result<()> {
        match entry {
            FilesMount::Pattern(pattern) => {
                let path = self.app_dir.join(pattern);
                if path.is_dir() {
                    self.copy_tree(&path, &self.root.join(pattern))
                } else if path.exists() {
                    self.copy_file(&path, &self.root.join(pattern))
                } else if glob::Pattern::escape(pattern) != *pattern {
                    self.copy_glob(pattern)
                } else {
                    bail!("{pattern:?} does not exist and is not a glob pattern")
                }
            }
            FilesMount::Placement {
                source,
                destination,
            } => {
                let path = self.app_dir.join(source);
                let target = self.root.join(destination.trim_start_matches('/'));
                if path.is_dir() {
                    self.copy_tree(&path, &target)
                } else if path.exists() {
                    if destination.ends_with('/') {
                        bail!("destination {destination:?} names a directory; a file's destination is a file path such as \"/data/{}\"", file_name(&path));
                    }
                    self.copy_file(&path, &target)
                } else {
                    bail!("source {source:?} does not exist")
                }
            }
        }
    }

    /// Every file matching `pattern` (relative to the app directory), at its relative path.
    fn copy_glob(&self, pattern: &str) -> anyhow::Result<()> {
        let absolute = self.app_dir.join(pattern);
        let matches = glob::glob(&absolute.to_string_lossy())
            .with_context(|| format!("{pattern:?} is not a glob pattern"))?;
        for found in matches {
            let found = found?;
            if !found.is_file() {
                continue;
            }
            let relative = found
                .strip_prefix(self.app_dir)
                .with_context(|| {
                    format!("{} is outside the application directory", found.display())
                })?
                .to_owned();
            self.copy_file(&found, &self.root.join(relative))?;
        }
        Ok(())
    }

    /// Every file under directory `source`, kept at its place below `target`. A directory
    /// reached twice through symbolic links is read once, so a link loop ends; one that
    /// leads out of the app directory is refused.
    fn copy_tree(&self, source: &Path, target: &Path) -> anyhow::Result<()> {
        let mut pending = vec![source.to_owned()];
        let mut seen = std::collections::HashSet::new();
        while let Some(dir) = pending.pop() {
            let resolved = dir
                .canonicalize()
                .with_context(|| format!("cannot read directory {}", dir.display()))?;
            if !resolved.starts_with(self.app_dir) {
                bail!(
                    "{} resolves to {}, outside the application directory",
                    dir.display(),
                    resolved.display()
                );
            }
            if !seen.insert(resolved) {
                continue;
            }
            let entries = std::fs::read_dir(&dir)
                .with_context(|| format!("cannot read directory {}", dir.display()))?;
            for entry in entries {
                let path = entry?.path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.is_file() {
                    let relative = path.strip_prefix(source).unwrap_or(&path);
                    self.copy_file(&path, &target.join(relative))?;
                }
            }
        }
        Ok(())
    }

    /// Copies one file, unless `exclude_files` leaves it out; refuses one that resolves
    /// outside the app directory.
    fn copy_file(&self, source: &Path, target: &Path) -> anyhow::Result<()> {
        let resolved = source
            .canonicalize()
            .with_context(|| format!("cannot read {}", source.display()))?;
        let Ok(in_app) = resolved.strip_prefix(self.app_dir) else {
            bail!(
                "{} resolves to {}, outside the application directory",
                source.display(),
                resolved.display()
            );
        };
        let named = source.strip_prefix(self.app_dir).unwrap_or(in_app);
        if self
            .excluded
            .iter()
            .any(|pattern| pattern.matches_path(named))
        {
            return Ok(());
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::copy(&resolved, target)
            .with_context(|| format!("cannot copy {} to {}", source.display(), target.display()))?;
        Ok(())
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The directories a test looks into.
#[cfg(test)]
fn listing(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_owned());
            }
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &str, exclude: &str) -> (tempfile::TempDir, Manifest) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in [
            ("static/index.html", "<h1>hi</h1>"),
            ("static/css/site.css", "body{}"),
            ("static/notes.md", "# notes"),
            ("data/config.json", "{}"),
            ("readme.txt", "read me"),
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let text = format!(
            "spin_manifest_version = 2\n[application]\nname = \"files\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n[component.web]\nsource = \"web.wasm\"\nfiles = {files}\nexclude_files = {exclude}\n"
        );
        let path = dir.path().join("spin.toml");
        std::fs::write(&path, &text).unwrap();
        let manifest = Manifest::load(&path).unwrap();
        (dir, manifest)
    }

    fn staged(files: &str, exclude: &str) -> anyhow::Result<Vec<PathBuf>> {
        let (_dir, manifest) = app(files, exclude);
        let root = stage(&manifest, "web", &manifest.components["web"])?.unwrap();
        Ok(listing(root.path()))
    }

    #[test]
    fn patterns_keep_their_relative_paths() {
        assert_eq!(
            staged(r#"["static/**/*", "readme.txt"]"#, "[]").unwrap(),
            [
                "readme.txt",
                "static/css/site.css",
                "static/index.html",
                "static/notes.md"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(
            staged(r#"["data"]"#, "[]").unwrap(),
            [PathBuf::from("data/config.json")]
        );
    }

    #[test]
    fn placements_put_directories_and_files_at_their_destination() {
        assert_eq!(
            staged(
                r#"[{ source = "static", destination = "/" }, { source = "readme.txt", destination = "/docs/README" }]"#,
                "[]"
            )
            .unwrap(),
            ["css/site.css", "docs/README", "index.html", "notes.md"].map(PathBuf::from)
        );
    }

    #[test]
    fn exclude_files_leaves_matches_out() {
        assert_eq!(
            staged(r#"["static/**/*"]"#, r#"["static/*.md"]"#).unwrap(),
            ["static/css/site.css", "static/index.html"].map(PathBuf::from)
        );
    }

    #[test]
    fn a_missing_source_names_the_entry() {
        let error = staged(r#"["static/**/*", "nothing.txt"]"#, "[]").unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("component.web.files[1]"), "{message}");
        assert!(message.contains("nothing.txt"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_link_loop_ends() {
        let (dir, manifest) = app(r#"[{ source = "static", destination = "/" }]"#, "[]");
        std::os::unix::fs::symlink(dir.path().join("static"), dir.path().join("static/again"))
            .unwrap();
        let root = stage(&manifest, "web", &manifest.components["web"])
            .unwrap()
            .unwrap();
        assert!(listing(root.path()).contains(&PathBuf::from("index.html")));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_app_is_refused() {
        let (dir, manifest) = app(r#"["static/**/*"]"#, "[]");
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s3cret").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret"),
            dir.path().join("static/secret"),
        )
        .unwrap();
        let error = stage(&manifest, "web", &manifest.components["web"]).unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.contains("outside the application directory"),
            "{message}"
        );
        assert!(message.contains("component.web.files[0]"), "{message}");
    }
}
