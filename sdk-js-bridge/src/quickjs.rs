//! [`Engine`] on QuickJS, through `rquickjs` (feature `quickjs`): a smaller and faster engine
//! than boa, but C, so building it needs a C compiler for WASI (see the crate's README).

use std::rc::Rc;

use rquickjs::function::Func;
use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Context, Ctx, Function, Module, Object, Persistent, Promise, Runtime, Value};

use crate::engine::{AppModules, Engine, HostCall, ScriptError};

/// A QuickJS context with the runtime and the app loaded.
pub struct QuickJs {
    // Fields drop in order: the app's value must be freed before the context and the
    // runtime it lives in, or QuickJS aborts on a leaked object.
    /// The app's module namespace: the runtime reads its `default` export (and, for Redis
    /// messages, spin-js-sdk's `inboundRedis`).
    exports: Persistent<Value<'static>>,
    context: Context,
    _runtime: Runtime,
}

/// The exception QuickJS holds for `error`, as `name: message` and its stack.
fn script_error(ctx: &Ctx<'_>, error: rquickjs::Error) -> ScriptError {
    if !matches!(error, rquickjs::Error::Exception) {
        return ScriptError {
            message: error.to_string(),
        };
    }
    describe(&ctx.catch())
}

/// A thrown or rejected value as text: an `Error`'s `name: message` and stack (which names
/// the file, line and column), anything else as JavaScript would print it.
fn describe(value: &Value<'_>) -> ScriptError {
    let message = match value.as_object() {
        Some(object) if object.get::<_, String>("message").is_ok() => {
            let name: String = object.get("name").unwrap_or_else(|_| "Error".into());
            let message: String = object.get("message").unwrap_or_default();
            let stack: String = object.get("stack").unwrap_or_default();
            format!("{name}: {message}\n{}", stack.trim_end())
        }
        _ => value
            .as_string()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| format!("{value:?}")),
    };
    ScriptError { message }
}

/// Runs the job queue, and the timers while `promise` waits on them, until it settles, and
/// returns its value.
fn settle<'js>(ctx: &Ctx<'js>, promise: &Promise<'js>) -> Result<Value<'js>, ScriptError> {
    loop {
        match promise.result::<Value>() {
            Some(Ok(value)) => return Ok(value),
            Some(Err(error)) => return Err(script_error(ctx, error)),
            None => {
                if !ctx.execute_pending_job() && !fire_timer(ctx)? {
                    return Err(ScriptError {
                        message: "the promise never settled (nothing is left to resolve it)".into(),
                    });
                }
            }
        }
    }
}

/// Calls the runtime's `fireTimer`, which sleeps until the first timer is due and runs it;
/// `false` when no timer is set.
fn fire_timer(ctx: &Ctx<'_>) -> Result<bool, ScriptError> {
    let dispatcher: Option<Object> = ctx.globals().get("__rotor_dispatch").ok();
    let Some(fire) = dispatcher.and_then(|d| d.get::<_, Function>("fireTimer").ok()) else {
        return Ok(false);
    };
    fire.call::<_, bool>(()).map_err(|e| script_error(ctx, e))
}

/// Resolves an import through the importing module's links, which `rotor js build` made.
struct AppResolver(Rc<AppModules>);

impl Resolver for AppResolver {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        self.0
            .resolve(base, name)
            .map(str::to_owned)
            .ok_or_else(|| rquickjs::Error::new_resolving(base, name))
    }
}

/// Loads a module of the app by its id.
struct AppLoader(Rc<AppModules>);

impl Loader for AppLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let source = self
            .0
            .source(name)
            .ok_or_else(|| rquickjs::Error::new_loading(name))?;
        Module::declare(ctx.clone(), name, source)
    }
}

impl Engine for QuickJs {
    fn load(runtime: &str, app: Rc<AppModules>, host: HostCall) -> Result<Self, ScriptError> {
        let setup = |e: rquickjs::Error| ScriptError {
            message: format!("starting QuickJS: {e}"),
        };
        let quickjs = Runtime::new().map_err(setup)?;
        quickjs.set_loader(AppResolver(app.clone()), AppLoader(app.clone()));
        let context = Context::full(&quickjs).map_err(setup)?;
        let exports = context.with(|ctx| -> Result<_, ScriptError> {
            let call = Func::from(move |op: String, arguments: String| host(&op, &arguments));
            ctx.globals()
                .set("__rotor_call", call)
                .map_err(|e| script_error(&ctx, e))?;
            ctx.eval::<(), _>(runtime)
                .map_err(|e| script_error(&ctx, e))?;
            let source = app.source(app.entry()).unwrap_or_default();
            let module = Module::declare(ctx.clone(), app.entry(), source)
                .map_err(|e| script_error(&ctx, e))?;
            let (module, evaluated) = module.eval().map_err(|e| script_error(&ctx, e))?;
            settle(&ctx, &evaluated)?;
            let namespace = module.namespace().map_err(|e| script_error(&ctx, e))?;
            Ok(Persistent::save(&ctx, namespace.into_value()))
        })?;
        Ok(QuickJs {
            exports,
            context,
            _runtime: quickjs,
        })
    }

    fn dispatch(&mut self, function: &str, argument: &str) -> Result<String, ScriptError> {
        self.context.with(|ctx| {
            let dispatcher: Object = ctx
                .globals()
                .get("__rotor_dispatch")
                .map_err(|e| script_error(&ctx, e))?;
            let handler: Function = dispatcher.get(function).map_err(|_| ScriptError {
                message: format!("the runtime has no dispatcher {function:?}"),
            })?;
            let exports = self
                .exports
                .clone()
                .restore(&ctx)
                .map_err(|e| script_error(&ctx, e))?;
            let result: Value = handler
                .call((exports, argument))
                .map_err(|e| script_error(&ctx, e))?;
            // A dispatcher answers at once when it can, and with a promise when it must wait.
            let value = match result.as_promise() {
                Some(promise) => settle(&ctx, promise)?,
                None => result,
            };
            value
                .as_string()
                .and_then(|s| s.to_string().ok())
                .ok_or_else(|| ScriptError {
                    message: "the dispatcher did not resolve to a string".into(),
                })
        })
    }
}
