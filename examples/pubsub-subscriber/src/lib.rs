//! One component, two triggers:
//!
//! - on the Redis channel, every message is read as a CloudEvent, run through the filter of
//!   the variable `event_filter` (a CloudEvents Subscriptions API expression), and stored in
//!   key-value under `event:{id}` when it passes; other events are acknowledged and skipped,
//!   and a message that is not a CloudEvent is logged and skipped;
//! - over HTTP, `GET /events` lists the stored events and `GET /events/:id` shows one.
#![forbid(unsafe_code)]

use rotor_sdk::cloudevents::{self, AttributesReader as _, Event};
use rotor_sdk::http::{Bytes, IntoResponse, Json, Params, Request, Response, Router, StatusCode};
use rotor_sdk::key_value::Store;

const PREFIX: &str = "event:";

#[rotor_sdk::redis_component(filter_variable = "event_filter")]
fn on_event(event: Event) -> Result<(), String> {
    let store = Store::open_default().map_err(|e| format!("{e:?}"))?;
    let json = cloudevents::to_json(&event).map_err(|e| e.to_string())?;
    // Keyed by id: a message delivered twice is stored once.
    store
        .set(&format!("{PREFIX}{}", event.id()), &json)
        .map_err(|e| format!("{e:?}"))
}

#[rotor_sdk::http_component]
async fn serve(request: Request<Bytes>) -> Response {
    Router::new()
        .get("/events", list)
        .get("/events/:id", show)
        .handle(request)
        .await
}

fn list() -> Response {
    let events = Store::open_default().and_then(|store| {
        let mut keys: Vec<String> = store
            .get_keys()?
            .into_iter()
            .filter(|k| k.starts_with(PREFIX))
            .collect();
        keys.sort();
        let mut events = Vec::new();
        for key in keys {
            if let Some(bytes) = store.get(&key)? {
                if let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                    events.push(json);
                }
            }
        }
        Ok(events)
    });
    match events {
        Ok(events) => Json(events).into_response(),
        Err(error) => {
            eprintln!("reading events failed: {error:?}");
            (StatusCode::INTERNAL_SERVER_ERROR, "the event store failed").into_response()
        }
    }
}

fn show(params: Params) -> Response {
    let key = format!("{PREFIX}{}", params.get("id").unwrap_or_default());
    match Store::open_default().and_then(|store| store.get(&key)) {
        Ok(Some(bytes)) => match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(json) => Json(json).into_response(),
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "a stored event is corrupt",
            )
                .into_response(),
        },
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "no such event" })),
        )
            .into_response(),
        Err(error) => {
            eprintln!("reading an event failed: {error:?}");
            (StatusCode::INTERNAL_SERVER_ERROR, "the event store failed").into_response()
        }
    }
}
