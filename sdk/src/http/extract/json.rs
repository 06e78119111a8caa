//! `Json<T>`: JSON request bodies in, JSON responses out.

use http::{Request, StatusCode};
use serde::de::DeserializeOwned;

use super::{content_type_essence, read_body, FromRequest, Reads, Rejection};
use crate::http::body::IncomingBody;
use crate::http::response::{internal_error_reply, IntoResponse, Reply, Response, JSON};

/// A JSON value: as an argument, the request body parsed as `T`; as a return value, `T`
/// serialized with `content-type: application/json`.
///
/// As an argument it rejects a request whose `content-type` is not JSON with 415, a body that
/// is not JSON with 400, and JSON that does not fit `T` (a missing field, a string where a
/// number belongs) with 422; each time with serde's explanation.
///
/// ```no_run
/// use rotor_sdk::http::Json;
///
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Greeting { name: String }
///
/// #[rotor_sdk::http_component]
/// fn greet(Json(greeting): Json<Greeting>) -> Json<Greeting> {
///     Json(Greeting { name: format!("hello, {}", greeting.name) })
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> Json<T> {
    /// Parses `bytes` as JSON: 400 when they are not JSON, 422 when it does not fit `T`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Rejection> {
        serde_json::from_slice(bytes).map(Json).map_err(|e| {
            let status = if e.is_data() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_REQUEST
            };
            Rejection::new(status, format!("invalid JSON body: {e}"))
        })
    }
}

/// Whether a `content-type` essence names JSON (`application/json`, `application/*+json`).
fn is_json(essence: &str) -> bool {
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind == "application" && (subtype == "json" || subtype.ends_with("+json"))
}

impl<T: DeserializeOwned> FromRequest for Json<T> {
    type Rejection = Rejection;
    const READS: Reads = Reads {
        headers: true,
        ..Reads::PATH_AND_QUERY
    };

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
        if !is_json(&content_type_essence(request.headers())) {
            return Err(Rejection::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a request with content-type: application/json",
            ));
        }
        let bytes = read_body(request.into_body()).await?;
        Json::from_bytes(&bytes)
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        self.into_reply().into_response()
    }

    fn into_reply(self) -> Reply {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => Reply::ok(bytes, Some(JSON)),
            Err(error) => internal_error_reply(&format_args!(
                "serializing the JSON response failed: {error}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::block_on;

    fn json_request(content_type: &str, body: &'static str) -> Request<IncomingBody> {
        Request::builder()
            .header("content-type", content_type)
            .body(IncomingBody::from_bytes(body))
            .unwrap()
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Point {
        x: i32,
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/cloudevents+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/jsonp"));
        assert!(!is_json(""));
    }

    #[test]
    fn status_follows_what_went_wrong() {
        let parse = |content_type, body| {
            block_on(Json::<Point>::from_request(json_request(
                content_type,
                body,
            )))
        };
        assert_eq!(
            parse("Application/JSON; charset=utf-8", r#"{"x": 3}"#).unwrap(),
            Json(Point { x: 3 })
        );
        let status = |r: Result<Json<Point>, Rejection>| r.unwrap_err().status();
        assert_eq!(
            status(parse("text/plain", r#"{"x": 3}"#)),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert_eq!(
            status(parse("application/json", "{not json")),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(parse("application/json", r#"{"x": "three"}"#)),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            status(parse("application/json", "{}")),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
