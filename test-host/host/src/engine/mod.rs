//! The engine layer: the wasmtime engine every component of an app shares, with compilation
//! (and its on-disk cache), the pooling allocator, request deadlines and memory caps.
//!
//! It knows nothing of capabilities or triggers: stores are generic over their data, which
//! only has to hand out its [`StoreLimits`] ([`Limited`]).

pub mod core_module;
pub mod guest_output;
pub mod http_client;
pub mod remote_source;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use wasmtime::component::Component;
use wasmtime::{
    Cache, CacheConfig, Config, EngineWeak, InstanceAllocationStrategy, Module,
    PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder,
};

use crate::manifest::{ComponentSource, Manifest};

/// How often the engine's epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How much of each pooled memory and table stays mapped between requests.
const KEEP_RESIDENT: usize = 2 << 20;

/// How much of each pooled memory stays mapped where the kernel reports which pages a
/// request wrote (`PAGEMAP_SCAN`, Linux 6.7 and later): only those are copied back from the
/// component's initial memory, so keeping more costs nothing for pages a request leaves
/// alone, and saves a page fault on each page it writes again. A pre-initialized JavaScript
/// app writes some fifty pages scattered over a heap of several MiB on each request; with
/// only the first 2 MiB kept, each was a fault on every request. (wasmtime's scan reports
/// at most 32 runs of written pages and decommits the rest, so some faults remain: 50 fell
/// to 43 per request of the JavaScript hello.)
const KEEP_RESIDENT_WITH_PAGEMAP: usize = 64 << 20;

/// How many instances may be alive at once; one per request in flight.
pub const MAX_INSTANCES: usize = 512;

/// How many requests may be in the guest at once unless configured: a few instances stay
/// free for requests to `self` and Redis messages.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 480;

/// Settings of the engine, from the command line.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long one request may run in the guest before it is stopped with a 500.
    pub request_deadline: Duration,
    /// The most linear memory one instance may use, in bytes.
    pub max_instance_memory: usize,
    /// Where compiled code is cached between runs; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// How many requests may be in the guest at once; beyond, a request is answered 503 with
    /// `Retry-After` at once. At most [`MAX_INSTANCES`], which the pooling allocator holds.
    pub max_in_flight: usize,
    /// The largest request body a component is given, in bytes; a larger one is answered
    /// 413. `None`, the default, sets no limit, as Spin sets none: the body streams into the
    /// guest, whose memory is capped anyway.
    pub max_request_body: Option<u64>,
    /// How long a stopping app waits for the requests and Redis messages it has taken to
    /// finish before it drops them.
    pub drain_timeout: Duration,
    /// How many threads serve HTTP connections, each with an event loop of its own that
    /// runs its connections and their guests (see [`crate::triggers::http::serve`]); 0, the
    /// default, serves them on the runtime that called `serve`.
    pub server_threads: usize,
}

/// How long a stopping app waits for its requests to finish, unless told otherwise.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            request_deadline: Duration::from_secs(30),
            max_instance_memory: 128 * 1024 * 1024,
            cache_dir: default_cache_dir(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_request_body: None,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            server_threads: 0,
        }
    }
}

/// `$XDG_CACHE_HOME/rotor`, else `$HOME/.cache/rotor`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .map(|base| base.join("rotor"))
}

/// Store data that carries its own limits, so that the engine can enforce them.
pub trait Limited {
    /// The limits of the store this is the data of.
    fn limits(&mut self) -> &mut StoreLimits;
}

/// The wasmtime engine with its settings: compiles code and makes stores.
pub struct Engine {
    engine: wasmtime::Engine,
    config: EngineConfig,
    cache: Option<Cache>,
}

