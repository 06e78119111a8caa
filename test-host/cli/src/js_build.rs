//! `rotor js build APP.js -o APP.wasm`: a JavaScript app as a component, without writing
//! Rust. The app is built into the `rotor-js` bridge crate (`sdk-js-bridge/`), whose build
//! script checks its syntax; only that crate is compiled again for each app.
//!
//! Then the component is pre-initialized, as wizer does: its `wizer-initialize` export
//! creates the engine and loads the runtime and the app, and the instance's memory after
//! that becomes the component's initial memory. A request then starts with the app ready.
//! The export may not call the host (every import traps while it runs, but for the seed of
//! Rust's hash maps, which is fixed at build time); when it does, or the app fails to load,
//! the component is kept as built, and loads the app per request.
//!
//! The engine is boa unless the build asks for QuickJS ([`JsEngine`]), which is C: it needs
//! a C compiler for WASI, from `WASI_SDK` (a wasi-sdk) or, without one, the system's clang
//! with a WASI libc (Debian: `clang-14 llvm-14 wasi-libc`), which a small shim makes look like one.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Where the bridge crate is: `ROTOR_JS_BRIDGE`, else beside this crate in the repository.
pub fn bridge_dir() -> PathBuf {
    std::env::var_os("ROTOR_JS_BRIDGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk-js-bridge"))
}

/// The JavaScript engine a component carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsEngine {
    /// boa: pure Rust, builds with cargo alone.
    #[default]
    Boa,
    /// QuickJS through rquickjs: smaller and faster, needs a C compiler for WASI.
    QuickJs,
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
/// A syntax error in the app is the error, as `FILE:LINE:COLUMN: syntax error: ...`. Builds
/// of different apps take turns, since they share the bridge crate's build directory.
pub async fn build(
    app: &Path,
    output: &Path,
    engine: JsEngine,
    preinitialize: bool,
) -> anyhow::Result<bool> {
    let app = std::path::absolute(app).with_context(|| format!("{}", app.display()))?;
    if !app.is_file() {
        anyhow::bail!("{}: no such file", app.display());
    }
    let bridge = bridge_dir();
    let manifest = bridge.join("Cargo.toml");
    if !manifest.is_file() {
        anyhow::bail!(
            "the rotor-js bridge crate is not at {} (set ROTOR_JS_BRIDGE to its directory)",
            bridge.display()
        );
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| bridge.join("../target"));
    std::fs::create_dir_all(&target)?;
    let lock = std::fs::File::create(target.join("rotor-js-build.lock"))?;
    lock.lock()
        .context("waiting for another `rotor js build` to finish")?;
    let mut cargo = rotor_host::build::cargo_wasm::cargo();
    cargo
        .args([
            "build",
            "--profile",
            "js",
            "--target",
            "wasm32-wasip2",
            "--package",
            "rotor-js",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env("ROTOR_JS_APP", &app);
    if engine == JsEngine::QuickJs {
        cargo.args(["--no-default-features", "--features", "quickjs"]);
        cargo.env("WASI_SDK", wasi_sdk(&target)?);
    }
    let label = format!("Building {} into the rotor-js engine", app.display());
    let wasm = rotor_host::build::cargo_wasm::build(cargo, &label)?.map_err(|failure| {
        let ours: Vec<&str> = failure
            .stderr
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("rotor-js: "))
            .collect();
        if ours.is_empty() {
            anyhow::anyhow!(
                "building {} failed:\n{}\n(the bridge needs the wasm32-wasip2 target: \
                 `rustup target add wasm32-wasip2`)",
                app.display(),
                failure.tail(15)
            )
        } else {
            anyhow::anyhow!("{}", ours.join("\n"))
        }
    })?;
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let built = std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
    drop(lock);
    let (component, preinitialized) = if preinitialize {
        match snapshot(&built).await {
            Ok(snapshot) => (snapshot, true),
            Err(error) => {
                eprintln!("Not pre-initialized ({error:#}); the app will load per request.");
                (built, false)
            }
        }
    } else {
        (built, false)
    };
    std::fs::write(output, component)
        .with_context(|| format!("writing the component to {}", output.display()))?;
    Ok(preinitialized)
}

/// Where Debian's `wasi-libc` puts WASI's headers (`include/wasm32-wasi`) and libraries.
const WASI_SYSROOT: &str = "/usr";

/// Whether `rotor js build --engine quickjs` can build here: `WASI_SDK` is set, or the
/// system has clang, llvm-ar and a WASI libc.
pub fn quickjs_can_build() -> bool {
    std::env::var_os("WASI_SDK").is_some() || system_wasi_toolchain().is_some()
}

/// The system's clang and llvm-ar, when a WASI libc is installed beside them.
fn system_wasi_toolchain() -> Option<(PathBuf, PathBuf)> {
    if !Path::new(WASI_SYSROOT)
        .join("include/wasm32-wasi/stdio.h")
        .is_file()
    {
        return None;
    }
    let on_path = |name: &str| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    };
    ["", "-19", "-18", "-17", "-16", "-15", "-14"]
        .iter()
        .find_map(|suffix| {
            Some((
                on_path(&format!("clang{suffix}"))?,
                on_path(&format!("llvm-ar{suffix}"))?,
            ))
        })
}

