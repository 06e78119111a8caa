//! `rotor build`: runs each component's `[component.NAME.build] command`.

pub mod cargo_wasm;
pub mod progress;
pub mod watch;

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};

use crate::manifest::Manifest;

/// Runs every component's build command, in manifest order, stopping at the first failure.
///
/// On a terminal, a progress line shows each build's latest output line and its time so far,
/// and a failing build's whole output is shown above the error this returns; elsewhere the
/// commands' own output goes straight through, as logs want it.
pub fn build_all(manifest: &Manifest) -> anyhow::Result<()> {
    build_some(manifest, |_| true)
}

/// Like [`build_all`], for the components `wanted` picks by name.
pub fn build_some(manifest: &Manifest, wanted: impl Fn(&str) -> bool) -> anyhow::Result<()> {
    let with_builds: Vec<_> = manifest
        .components
        .iter()
        .filter(|(name, _)| wanted(name))
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
        let step = format!("[{}/{total}]", index + 1);
        eprintln!("{step} Building component `{name}`: {}", build.command);
        let mut warnings = Vec::new();
        for command in build.command.iter() {
            let cannot_start = || {
                format!(
                    "cannot start the build command of component `{name}` in {}",
                    workdir.display()
                )
            };
            let status = if progress::on_terminal() {
                // The build's output is held back while the progress line shows its latest
                // line; all of it is shown if the build fails.
                let label = format!("{step} Building component `{name}`");
                let captured = progress::run_captured(
                    shell(command).current_dir(&workdir),
                    &label,
                    progress::Shown::Both,
                )
                .with_context(cannot_start)?;
                if !captured.status.success() {
                    eprint!("{}{}", captured.stdout, captured.stderr);
                }
                warnings.extend(
                    captured
                        .stderr
                        .lines()
                        .chain(captured.stdout.lines())
                        .filter(|line| line.starts_with("warning"))
                        .map(str::to_owned),
                );
                captured.status
            } else {
                shell(command)
                    .current_dir(&workdir)
                    .status()
                    .with_context(cannot_start)?
            };
            if !status.success() {
                bail!(
                    "building component `{name}` failed ({status}); the command was `{command}` in {}",
                    workdir.display()
                );
            }
        }
        for warning in warnings {
            eprintln!("  {warning}");
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
