//! A greeting service: `GET /hello` (or any path under it) answers with plain text.
#![forbid(unsafe_code)]

use rotor_sdk::http::{IncomingBody, IntoResponse, Request};

/// Greets the caller, by name when the query string has `?name=...`.
#[rotor_sdk::http_component]
fn hello(request: Request<IncomingBody>) -> impl IntoResponse {
    let name = request
        .uri()
        .query()
        .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("name=")))
        .unwrap_or("world");
    format!("Hello, {name}!\n")
}
