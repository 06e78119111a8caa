//! `POST /alerts` with `{"severity": "info" | "warning" | "critical", "message": "..."}`:
//! the alert is checked, then published as JSON to the MQTT topic of the variable
//! `alerts_topic`, with a delivery guarantee that follows its severity: at most once for
//! `info`, at least once for `warning`, exactly once for `critical`.
//!
//! Answers 202 with `{"topic", "qos"}`, 422 for an unknown severity or an empty message, or
//! 502 when the broker cannot be reached.
#![forbid(unsafe_code)]

use rotor_sdk::http::{Bytes, IntoResponse, Json, Method, Request, Response, StatusCode};
use rotor_sdk::mqtt::{Connection, Qos};
use rotor_sdk::variables;
use serde::{Deserialize, Serialize};

/// An alert, as posted and as published.
#[derive(Deserialize, Serialize)]
struct Alert {
    severity: String,
    message: String,
}

/// How long the broker may go without hearing from the component before it drops the
/// connection; an instance lives for one request, so this only has to cover the publish.
const KEEP_ALIVE_SECS: u64 = 30;

#[rotor_sdk::http_component]
fn publish(request: Request<Bytes>) -> Response {
    if request.method() != Method::POST {
        let mut response = problem(StatusCode::METHOD_NOT_ALLOWED, "POST an alert");
        response
            .headers_mut()
            .insert("allow", rotor_sdk::http::HeaderValue::from_static("POST"));
        return response;
    }
    let alert: Alert = match Json::from_bytes(request.body()) {
        Ok(Json(alert)) => alert,
        Err(rejection) => return rejection.into_response(),
    };
    let (qos, qos_number) = match alert.severity.as_str() {
        "info" => (Qos::AtMostOnce, 0),
        "warning" => (Qos::AtLeastOnce, 1),
        "critical" => (Qos::ExactlyOnce, 2),
        _ => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "severity is one of info, warning and critical",
            )
        }
    };
    if alert.message.trim().is_empty() {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, "the message is empty");
    }
    let (address, topic) = match (
        variables::get("mqtt_address"),
        variables::get("alerts_topic"),
    ) {
        (Ok(address), Ok(topic)) => (address, topic),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("configuration: {error}");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "misconfigured");
        }
    };
    let payload = serde_json::to_vec(&alert).expect("an alert is always valid JSON");
    let published = Connection::open(&address, "", "", KEEP_ALIVE_SECS)
        .and_then(|broker| broker.publish(&topic, &payload, qos));
    match published {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "topic": topic, "qos": qos_number })),
        )
            .into_response(),
        Err(error) => {
            eprintln!("publishing to MQTT failed: {error:?}");
            problem(StatusCode::BAD_GATEWAY, "the alert could not be published")
        }
    }
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
