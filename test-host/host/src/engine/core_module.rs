//! Core modules built for `wasm32-wasip1` (Spin's own Rust and Go templates, TinyGo, older
//! SDKs), turned into components as Spin turns them: `wit-component` with the WASI preview 1
//! adapter, reading the component types the guest's bindings embedded in the module.
//!
//! Adapting takes far longer than loading a cached compilation, so the component is kept in
//! the cache directory, keyed by the module's digest, and compiled (and cached) as any other.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use sha2::{Digest as _, Sha256};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wasmtime::wasmparser::{Parser, Payload};

/// Which adapter build the cached components were made with; part of the cache key, so that
/// a new adapter never reuses a component made with an old one.
const ADAPTER_VERSION: &str = "wasi-preview1-component-adapter-provider 48";

/// The component for core module `module` (the bytes of `path`), from `cache_dir` when it was
/// adapted before; adapted and stored there otherwise.
pub fn componentize(
    module: &[u8],
    path: &Path,
    cache_dir: Option<&Path>,
) -> anyhow::Result<Vec<u8>> {
    let cached = cache_dir.map(|dir| cached_path(dir, module));
    if let Some(component) = cached.as_deref().and_then(|path| std::fs::read(path).ok()) {
        return Ok(component);
    }
    if !has_component_types(module) {
        bail!(
            "{} is a core WebAssembly module without component type information: it was not built \
             with WIT bindings (wit-bindgen, or a Spin SDK 2.0 or newer), so there is no telling \
             which Spin interfaces it implements; rebuild it with a current SDK, or for wasm32-wasip2",
            path.display()
        );
    }
    let component = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|encoder| {
            encoder.adapter(
                WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
                WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )
        })
        .and_then(|mut encoder| encoder.encode())
        .with_context(|| {
            format!(
                "{} is a core WebAssembly module that cannot be made into a component with the WASI preview 1 adapter",
                path.display()
            )
        })?;
    if let Some(cached) = cached {
        // A cache that cannot be written only costs the next start the same work again.
        let _ = store(&cached, &component);
    }
    Ok(component)
}

/// Drops the cached component for `module`, when it turned out not to compile.
pub fn forget(module: &[u8], cache_dir: Option<&Path>) {
    if let Some(dir) = cache_dir {
        let _ = std::fs::remove_file(cached_path(dir, module));
    }
}

/// Where the component for `module` is kept.
fn cached_path(cache_dir: &Path, module: &[u8]) -> PathBuf {
    let mut digest = Sha256::new();
    digest.update(ADAPTER_VERSION.as_bytes());
    digest.update([0]);
    digest.update(module);
    let name: String = digest
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    cache_dir.join("adapted").join(format!("{name}.wasm"))
}

/// Writes `bytes` to `path` so that no reader ever sees half of it.
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let partial = dir.join(format!(
        ".{}.{}",
        std::process::id(),
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

/// Whether the module carries the `component-type` custom sections that WIT bindings embed.
fn has_component_types(module: &[u8]) -> bool {
    Parser::new(0).parse_all(module).any(|payload| {
        matches!(payload, Ok(Payload::CustomSection(section)) if section.name().starts_with("component-type"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_without_component_types_is_refused_with_the_reason() {
        // The smallest valid module: the preamble alone.
        let module = b"\0asm\x01\0\0\0";
        let error = componentize(module, Path::new("old.wasm"), None).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("old.wasm"), "{message}");
        assert!(
            message.contains("without component type information"),
            "{message}"
        );
    }

    #[test]
    fn the_cache_key_follows_the_module() {
        let dir = Path::new("/cache");
        assert_eq!(cached_path(dir, b"one"), cached_path(dir, b"one"));
        assert_ne!(cached_path(dir, b"one"), cached_path(dir, b"two"));
        assert!(cached_path(dir, b"one").starts_with("/cache/adapted"));
    }
}
