//! A greeting service: `GET /hello` (or any path under it) answers with plain text.
#![forbid(unsafe_code)]

use rotor_sdk::http::Query;
use serde::Deserialize;

/// What the query string may carry.
#[derive(Deserialize)]
struct Greeting {
    name: Option<String>,
}

/// Greets the caller, by name when the query string has `?name=...`.
#[rotor_sdk::http_component]
fn hello(Query(greeting): Query<Greeting>) -> String {
    let name = greeting.name.as_deref().unwrap_or("world");
    format!("Hello, {name}!\n")
}
