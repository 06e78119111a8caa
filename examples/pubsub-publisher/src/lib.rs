//! `POST /events` with a CloudEvent, in binary mode (`ce-*` headers) or structured mode
//! (`content-type: application/cloudevents+json`): the event is checked, then published as
//! structured JSON on the Redis channel of the variable `channel`.
//!
//! Answers 202 with `{"id"}`, 400 naming the attribute at fault, or 502 when Redis cannot be
//! reached.
#![forbid(unsafe_code)]

use rotor_sdk::cloudevents::{self, AttributesReader as _};
use rotor_sdk::http::{Bytes, IntoResponse, Json, Method, Request, Response, StatusCode};
use rotor_sdk::{redis, variables};

#[rotor_sdk::http_component]
fn publish(request: Request<Bytes>) -> Response {
    if request.method() != Method::POST {
        let mut response = problem(StatusCode::METHOD_NOT_ALLOWED, "POST a CloudEvent");
        response
            .headers_mut()
            .insert("allow", rotor_sdk::http::HeaderValue::from_static("POST"));
        return response;
    }
    let event = match cloudevents::from_request(&request) {
        Ok(event) => event,
        Err(error) => return problem(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    let payload = match cloudevents::to_json(&event) {
        Ok(payload) => payload,
        Err(error) => return problem(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    let (address, channel) = match (variables::get("redis_address"), variables::get("channel")) {
        (Ok(address), Ok(channel)) => (address, channel),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("configuration: {error}");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "misconfigured");
        }
    };
    let published = redis::Connection::open(&address).and_then(|r| r.publish(&channel, &payload));
    match published {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "id": event.id() })),
        )
            .into_response(),
        Err(error) => {
            eprintln!("publishing to Redis failed: {error:?}");
            problem(StatusCode::BAD_GATEWAY, "the event could not be published")
        }
    }
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
