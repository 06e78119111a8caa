//! `GET /config/KEY` and `GET /config`: the component's configuration through
//! `wasi:config/store`, the interface Spin 3 offers beside its own variables (the Python and
//! JavaScript Spin SDKs read variables through it). rotor-sdk does not wrap it, so the probe
//! binds it itself.

use rotor_sdk::http::{IntoResponse, Json, Response};

wit_bindgen::generate!({
    inline: "
        package rotor:probe;
        world config-probe {
            import wasi:config/store@0.2.0-draft-2024-09-27;
        }
    ",
    path: "../../wit/deps/wasi-config-2024-09-27",
    world: "rotor:probe/config-probe",
    generate_all,
});

use wasi::config::store::{self, Error};

fn failure(error: Error) -> Response {
    let (kind, message) = match error {
        Error::Upstream(message) => ("upstream", message),
        Error::Io(message) => ("io", message),
    };
    super::failure(kind, message)
}

/// `{"value": VALUE}`, with `null` for a key the component does not have.
pub fn get(key: &str) -> Response {
    match store::get(key) {
        Ok(value) => Json(serde_json::json!({ "value": value })).into_response(),
        Err(error) => failure(error),
    }
}

/// `{"values": [[KEY, VALUE], ...]}`.
pub fn get_all() -> Response {
    match store::get_all() {
        Ok(values) => Json(serde_json::json!({ "values": values })).into_response(),
        Err(error) => failure(error),
    }
}
