//! The same service as `examples/http-hello`, on Spin's Rust SDK 5.2.

use spin_sdk::http::{IntoResponse, Request, Response};

/// Greets the caller, by name when the query string has `?name=...`.
#[spin_sdk::http_component]
fn hello(request: Request) -> anyhow::Result<impl IntoResponse> {
    let name = request
        .query()
        .split('&')
        .find_map(|pair| pair.strip_prefix("name="))
        .unwrap_or("world");
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain; charset=utf-8")
        .body(format!("Hello, {name}!\n"))
        .build())
}
