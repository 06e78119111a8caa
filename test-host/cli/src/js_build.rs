//! `rotor js build APP.js -o APP.wasm`: a JavaScript app as a component, without writing
//! Rust and without a compiler. The rotor-js engine (`sdk-js-bridge/`) was built when this
//! `rotor` was, and is embedded in it (see `build/js_engines.rs`); building an app gathers its
//! modules ([`AppModules`]: the entry file and what it imports, checked for syntax), hands
//! them to the engine and snapshots the result.
//!
//! The snapshot is made as wizer makes one: the engine's `wizer-initialize` export reads the
//! app from its environment, creates the engine and loads the runtime and the app, and the
//! instance's memory after that becomes the component's initial memory. A request then
//! starts with the app ready. The export may not call the host (every import traps while it
//! runs, but for the environment that carries the app, the clocks and the seed of Rust's hash
//! maps, which is fixed at build time). An app whose top level calls the host is snapshotted
//! again with only its source in place, and loads per request.
//!
//! The engine is QuickJS where this `rotor` has it, else boa ([`JsEngine`]); `--engine`
//! picks one. QuickJS is C: it is in this `rotor` only if a C compiler for WASI was found
//! when `rotor` was built (`cargo xtask` fetches zig for it).

use std::path::Path;

use anyhow::Context as _;

use crate::js_modules::AppModules;

/// The boa engine, built with this `rotor`.
const BOA: &[u8] = include_bytes!(env!("ROTOR_JS_ENGINE_BOA"));

/// The QuickJS engine, when it was built with this `rotor`.
#[cfg(rotor_js_quickjs)]
const QUICKJS: Option<&[u8]> = Some(include_bytes!(env!("ROTOR_JS_ENGINE_QUICKJS")));
#[cfg(not(rotor_js_quickjs))]
const QUICKJS: Option<&[u8]> = None;

/// The JavaScript engine a component carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsEngine {
    /// boa: pure Rust, builds with cargo alone.
    Boa,
    /// QuickJS through rquickjs: smaller and faster; built into `rotor` only where a C
    /// compiler for WASI was found (`cargo xtask` fetches one, zig).
    QuickJs,
}

/// QuickJS where this `rotor` has it (its hello answers in about 2x the Rust hello's time,
/// boa's in about 5x), else boa.
impl Default for JsEngine {
    fn default() -> Self {
        if QUICKJS.is_some() {
            JsEngine::QuickJs
        } else {
            JsEngine::Boa
        }
    }
}

impl JsEngine {
    /// The engine's name, as `--engine` takes it.
    pub fn name(self) -> &'static str {
        match self {
            JsEngine::Boa => "boa",
            JsEngine::QuickJs => "quickjs",
        }
    }

    /// The engine's component, when this `rotor` has it.
    pub fn component(self) -> Option<&'static [u8]> {
        match self {
            JsEngine::Boa => Some(BOA),
            JsEngine::QuickJs => QUICKJS,
        }
    }
}

impl std::str::FromStr for JsEngine {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "boa" => Ok(JsEngine::Boa),
            "quickjs" => Ok(JsEngine::QuickJs),
            other => Err(format!("no engine {other:?}: `boa` or `quickjs`")),
        }
    }
}

