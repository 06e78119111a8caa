//! The wasmtime engine shared by every component of an app: compilation (with an on-disk
//! cache), the pooling allocator, request deadlines and memory caps.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::{bail, Context as _};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Cache, CacheConfig, Config, Engine, EngineWeak, InstanceAllocationStrategy,
    PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder,
};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpCtx;

use crate::capabilities::outbound_http::OutboundHttp;
use crate::capabilities::ComponentGrants;
use crate::guest_output::{PrefixedOutput, Target};
use crate::http_trigger::HttpApp;
use crate::manifest::Manifest;
use crate::state::HostState;
use crate::wagi::WagiState;

/// How often the engine's epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How much of each pooled memory and table stays mapped between requests.
const KEEP_RESIDENT: usize = 2 << 20;

/// How many instances may be alive at once; one per request in flight.
const MAX_INSTANCES: u32 = 512;

/// Settings of the runtime, from the command line.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// How long one request may run in the guest before it is stopped with a 500.
    pub request_deadline: Duration,
    /// The most linear memory one instance may use, in bytes.
    pub max_instance_memory: usize,
    /// Where compiled code is cached between runs; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            request_deadline: Duration::from_secs(30),
            max_instance_memory: 128 * 1024 * 1024,
            cache_dir: default_cache_dir(),
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

/// The engine, the linker with every host interface, and the settings that apply per store.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    wagi_linker: wasmtime::Linker<WagiState>,
    config: RuntimeConfig,
    cache: Option<Cache>,
}

impl Runtime {
    /// Builds the engine and starts the clock that enforces deadlines.
    pub fn new(config: RuntimeConfig) -> anyhow::Result<Arc<Runtime>> {
        let mut wasm = Config::new();
        wasm.epoch_interruption(true);
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(MAX_INSTANCES)
            .total_memories(MAX_INSTANCES)
            .total_tables(MAX_INSTANCES * 2)
            .total_core_instances(MAX_INSTANCES * 4)
            .total_stacks(MAX_INSTANCES)
            .max_memory_size(config.max_instance_memory)
            // Zeroing the first pages a request touched is cheaper than returning them to the
            // kernel and faulting them in again on the next request.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT);
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
        let engine = Engine::new(&wasm)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        crate::capabilities::add_to_linker(&mut linker)?;
        let mut wagi_linker = wasmtime::Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut wagi_linker, |state: &mut WagiState| {
            &mut state.wasi
        })?;

        let runtime = Arc::new(Runtime {
            engine,
            linker,
            wagi_linker,
            config,
            cache,
        });
        start_epoch_clock(runtime.engine.weak());
        Ok(runtime)
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker holding every interface the host offers.
    pub fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    /// The settings.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// How many components were loaded from the compiled-code cache instead of compiled.
    pub fn cache_hits(&self) -> usize {
        self.cache.as_ref().map_or(0, Cache::cache_hits)
    }

    /// Loads and compiles the component at `path` (from the cache when it was seen before).
    pub fn load_component(&self, path: &Path) -> anyhow::Result<Component> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        match wasm_kind(&bytes) {
            WasmKind::Component => {}
            WasmKind::CoreModule => bail!(
                "{} is a core WebAssembly module, not a component: build it for wasm32-wasip2",
                path.display()
            ),
            WasmKind::NotWasm => bail!("{} is not a WebAssembly file", path.display()),
        }
        Component::new(&self.engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{} is not a valid component", path.display()))
    }

    /// Finds, compiles (or takes from the cache) and links the component `name` of
    /// `manifest`, for any trigger. Errors name the manifest, the component and its source.
    pub fn link_component(
        &self,
        manifest: &Manifest,
        name: &str,
    ) -> anyhow::Result<wasmtime::component::InstancePre<HostState>> {
        let component = manifest
            .components
            .get(name)
            .with_context(|| format!("{}: no component `{name}`", manifest.path.display()))?;
        let source = manifest.source_path(component);
        let context = || {
            format!(
                "{}: component `{name}` (source {})",
                manifest.path.display(),
                component.source
            )
        };
        if !source.exists() {
            let hint = if component.build.is_some() {
                "; run `rotor build` or `rotor up --build` first"
            } else {
                ""
            };
            bail!("{}: the file does not exist{hint}", context());
        }
        let compiled = self.load_component(&source).with_context(context)?;
        self.linker
            .instantiate_pre(&compiled)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{}: it needs imports the host does not provide", context()))
    }

    /// Loads and compiles the core WebAssembly module at `path`, for the WAGI executor, and
    /// links it against WASI preview 1.
    pub fn load_wagi_module(
        &self,
        path: &Path,
    ) -> anyhow::Result<wasmtime::InstancePre<WagiState>> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        match wasm_kind(&bytes) {
            WasmKind::CoreModule => {}
            WasmKind::Component => bail!(
                "{} is a component; the WAGI executor runs core modules built for wasm32-wasip1 (drop `executor = {{ type = \"wagi\" }}` to run a component)",
                path.display()
            ),
            WasmKind::NotWasm => bail!("{} is not a WebAssembly file", path.display()),
        }
        let module = wasmtime::Module::new(&self.engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{} is not a valid module", path.display()))?;
        self.wagi_linker
            .instantiate_pre(&module)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "{} needs imports beyond WASI preview 1, which the WAGI executor does not provide",
                    path.display()
                )
            })
    }

    /// The per-instance limits: the memory cap, and a bound on instances.
    pub fn store_limits(&self) -> StoreLimits {
        StoreLimitsBuilder::new()
            .memory_size(self.config.max_instance_memory)
            .instances(64)
            .build()
    }

    /// A fresh store for one WAGI request, with the memory cap and deadline.
    pub fn new_wagi_store(&self, state: WagiState) -> Store<WagiState> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        self.set_deadline(&mut store);
        store
    }

    fn set_deadline<T>(&self, store: &mut Store<T>) {
        let ticks = (self.config.request_deadline.as_millis() / EPOCH_TICK.as_millis()).max(1);
        store.set_epoch_deadline(ticks as u64);
        store.epoch_deadline_trap();
    }

    /// A fresh store for one request to `component`, with its environment, grants, output
    /// forwarding, memory cap and deadline; its outbound HTTP follows the grants, and its
    /// requests to `self` go to `app` (none for components without HTTP routes).
    pub fn new_store(
        &self,
        component: &Arc<str>,
        environment: &[(String, String)],
        grants: Arc<ComponentGrants>,
        app: Weak<HttpApp>,
    ) -> Store<HostState> {
        let outbound = OutboundHttp::new(component.clone(), grants.clone(), app);
        let mut wasi = WasiCtx::builder();
        wasi.stdout(PrefixedOutput::new(component, Target::Stdout))
            .stderr(PrefixedOutput::new(component, Target::Stderr))
            .envs(environment)
            .allow_tcp(true)
            .allow_udp(true)
            .allow_ip_name_lookup(grants.may_connect_out())
            .socket_addr_check(crate::capabilities::sockets::address_check(grants.clone()));
        let state = HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limits: self.store_limits(),
            outbound,
            grants,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        self.set_deadline(&mut store);
        store
    }
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
