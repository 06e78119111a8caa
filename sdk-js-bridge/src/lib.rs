//! `rotor-js`: JavaScript apps as Rotor components.
//!
//! This crate is a component written with `rotor-sdk` that carries a JavaScript engine
//! (boa, or QuickJS with the feature `quickjs`, behind the small [`engine::Engine`] trait) and
//! Rotor's JavaScript runtime (`js/runtime.js`: `Request`, `Response`, `Headers`, `URL`,
//! `fetch`, `crypto`, timers, `AbortController`, `ReadableStream`, the `Rotor` capabilities).
//! It is compiled once per engine, when `rotor` is built, and embedded in the `rotor` binary.
//!
//! `rotor js build app.js -o app.wasm` gives it one app, with no compiler: it hands the app to
//! the component's `wizer-initialize` export and snapshots the instance (see [`preinit`]).
//! The app is an ES module; it handles HTTP with `export default { fetch(request) }` or
//! `addEventListener("fetch", (event) => event.respondWith(...))`, and Redis messages with
//! `export default { message(payload) }`.
//!
//! Each request or message gets a fresh instance, which starts from the snapshot: with the
//! runtime and the app loaded, or, for an app that calls the host while it loads, with the
//! app's source to load. A thrown exception or a rejected promise is a 500 with the error and
//! where it was made in the log, never in the response.
// `deny` rather than `forbid`: the generated export of `preinit` needs `unsafe`.
#![deny(unsafe_code)]

#[cfg(feature = "boa")]
pub mod boa;
#[cfg(feature = "boa")]
mod boa_json;
pub mod engine;
mod ops;
#[cfg(feature = "quickjs")]
pub mod quickjs;
mod web;

#[cfg(not(any(feature = "boa", feature = "quickjs")))]
compile_error!("rotor-js needs an engine: feature `boa` (the default) or `quickjs`");

use base64::Engine as _;
use rotor_sdk::http::{
    Body, Bytes, HeaderName, HeaderValue, IntoResponse, Request, Response, StatusCode,
};
use serde_json::{json, Value};

use std::rc::Rc;

use engine::{AppModules, Engine};

/// The runtime every app runs on.
const RUNTIME: &str = include_str!("../js/runtime.js");

/// What a component that was never given an app answers.
const NO_APP: &str =
    "this component carries no app: build one with `rotor js build app.js -o app.wasm`";

/// The engine this build uses: QuickJS when it is built in, else boa.
#[cfg(feature = "quickjs")]
type DefaultEngine = quickjs::QuickJs;
#[cfg(not(feature = "quickjs"))]
type DefaultEngine = boa::Boa;

thread_local! {
    /// The app, put in place by [`preinit`].
    static APP: std::cell::OnceCell<Rc<AppModules>> = const { std::cell::OnceCell::new() };
    /// The engine with the runtime and the app loaded by [`preinit`], when the app loaded
    /// without calling the host.
    static PRELOADED: std::cell::RefCell<Option<DefaultEngine>> = const { std::cell::RefCell::new(None) };
}

/// The app's file name, for messages.
fn app_name() -> String {
    APP.with(|app| {
        app.get()
            .map_or_else(|| "app.js".to_owned(), |app| app.entry().to_owned())
    })
}

/// The engine for this instance: the pre-initialized one when there is one (each instance
/// starts from the snapshot, so no request sees another's state), else loaded now.
fn load() -> Result<DefaultEngine, engine::ScriptError> {
    if let Some(engine) = PRELOADED.with(|preloaded| preloaded.borrow_mut().take()) {
        return Ok(engine);
    }
    APP.with(|app| match app.get() {
        Some(app) => DefaultEngine::load(RUNTIME, app.clone(), ops::call),
        None => Err(engine::ScriptError {
            message: NO_APP.to_owned(),
        }),
    })
}

/// The environment `wizer-initialize` reads the app from: the snapshotting host's answer to
/// `wasi:cli/environment`, asked directly so that no cache of it (libc's `environ`) ends up
/// in the snapshot.
#[cfg(target_arch = "wasm32")]
fn build_environment() -> Vec<(String, String)> {
    wasip2::cli::environment::get_environment()
}

#[cfg(not(target_arch = "wasm32"))]
fn build_environment() -> Vec<(String, String)> {
    std::env::vars().collect()
}

/// Export `wizer-initialize`, which `rotor js build` calls once, at build time, before it
/// snapshots the instance's memory into the component.
///
/// It reads the app from the environment: `ROTOR_JS_APP`, its modules as
/// [`AppModules::from_json`] reads them. Unless `ROTOR_JS_PRELOAD` is `0`, it also creates
/// the engine and evaluates the runtime and the app, so that they are already in place when
/// a request arrives. An app that calls the host while it loads makes this trap (the host
/// answers nothing then); `rotor js build` then snapshots again with `ROTOR_JS_PRELOAD=0`,
/// and each request loads the app.
#[allow(unsafe_code, missing_docs)]
pub mod preinit {
    wit_bindgen::generate!({
        inline: "
            package rotor:js-preinit;
            world preinit {
                export wizer-initialize: func();
            }
        ",
    });

    use crate::engine::Engine as _;

    struct Preinit;

