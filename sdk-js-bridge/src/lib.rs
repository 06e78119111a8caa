//! `rotor-js`: JavaScript apps as Rotor components.
//!
//! This crate is a component written with `rotor-sdk` that carries a JavaScript engine
//! (boa, or QuickJS with the feature `quickjs`, behind the small [`engine::Engine`] trait), Rotor's JavaScript runtime
//! (`js/runtime.js`: `Request`, `Response`, `Headers`, `URL`, `fetch`, `crypto`, timers,
//! `AbortController`, `ReadableStream`, the `Rotor` capabilities) and one app, built in by `rotor js build app.js -o app.wasm`. The app is an
//! ES module; it handles HTTP with `export default { fetch(request) }` or
//! `addEventListener("fetch", (event) => event.respondWith(...))`, and Redis messages with
//! `export default { message(payload) }`.
//!
//! Each request or message gets a fresh instance. `rotor js build` pre-initializes the
//! component (see [`preinit`]), so an instance starts with the runtime and the app loaded;
//! without that, each instance loads them itself. A thrown exception or a rejected promise is
//! a 500 with the error and where it was made in the log, never in the response.
// `deny` rather than `forbid`: the generated export of `preinit` needs `unsafe`.
#![deny(unsafe_code)]

#[cfg(feature = "boa")]
pub mod boa;
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

use engine::Engine;

/// The runtime every app runs on.
const RUNTIME: &str = include_str!("../js/runtime.js");
/// The app, put in place by the build script from `ROTOR_JS_APP`.
const APP: &str = include_str!(concat!(env!("OUT_DIR"), "/app.js"));
/// The app's file name, for messages.
const APP_NAME: &str = env!("ROTOR_JS_APP_NAME");

/// The engine this build uses: QuickJS when it is built in, else boa.
#[cfg(feature = "quickjs")]
type DefaultEngine = quickjs::QuickJs;
#[cfg(not(feature = "quickjs"))]
type DefaultEngine = boa::Boa;

thread_local! {
    /// The engine with the runtime and the app loaded by [`preinitialize`], when the
    /// component was pre-initialized at build time.
    static PRELOADED: std::cell::RefCell<Option<DefaultEngine>> = const { std::cell::RefCell::new(None) };
}

/// The engine for this instance: the pre-initialized one when there is one (each instance
/// starts from the snapshot, so no request sees another's state), else loaded now.
fn load() -> Result<DefaultEngine, engine::ScriptError> {
    match PRELOADED.with(|preloaded| preloaded.borrow_mut().take()) {
        Some(engine) => Ok(engine),
        None => DefaultEngine::load(RUNTIME, APP, APP_NAME, ops::call),
    }
}

/// Export `wizer-initialize`, which `rotor js build` calls once, at build time, before it
/// snapshots the instance's memory into the component: the engine, the runtime and the
/// parsed and evaluated app are then already in place when a request arrives.
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
            // A failing app is not kept: each request then loads it and logs why it fails.
            if let Ok(engine) = super::DefaultEngine::load(
                super::RUNTIME,
                super::APP,
                super::APP_NAME,
                super::ops::call,
            ) {
                super::PRELOADED.with(|preloaded| *preloaded.borrow_mut() = Some(engine));
            }
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

/// The runtime's answer, `{status, headers: [[name, value]], body}`, as a response; with
/// `"streaming": true`, the body is left for [`stream_body`] to fill.
fn response_from(reply: &str) -> Result<(Response, bool), String> {
    let reply: Value = serde_json::from_str(reply).map_err(|e| e.to_string())?;
    let status = reply["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("the response has no valid status")?;
    let body = match reply["body"].as_str() {
        Some(text) => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| e.to_string())?,
        None => Vec::new(),
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
                .map_err(|e| format!("{APP_NAME}: the response body stream failed: {e}"))?;
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
            eprintln!("{APP_NAME}: the app did not load: {error}");
            return internal_error();
        }
    };
    let reply = match engine.dispatch("handleFetch", &request_json(&request)) {
        Ok(reply) => reply,
        Err(error) => {
            eprintln!("{APP_NAME}: uncaught exception: {error}");
            return internal_error();
        }
    };
    match response_from(&reply) {
        Ok((response, false)) => response,
        Ok((mut response, true)) => {
            *response.body_mut() = stream_body(engine);
            response
        }
        Err(error) => {
            eprintln!("{APP_NAME}: the handler's response is unusable: {error}");
            internal_error()
        }
    }
}

/// Runs the app's message handler for a Redis message.
#[rotor_sdk::redis_component]
fn on_message(payload: Vec<u8>) -> Result<(), String> {
    let mut engine = load().map_err(|e| format!("{APP_NAME}: the app did not load: {e}"))?;
    let payload = base64::engine::general_purpose::STANDARD.encode(payload);
    engine
        .dispatch("handleMessage", &payload)
        .map(drop)
        .map_err(|e| format!("{APP_NAME}: uncaught exception: {e}"))
}
