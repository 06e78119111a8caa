//! `rotor build`: runs each component's `[component.NAME.build] command`.

pub mod cargo_wasm;

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};

use crate::manifest::Manifest;

/// Runs every component's build command, in manifest order, stopping at the first failure.
///
/// The commands' own output goes straight to the terminal, so progress is visible and a
/// failing compiler's messages are right above the error this returns.
pub fn build_all(manifest: &Manifest) -> anyhow::Result<()> {
    let with_builds: Vec<_> = manifest
        .components
        .iter()
        .filter_map(|(name, component)| component.build.as_ref().map(|build| (name, build)))
        .collect();
    if with_builds.is_empty() {
        eprintln!(
            "No component in {} has a build command.",
            manifest.path.display()
        );
        return Ok(());
    }
    let total = with_builds.len();
    let started = std::time::Instant::now();
    for (index, (name, build)) in with_builds.into_iter().enumerate() {
        let component_started = std::time::Instant::now();
        let workdir = match &build.workdir {
            Some(dir) => manifest.dir().join(dir),
            None => manifest.dir().to_owned(),
        };
        eprintln!(
            "[{}/{total}] Building component `{name}`: {}",
            index + 1,
            build.command
        );
        for command in build.command.iter() {
            let status = shell(command)
                .current_dir(&workdir)
                .status()
                .with_context(|| {
                    format!(
                        "cannot start the build command of component `{name}` in {}",
                        workdir.display()
                    )
                })?;
            if !status.success() {
                bail!(
                    "building component `{name}` failed ({status}); the command was `{command}` in {}",
                    workdir.display()
                );
            }
        }
        eprintln!(
            "[{}/{total}] Built component `{name}` in {:.1} s.",
            index + 1,
            component_started.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "Finished building all components in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `sh -c command`, with this `rotor`'s directory first on `PATH`, so that a build command
/// such as `rotor js build app.js -o app.wasm` runs the same `rotor` as the one building.
fn shell(command: &str) -> Command {
    let mut shell = Command::new("sh");
    shell.arg("-c").arg(command);
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_owned))
    {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(dir).chain(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(paths) {
            shell.env("PATH", joined);
        }
    }
    shell
}