/// A wasi-sdk for building QuickJS: `WASI_SDK` when set, else a shim around the system's clang
/// and WASI libc (headers in `/usr/include/wasm32-wasi`, as Debian's `wasi-libc` puts them),
/// made under `target`. rquickjs would otherwise try to download wasi-sdk.
fn wasi_sdk(target: &Path) -> anyhow::Result<PathBuf> {
    if let Some(sdk) = std::env::var_os("WASI_SDK") {
        return Ok(PathBuf::from(sdk));
    }
    let missing = || {
        anyhow::anyhow!(
            "the quickjs engine needs a C compiler for WASI: set WASI_SDK to a wasi-sdk, or \
             install clang with a WASI libc (on Debian: `apt-get install clang-14 llvm-14 wasi-libc`)"
        )
    };
    let (clang, ar) = system_wasi_toolchain().ok_or_else(missing)?;
    shim_wasi_sdk(&target.join("rotor-js-wasi-sdk"), &clang, &ar)
}

/// Makes `sdk` look like a wasi-sdk around the system's `clang` and `ar`.
#[cfg(unix)]
fn shim_wasi_sdk(sdk: &Path, clang: &Path, ar: &Path) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let sysroot = Path::new(WASI_SYSROOT);
    std::fs::create_dir_all(sdk.join("bin"))?;
    std::fs::create_dir_all(sdk.join("share"))?;
    // A system clang knows WASI as `wasm32-wasi`, and looks for its headers and libraries
    // under that name; cargo asks for `wasm32-wasip2`.
    let wrapper = format!(
        "#!/bin/sh\nfor arg in \"$@\"; do\n  case \"$arg\" in\n    --target=wasm32-*wasip*) \
         arg=--target=wasm32-wasi ;;\n  esac\n  set -- \"$@\" \"$arg\"; shift\ndone\n\
         exec '{}' \"$@\"\n",
        clang.display()
    );
    let shim = sdk.join("bin/clang");
    std::fs::write(&shim, wrapper)?;
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755))?;
    for (link, to) in [
        (sdk.join("bin/ar"), ar),
        (sdk.join("share/wasi-sysroot"), sysroot),
    ] {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(to, &link)
            .with_context(|| format!("making {}", link.display()))?;
    }
    Ok(sdk.to_owned())
}

#[cfg(not(unix))]
fn shim_wasi_sdk(_: &Path, _: &Path, _: &Path) -> anyhow::Result<PathBuf> {
    anyhow::bail!("the quickjs engine needs WASI_SDK set to a wasi-sdk on this system")
}

/// Runs the component's `wizer-initialize` with every import trapping, and returns the
/// component rewritten to start from the memory and globals it left.
async fn snapshot(component: &[u8]) -> anyhow::Result<Vec<u8>> {
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Config, Engine, Store};

    let mut wizer = wasmtime_wizer::Wizer::new();
    // The component's own export of the function still refers to the core function, so the
    // core function has to stay (calling it again would only load the app again).
    wizer.keep_init_func(true);
    let (context, instrumented) = wizer.instrument_component(component)?;
    let engine = Engine::new(&Config::new())?;
    let instrumented = Component::new(&engine, &instrumented)?;
    let mut linker = Linker::<()>::new(&engine);
    answer_stateless_imports(&mut linker, &instrumented, &engine)?;
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
    // (compiling the bridge takes seconds); the host compiles the component when it serves it.
    use wasmtime::wasmparser::{Validator, WasmFeatures};
    Validator::new_with_features(WasmFeatures::default())
        .validate_all(&snapshot)
        .map_err(|e| anyhow::anyhow!("the snapshot is not a valid component: {e}"))?;
    Ok(snapshot)
}

/// How a stateless import is answered, given the build's hash seed.
type Answer = fn((u64, u64)) -> wasmtime::component::Val;

/// Answers the imports that hand back a value and leave nothing behind in the host: the
/// seed Rust's standard library draws for its hash maps (made for this build), and the
/// clocks the engine reads while it runs its job queue. Anything else the initializer calls
/// traps, because a handle the host gave out at build time would mean nothing later.
fn answer_stateless_imports(
    linker: &mut wasmtime::component::Linker<()>,
    component: &wasmtime::component::Component,
    engine: &wasmtime::Engine,
) -> anyhow::Result<()> {
    use wasmtime::component::Val;
    let seed = build_seed();
    for (name, _) in component.component_type().imports(engine) {
        let (function, answer): (&str, Answer) = match name.split('@').next() {
            Some("wasi:random/insecure-seed") => ("insecure-seed", |seed| {
                Val::Tuple(vec![Val::U64(seed.0), Val::U64(seed.1)])
            }),
            Some("wasi:clocks/wall-clock") => ("now", |_| {
                let since_epoch = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                Val::Record(vec![
                    ("seconds".into(), Val::U64(since_epoch.as_secs())),
                    ("nanoseconds".into(), Val::U32(since_epoch.subsec_nanos())),
                ])
            }),
            Some("wasi:clocks/monotonic-clock") => ("now", |_| {
                static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
                let elapsed = START.get_or_init(std::time::Instant::now).elapsed();
                Val::U64(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
            }),
            _ => continue,
        };
        linker
            .instance(name)?
            .func_new(function, move |_, _, _, results| {
                results[0] = answer(seed);
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
