//! Answers with what each of its handler's extractors saw, as JSON.
//!
//! `#[http_component]` converts only the parts of the request that the handler's extractors
//! read ([`rotor_sdk::http::Reads`]); this handler reads each part through a different one, so
//! a part left out by mistake shows here as a missing field.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use rotor_sdk::http::{HeaderMap, Json, Method, Query, Uri};
use serde_json::{json, Value};

/// Echoes the method, the URI, the query, the `x-probe` header and the body.
#[rotor_sdk::http_component]
fn echo(
    method: Method,
    uri: Uri,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> Json<Value> {
    Json(json!({
        "method": method.as_str(),
        "uri": uri.to_string(),
        "query": query,
        "x-probe": headers.get("x-probe").and_then(|value| value.to_str().ok()),
        "body": body,
    }))
}