/// Builds `app` into a component at `output`, pre-initialized unless `preinitialize` is off;
/// says whether the pre-initialization took.
///
/// A syntax error or an import that resolves to nothing is the error, as
/// `FILE:LINE:COLUMN: ...`.
pub async fn build(
    app: &Path,
    output: &Path,
    engine: JsEngine,
    preinitialize: bool,
) -> anyhow::Result<bool> {
    let app = std::path::absolute(app).with_context(|| format!("{}", app.display()))?;
    let modules = AppModules::gather(&app)?;
    let component = engine.component().ok_or_else(|| {
        anyhow::anyhow!(
            "this rotor was built without the QuickJS engine: no C compiler for WASI was \
             found when it was built (build it with `cargo xtask`, which fetches zig; or \
             `pip install ziglang`, or set WASI_SDK to a wasi-sdk, and build rotor again)"
        )
    })?;
    let modules = modules.to_json();
    let environment = |preload: bool| {
        vec![
            ("ROTOR_JS_APP".to_owned(), modules.clone()),
            (
                "ROTOR_JS_PRELOAD".to_owned(),
                if preload { "1" } else { "0" }.to_owned(),
            ),
        ]
    };
    let preloaded = match preinitialize {
        true => match snapshot(component, environment(true)).await {
            Ok(snapshot) => Some(snapshot),
            Err(error) => {
                eprintln!("Not pre-initialized ({error:#}); the app will load per request.");
                None
            }
        },
        false => None,
    };
    let preinitialized = preloaded.is_some();
    let built = match preloaded {
        Some(snapshot) => snapshot,
        None => snapshot(component, environment(false))
            .await
            .context("putting the app into the engine")?,
    };
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(output, built)
        .with_context(|| format!("writing the component to {}", output.display()))?;
    Ok(preinitialized)
}

/// The environment `wizer-initialize` reads: name and value pairs.
type Environment = Vec<(String, String)>;

/// Runs the engine's `wizer-initialize` with `environment` and every other import trapping,
/// and returns the engine rewritten to start from the memory and globals it left.
async fn snapshot(component: &[u8], environment: Environment) -> anyhow::Result<Vec<u8>> {
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Engine, Store};

    let mut wizer = wasmtime_wizer::Wizer::new();
    // The component's own export of the function still refers to the core function, so the
    // core function has to stay (calling it again would only load the app again).
    wizer.keep_init_func(true);
    let (context, instrumented) = wizer.instrument_component(component)?;
    let engine = Engine::new(&compiler_config())?;
    // The instrumented engine is the same for every app, so after the first build its
    // compiled code comes from the cache.
    let instrumented = Component::new(&engine, &instrumented)?;
    let mut linker = Linker::<()>::new(&engine);
    answer_stateless_imports(&mut linker, &instrumented, &engine, environment)?;
    linker.define_unknown_imports_as_traps(&instrumented)?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate_async(&mut store, &instrumented).await?;
    let initialize = instance
        .get_typed_func::<(), ()>(&mut store, "wizer-initialize")
        .map_err(|e| anyhow::anyhow!("the component has no `wizer-initialize` export: {e}"))?;
    initialize
        .call_async(&mut store, ())
        .await
        .map_err(|e| anyhow::anyhow!("`wizer-initialize` called the host or trapped: {e:?}"))?;
    let mut state = InstanceState {
        store: &mut store,
        instance,
    };
    let snapshot = wizer.snapshot_component(&context, &mut state).await?;
    // Validating checks what compiling would of wizer's output, at a small part of the cost
    // (compiling the engine takes seconds); the host compiles the component when it serves it.
    use wasmtime::wasmparser::{Validator, WasmFeatures};
    Validator::new_with_features(WasmFeatures::default())
        .validate_all(&snapshot)
        .map_err(|e| anyhow::anyhow!("the snapshot is not a valid component: {e}"))?;
    Ok(snapshot)
}

/// Wasmtime's settings for the snapshot, with the host's compiled-code cache when there is
/// one (a cache that cannot be set up only costs a compile).
fn compiler_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    if let Some(dir) = rotor_host::engine::default_cache_dir() {
        let mut settings = wasmtime::CacheConfig::new();
        settings.with_directory(dir.join("wasmtime"));
        if let Ok(cache) = wasmtime::Cache::new(settings) {
            config.cache(Some(cache));
        }
    }
    config
}