    impl Guest for Preinit {
        fn wizer_initialize() {
            let environment = super::build_environment();
            let variable = |name: &str| {
                environment
                    .iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.clone())
            };
            let Some(app) = variable("ROTOR_JS_APP") else {
                return;
            };
            // `rotor js build` wrote it: a malformed one is a bug there, and trapping here
            // fails the build instead of making a component without its app.
            let app = match super::AppModules::from_json(&app) {
                Ok(app) => std::rc::Rc::new(app),
                Err(error) => panic!("ROTOR_JS_APP is malformed: {error}"),
            };
            let preload = variable("ROTOR_JS_PRELOAD").as_deref() != Some("0");
            // A failing app is not kept: each request then loads it and logs why it fails.
            if preload {
                if let Ok(engine) =
                    super::DefaultEngine::load(super::RUNTIME, app.clone(), super::ops::call)
                {
                    super::PRELOADED.with(|preloaded| *preloaded.borrow_mut() = Some(engine));
                }
            }
            super::APP.with(|slot| {
                let _ = slot.set(app);
            });
        }
    }

    export!(Preinit);
}

fn internal_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}

/// The request as the runtime reads it: `{method, url, headers: [[name, value]], body}`.
fn request_json(request: &Request<Bytes>) -> String {
    let url = match request.headers().get("spin-full-url") {
        Some(url) => String::from_utf8_lossy(url.as_bytes()).into_owned(),
        None => {
            let host = request
                .headers()
                .get("host")
                .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
                .unwrap_or_else(|| "localhost".to_owned());
            format!("http://{host}{}", request.uri())
        }
    };
    let headers: Vec<Value> = request
        .headers()
        .iter()
        .map(|(name, value)| json!([name.as_str(), String::from_utf8_lossy(value.as_bytes())]))
        .collect();
    let body = match request.body().is_empty() {
        true => Value::Null,
        false => Value::from(base64::engine::general_purpose::STANDARD.encode(request.body())),
    };
    json!({ "method": request.method().as_str(), "url": url, "headers": headers, "body": body })
        .to_string()
}

/// The runtime's answer, `{status, headers: [[name, value]], body}` (base64), or with `text`
/// in place of `body` for a body made from a string, as a response; with `"streaming":
/// true`, the body is left for [`stream_body`] to fill.
fn response_from(reply: &str) -> Result<(Response, bool), String> {
    let reply: Value = serde_json::from_str(reply).map_err(|e| e.to_string())?;
    let status = reply["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("the response has no valid status")?;
    let body = match (reply["text"].as_str(), reply["body"].as_str()) {
        (Some(text), _) => text.as_bytes().to_vec(),
        (None, Some(base64)) => base64::engine::general_purpose::STANDARD
            .decode(base64)
            .map_err(|e| e.to_string())?,
        (None, None) => Vec::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for pair in reply["headers"].as_array().into_iter().flatten() {
        let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str()) else {
            continue;
        };
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a header name"))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| format!("{value:?} is not a header value"))?;
        response.headers_mut().append(name, value);
    }
    Ok((response, reply["streaming"] == Value::Bool(true)))
}

/// A body that the app's `ReadableStream` produces as the client receives it: each chunk is
/// pulled from the engine (timers included) and sent on before the next is asked for.
fn stream_body(mut engine: DefaultEngine) -> Body {
    Body::stream(move |mut writer| async move {
        loop {
            let reply = engine
                .dispatch("pullBody", "")
                .map_err(|e| format!("{}: the response body stream failed: {e}", app_name()))?;
            let reply: Value = serde_json::from_str(&reply).map_err(|e| e.to_string())?;
            let Some(chunk) = reply["chunk"].as_str() else {
                return Ok::<(), String>(());
            };
            let chunk = base64::engine::general_purpose::STANDARD
                .decode(chunk)
                .map_err(|e| e.to_string())?;
            writer.write(&chunk).await.map_err(|e| e.to_string())?;
            writer.flush().await.map_err(|e| e.to_string())?;
        }
    })
}

/// Runs the app's fetch handler.
#[rotor_sdk::http_component]
fn handle(request: Request<Bytes>) -> Response {
    let mut engine = match load() {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("{}: the app did not load: {error}", app_name());
            return internal_error();
        }
    };
    let reply = match engine.dispatch("handleFetch", &request_json(&request)) {
        Ok(reply) => reply,
        Err(error) => {
            eprintln!("{}: uncaught exception: {error}", app_name());
            return internal_error();
        }
    };
    match response_from(&reply) {
        Ok((response, false)) => {
            // The instance ends with this request: freeing the engine's heap object by
            // object would only cost time (a few percent of a hello's request).
            std::mem::forget(engine);
            response
        }
        Ok((mut response, true)) => {
            *response.body_mut() = stream_body(engine);
            response
        }
        Err(error) => {
            eprintln!(
                "{}: the handler's response is unusable: {error}",
                app_name()
            );
            internal_error()
        }
    }
}

/// Runs the app's message handler for a Redis message.
#[rotor_sdk::redis_component]
fn on_message(payload: Vec<u8>) -> Result<(), String> {
    let mut engine = load().map_err(|e| format!("{}: the app did not load: {e}", app_name()))?;
    let payload = base64::engine::general_purpose::STANDARD.encode(payload);
    let handled = engine
        .dispatch("handleMessage", &payload)
        .map(drop)
        .map_err(|e| format!("{}: uncaught exception: {e}", app_name()));
    // As for a request: the instance ends with this message.
    std::mem::forget(engine);
    handled
}
