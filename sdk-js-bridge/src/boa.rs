//! [`Engine`] on boa, a JavaScript engine in pure Rust.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use boa_engine::builtins::promise::PromiseState;
use boa_engine::module::{ModuleLoader, Referrer};
use boa_engine::object::builtins::JsPromise;
use boa_engine::{
    js_string, Context, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, Module,
    NativeFunction, Source,
};

use crate::engine::{AppModules, Engine, HostCall, ScriptError};

/// A boa context with the runtime and the app loaded.
pub struct Boa {
    context: Context,
    /// The app's module namespace: the runtime reads its `default` export (and, for Redis
    /// messages, spin-js-sdk's `inboundRedis`).
    exports: JsValue,
}

fn script_error(error: &JsError) -> ScriptError {
    ScriptError {
        message: error.to_string(),
    }
}

/// A rejected promise's reason as text. For an `Error`, boa's display gives `name: message`
/// and where the error was made (`(app.js:12:11)`).
fn rejection(reason: &JsValue) -> ScriptError {
    ScriptError {
        message: reason.display().to_string(),
    }
}

/// Runs the job queue, and the timers while the promise waits on them, then reads the
/// promise's outcome.
fn settle(promise: &JsPromise, context: &mut Context) -> Result<JsValue, ScriptError> {
    loop {
        context.run_jobs().map_err(|e| script_error(&e))?;
        match promise.state() {
            PromiseState::Fulfilled(value) => return Ok(value),
            PromiseState::Rejected(reason) => return Err(rejection(&reason)),
            PromiseState::Pending => {
                if !fire_timer(context)? {
                    return Err(ScriptError {
                        message: "the promise never settled (nothing is left to resolve it)".into(),
                    });
                }
            }
        }
    }
}

/// The runtime's `__rotor_dispatch[name]`, when it is a function.
fn dispatcher_function(context: &mut Context, name: &str) -> Result<Option<JsObject>, ScriptError> {
    let dispatcher = context
        .global_object()
        .get(js_string!("__rotor_dispatch"), context)
        .map_err(|e| script_error(&e))?;
    let function = dispatcher
        .as_object()
        .map(|o| o.get(JsString::from(name), context))
        .transpose()
        .map_err(|e| script_error(&e))?;
    Ok(function.and_then(|f| f.as_callable()))
}

/// Calls the runtime's `fireTimer`, which sleeps until the first timer is due and runs it;
/// `false` when no timer is set.
fn fire_timer(context: &mut Context) -> Result<bool, ScriptError> {
    let Some(fire) = dispatcher_function(context, "fireTimer")? else {
        return Ok(false);
    };
    let fired = fire
        .call(&JsValue::undefined(), &[], context)
        .map_err(|e| script_error(&e))?;
    Ok(fired.to_boolean())
}

/// Loads the app's modules from what `rotor js build` gathered: each import is looked up
/// in the importing module's links, and each module is parsed once.
struct AppLoader {
    app: Rc<AppModules>,
    parsed: RefCell<HashMap<String, Module>>,
}

impl AppLoader {
    /// Module `id`, parsed now or before.
    fn module(&self, id: &str, context: &mut Context) -> JsResult<Module> {
        if let Some(module) = self.parsed.borrow().get(id) {
            return Ok(module.clone());
        }
        let source = self.app.source(id).ok_or_else(|| {
            JsNativeError::typ().with_message(format!("the app has no module {id:?}"))
        })?;
        let module = Module::parse(
            Source::from_bytes(source).with_path(Path::new(id)),
            None,
            context,
        )?;
        self.parsed
            .borrow_mut()
            .insert(id.to_owned(), module.clone());
        Ok(module)
    }
}

impl ModuleLoader for AppLoader {
    async fn load_imported_module(
        self: Rc<Self>,
        referrer: Referrer,
        specifier: JsString,
        context: &RefCell<&mut Context>,
    ) -> JsResult<Module> {
        let from = referrer
            .path()
            .and_then(Path::to_str)
            .unwrap_or(self.app.entry())
            .to_owned();
        let specifier = specifier.to_std_string_escaped();
        let id = self.app.resolve(&from, &specifier).ok_or_else(|| {
            JsNativeError::typ().with_message(format!("{from}: cannot import {specifier:?}"))
        })?;
        self.module(id, &mut context.borrow_mut())
    }
}

impl Engine for Boa {
    fn load(runtime: &str, app: Rc<AppModules>, host: HostCall) -> Result<Self, ScriptError> {
        let loader = Rc::new(AppLoader {
            app: app.clone(),
            parsed: RefCell::new(HashMap::new()),
        });
        let mut context = Context::builder()
            .module_loader(loader.clone())
            .build()
            .map_err(|e| script_error(&e))?;
        let call = NativeFunction::from_copy_closure(move |_, args, context| {
            let text = |index: usize, context: &mut Context| -> Result<String, JsError> {
                Ok(args
                    .get(index)
                    .cloned()
                    .unwrap_or_default()
                    .to_string(context)?
                    .to_std_string_escaped())
            };
            let reply = host(&text(0, context)?, &text(1, context)?);
            Ok(JsValue::from(JsString::from(reply.as_str())))
        });
        context
            .register_global_builtin_callable(js_string!("__rotor_call"), 2, call)
            .map_err(|e| script_error(&e))?;
        crate::boa_json::install(&mut context).map_err(|e| script_error(&e))?;
        context
            .eval(Source::from_bytes(runtime).with_path(Path::new("rotor-runtime.js")))
            .map_err(|e| script_error(&e))?;
        let module = loader
            .module(app.entry(), &mut context)
            .map_err(|e| script_error(&e))?;
        let evaluated = module.load_link_evaluate(&mut context);
        settle(&evaluated, &mut context)?;
        let exports = JsValue::from(module.namespace(&mut context));
        Ok(Boa { context, exports })
    }

    fn dispatch(&mut self, function: &str, argument: &str) -> Result<String, ScriptError> {
        let context = &mut self.context;
        let handler = dispatcher_function(context, function)?.ok_or_else(|| ScriptError {
            message: format!("the runtime has no dispatcher {function:?}"),
        })?;
        let result = handler
            .call(
                &JsValue::undefined(),
                &[
                    self.exports.clone(),
                    JsValue::from(JsString::from(argument)),
                ],
                context,
            )
            .map_err(|e| script_error(&e))?;
        // A dispatcher answers at once when it can, and with a promise when it must wait.
        let value = match result
            .as_object()
            .and_then(|o| JsPromise::from_object(o).ok())
        {
            Some(promise) => settle(&promise, context)?,
            None => result,
        };
        value
            .to_string(context)
            .map(|s| s.to_std_string_escaped())
            .map_err(|e| script_error(&e))
    }
}