/// Answers the imports that hand back a value and leave nothing behind in the host: the
/// environment that carries the app, the seed Rust's standard library draws for its hash
/// maps (made for this build), and the clocks the engine reads while it runs its job queue.
/// Anything else the initializer calls traps, because a handle the host gave out at build
/// time would mean nothing later.
fn answer_stateless_imports(
    linker: &mut wasmtime::component::Linker<()>,
    component: &wasmtime::component::Component,
    engine: &wasmtime::Engine,
    environment: Environment,
) -> anyhow::Result<()> {
    use wasmtime::component::Val;
    let seed = build_seed();
    let environment = Val::List(
        environment
            .into_iter()
            .map(|(name, value)| Val::Tuple(vec![Val::String(name), Val::String(value)]))
            .collect(),
    );
    for (name, _) in component.component_type().imports(engine) {
        let (function, answer): (&str, Box<dyn Fn() -> Val + Send + Sync>) =
            match name.split('@').next() {
                Some("wasi:cli/environment") => {
                    let environment = environment.clone();
                    ("get-environment", Box::new(move || environment.clone()))
                }
                Some("wasi:random/insecure-seed") => (
                    "insecure-seed",
                    Box::new(move || Val::Tuple(vec![Val::U64(seed.0), Val::U64(seed.1)])),
                ),
                Some("wasi:clocks/wall-clock") => (
                    "now",
                    Box::new(|| {
                        let since_epoch = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap_or_default();
                        Val::Record(vec![
                            ("seconds".into(), Val::U64(since_epoch.as_secs())),
                            ("nanoseconds".into(), Val::U32(since_epoch.subsec_nanos())),
                        ])
                    }),
                ),
                Some("wasi:clocks/monotonic-clock") => (
                    "now",
                    Box::new(|| {
                        static START: std::sync::OnceLock<std::time::Instant> =
                            std::sync::OnceLock::new();
                        let elapsed = START.get_or_init(std::time::Instant::now).elapsed();
                        Val::U64(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
                    }),
                ),
                _ => continue,
            };
        linker
            .instance(name)?
            .func_new(function, move |_, _, _, results| {
                results[0] = answer();
                Ok(())
            })?;
    }
    Ok(())
}

/// Two random numbers, from the standard library's own per-process randomness.
fn build_seed() -> (u64, u64) {
    use std::hash::BuildHasher as _;
    let state = std::collections::hash_map::RandomState::new();
    (state.hash_one(1u8), state.hash_one(2u8))
}

/// What wizer reads the instance's state through: the accessor functions its
/// instrumentation exported.
struct InstanceState<'a> {
    store: &'a mut wasmtime::Store<()>,
    instance: wasmtime::component::Instance,
}

impl InstanceState<'_> {
    /// Calls `func` of the exported instance `instance`, which takes nothing and returns an
    /// `R`, and hands the result to `read` before the call's cleanup.
    async fn call<R, Out>(
        &mut self,
        instance: &str,
        func: &str,
        read: impl FnOnce(&wasmtime::Store<()>, R) -> Out,
    ) -> Out
    where
        R: wasmtime::component::ComponentType + wasmtime::component::Lift + Send + Sync + 'static,
    {
        // Wizer's instrumentation added these exports; their absence is a bug in it.
        let (_, exported) = self
            .instance
            .get_export(&mut *self.store, None, instance)
            .unwrap_or_else(|| panic!("the instrumented component lacks {instance}"));
        let (_, index) = self
            .instance
            .get_export(&mut *self.store, Some(&exported), func)
            .unwrap_or_else(|| panic!("the instrumented component lacks {instance}#{func}"));
        let typed = self
            .instance
            .get_typed_func::<(), (R,)>(&mut *self.store, index)
            .unwrap_or_else(|e| panic!("{instance}#{func}: {e}"));
        let (result,) = typed
            .call_async(&mut *self.store, ())
            .await
            .unwrap_or_else(|e| panic!("{instance}#{func} trapped: {e}"));
        read(self.store, result)
    }
}

impl wasmtime_wizer::ComponentInstanceState for InstanceState<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        self.call(
            instance,
            func,
            |store, list: wasmtime::component::WasmList<u8>| contents(list.as_le_slice(store)),
        )
        .await
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func, |_, value: i32| value).await
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func, |_, value: i64| value).await
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call(instance, func, |_, value: f32| value.to_bits())
            .await
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call(instance, func, |_, value: f64| value.to_bits())
            .await
    }
}