impl Engine {
    /// Builds the engine and starts the clock that enforces deadlines.
    pub fn new(config: EngineConfig) -> anyhow::Result<Arc<Engine>> {
        if config.max_in_flight == 0 || config.max_in_flight > MAX_INSTANCES {
            bail!(
                "at most {MAX_INSTANCES} and at least 1 request can be in flight; {} was asked for",
                config.max_in_flight
            );
        }
        let mut wasm = Config::new();
        wasm.epoch_interruption(true);
        // `ROTOR_PROFILE=perfmap` writes /tmp/perf-PID.map, so that `perf report` names the
        // guest's functions instead of showing one anonymous JIT region.
        if std::env::var_os("ROTOR_PROFILE").is_some_and(|v| v == "perfmap") {
            wasm.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let mut pooling = PoolingAllocationConfig::default();
        let instances = MAX_INSTANCES as u32;
        pooling
            .total_component_instances(instances)
            .total_memories(instances)
            .total_tables(instances * 2)
            .total_core_instances(instances * 4)
            .total_stacks(instances)
            .max_memory_size(config.max_instance_memory)
            // Zeroing the pages a request touched is cheaper than returning them to the
            // kernel and faulting them in again on the next request.
            .linear_memory_keep_resident(if PoolingAllocationConfig::is_pagemap_scan_available() {
                KEEP_RESIDENT_WITH_PAGEMAP
            } else {
                KEEP_RESIDENT
            })
            .table_keep_resident(KEEP_RESIDENT)
            // Where the kernel can say which pages a request touched (Linux 6.7 and later,
            // `PAGEMAP_SCAN`), only those are reset, instead of all of the first
            // `KEEP_RESIDENT` bytes: for the hello, a few pages instead of its whole 1 MiB
            // stack (the memset was a fifth of the host's time under load).
            .pagemap_scan(wasmtime::Enabled::Auto);
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
        let cache = match &config.cache_dir {
            Some(dir) => {
                let mut settings = CacheConfig::new();
                settings.with_directory(dir.join("wasmtime"));
                let cache = Cache::new(settings)
                    .map_err(anyhow::Error::from)
                    .with_context(|| {
                        format!("setting up the compiled-code cache in {}", dir.display())
                    })?;
                wasm.cache(Some(cache.clone()));
                Some(cache)
            }
            None => None,
        };
        let engine = wasmtime::Engine::new(&wasm)?;
        start_epoch_clock(engine.weak());
        Ok(Arc::new(Engine {
            engine,
            config,
            cache,
        }))
    }

    /// The wasmtime engine, for linkers over it.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.engine
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// How many components were loaded from the compiled-code cache instead of compiled.
    pub fn cache_hits(&self) -> usize {
        self.cache.as_ref().map_or(0, Cache::cache_hits)
    }

    /// Loads and compiles the component at `path` (from the cache when it was seen before).
    /// A core module built for `wasm32-wasip1` is made into a component first, as Spin does
    /// (see [`core_module`]).
    pub fn load_component(&self, path: &Path) -> anyhow::Result<Component> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        match wasm_kind(&bytes) {
            WasmKind::Component => self.compile(&bytes, path),
            WasmKind::CoreModule => {
                let cache = self.config.cache_dir.as_deref();
                let component = core_module::componentize(&bytes, path, cache)?;
                self.compile(&component, path).or_else(|_| {
                    // A damaged cache entry: adapt the module again.
                    core_module::forget(&bytes, cache);
                    self.compile(&core_module::componentize(&bytes, path, cache)?, path)
                })
            }
            WasmKind::NotWasm => bail!("{} is not a WebAssembly file", path.display()),
        }
    }

    fn compile(&self, component: &[u8], path: &Path) -> anyhow::Result<Component> {
        Component::new(&self.engine, component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{} is not a valid component", path.display()))
    }

    /// Where components with a `{ url, digest }` source are kept: in the cache directory, or,
    /// without one, in the system's temporary directory.
    pub fn sources_dir(&self) -> PathBuf {
        match &self.config.cache_dir {
            Some(dir) => dir.join("sources"),
            None => std::env::temp_dir().join("rotor-sources"),
        }
    }

    /// Downloads every `{ url, digest }` source of `manifest` not downloaded before. Errors
    /// name the manifest and the component.
    pub async fn fetch_sources(&self, manifest: &Manifest) -> anyhow::Result<()> {
        for (name, component) in &manifest.components {
            if let ComponentSource::Remote { url, digest } = &component.source {
                remote_source::fetch(url, digest, &self.sources_dir())
                    .await
                    .with_context(|| source_context(manifest, name))?;
            }
        }
        Ok(())
    }

    /// Loads and compiles the component `name` of `manifest`. Errors name the manifest, the
    /// component and its source.
    pub fn load_source(&self, manifest: &Manifest, name: &str) -> anyhow::Result<Component> {
        let source = existing_source(self, manifest, name)?;
        self.load_component(&source)
            .with_context(|| source_context(manifest, name))
    }

    /// Loads and compiles the core WebAssembly module of component `name` (built for
    /// `wasm32-wasip1`), for the WAGI executor.
    pub fn load_module(&self, manifest: &Manifest, name: &str) -> anyhow::Result<Module> {
        let path = existing_source(self, manifest, name)?;
        let context = || source_context(manifest, name);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read {}", path.display()))
            .with_context(context)?;
        match wasm_kind(&bytes) {
            WasmKind::CoreModule => {}
            WasmKind::Component => bail!(
                "{}: {} is a component; the WAGI executor runs core modules built for wasm32-wasip1 (drop `executor = {{ type = \"wagi\" }}` to run a component)",
                context(),
                path.display()
            ),
            WasmKind::NotWasm => bail!("{}: {} is not a WebAssembly file", context(), path.display()),
        }
        Module::new(&self.engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{} is not a valid module", path.display()))
            .with_context(context)
    }

    /// The per-instance limits: the memory cap, and a bound on instances.
    pub fn store_limits(&self) -> StoreLimits {
        StoreLimitsBuilder::new()
            .memory_size(self.config.max_instance_memory)
            .instances(64)
            .build()
    }

    /// A fresh store for one request, holding `data`, with the memory cap and the deadline.
    pub fn new_store<T: Limited + 'static>(&self, data: T) -> Store<T> {
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| data.limits());
        // Each tick a guest computes through, it hands its thread back to the runtime (a
        // guest that loops would otherwise hold one of few worker threads until its
        // deadline, stalling every request queued behind it), and once it has computed for
        // the deadline it traps. Time it spends waiting in the host does not count: a host
        // wait ends at the request's deadline by itself, and the guest must still be able
        // to answer with the error it got. The trigger bounds the whole task in wall time.
        let budget = (self.config.request_deadline.as_millis() / EPOCH_TICK.as_millis()).max(1);
        let mut computed: u128 = 0;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            computed += 1;
            if computed >= budget {
                return Err(wasmtime::Trap::Interrupt.into());
            }
            Ok(wasmtime::UpdateDeadline::Yield(1))
        });
        store
    }
}

