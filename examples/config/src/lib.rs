//! Configuration from variables, and a secret from Vault.
//!
//! - `GET /settings`: the public settings, from variables that have defaults;
//! - `GET /admin/stats`: only with `x-api-key` equal to the secret `admin_api_key`, which the
//!   host reads from Vault (or the environment). The secret is compared, never echoed.
#![forbid(unsafe_code)]

use rotor_sdk::http::{Bytes, IntoResponse, Json, Request, Response, StatusCode};
use rotor_sdk::variables;

#[rotor_sdk::http_component]
fn handle(request: Request<Bytes>) -> Response {
    match request.uri().path() {
        "/settings" => settings(),
        "/admin/stats" => admin_stats(&request),
        _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

fn settings() -> Response {
    let read = || -> Result<serde_json::Value, variables::Error> {
        let page_size = variables::get("page_size")?;
        Ok(serde_json::json!({
            "message": variables::get("message")?,
            "page_size": page_size.parse::<u32>().unwrap_or(20),
        }))
    };
    match read() {
        Ok(settings) => Json(settings).into_response(),
        Err(error) => unavailable(error),
    }
}

fn admin_stats(request: &Request<Bytes>) -> Response {
    let expected = match variables::get("admin_api_key") {
        Ok(key) => key,
        Err(error) => return unavailable(error),
    };
    let given = request
        .headers()
        .get("x-api-key")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(given, expected.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "a valid x-api-key header is required" })),
        )
            .into_response();
    }
    Json(serde_json::json!({ "requests_today": 42, "status": "ok" })).into_response()
}

/// Compares without stopping at the first difference, so timing does not reveal the key.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unavailable(error: variables::Error) -> Response {
    // The error names the variable and the provider, never a value; it goes to the log only.
    eprintln!("reading configuration failed: {error}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({ "error": "configuration unavailable" })),
    )
        .into_response()
}