/// `manifest`'s name for component `name`, for error messages.
pub(crate) fn source_context(manifest: &Manifest, name: &str) -> String {
    let source = manifest
        .components
        .get(name)
        .map_or("?".to_owned(), |component| component.source.to_string());
    format!(
        "{}: component `{name}` (source {source})",
        manifest.path.display()
    )
}

/// The file component `name` of `manifest` is built into (or was downloaded into); an error
/// when it is not there.
fn existing_source(engine: &Engine, manifest: &Manifest, name: &str) -> anyhow::Result<PathBuf> {
    let component = manifest
        .components
        .get(name)
        .with_context(|| format!("{}: no component `{name}`", manifest.path.display()))?;
    let (source, hint) = match &component.source {
        ComponentSource::Local(path) => {
            let hint = if component.build.is_some() {
                "; run `rotor build` or `rotor up --build` first"
            } else {
                ""
            };
            (manifest.dir().join(path), hint)
        }
        ComponentSource::Remote { digest, .. } => (
            remote_source::path_in(&engine.sources_dir(), digest),
            "; it is downloaded when the app loads",
        ),
        ComponentSource::Registry { .. } => {
            bail!(
                "{}: registry sources are not fetched",
                source_context(manifest, name)
            )
        }
    };
    if !source.exists() {
        bail!(
            "{}: the file does not exist{hint}",
            source_context(manifest, name)
        );
    }
    Ok(source)
}

/// A thread that advances the epoch for as long as the engine lives.
///
/// It follows the engine, not the runtime: every store holds the engine, so a guest still
/// running after the app was dropped (at shutdown, say) still meets its deadline.
fn start_epoch_clock(engine: EngineWeak) {
    std::thread::Builder::new()
        .name("rotor-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match engine.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        })
        .expect("spawning the epoch thread");
}

#[derive(Debug, PartialEq, Eq)]
enum WasmKind {
    Component,
    CoreModule,
    NotWasm,
}

/// Tells components from core modules by the version field of the preamble.
fn wasm_kind(bytes: &[u8]) -> WasmKind {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => WasmKind::CoreModule,
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => WasmKind::Component,
        _ => WasmKind::NotWasm,
    }
}

/// Parses a size such as `134217728`, `64MiB`, `512K` or `1G` (binary units).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 64MiB"))?;
    let multiplier: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} in {text:?}")),
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("2 G"), Ok(2 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn wasm_kinds() {
        assert_eq!(wasm_kind(b"\0asm\x01\0\0\0rest"), WasmKind::CoreModule);
        assert_eq!(wasm_kind(b"\0asm\x0d\0\x01\0rest"), WasmKind::Component);
        assert_eq!(wasm_kind(b"#!/bin/sh\n"), WasmKind::NotWasm);
        assert_eq!(wasm_kind(b""), WasmKind::NotWasm);
    }
}
