//! Building handler arguments from the incoming request.

use std::fmt;
use std::future::Future;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::StatusCode;
use serde::de::DeserializeOwned;

use http::Request;

use super::body::IncomingBody;
use super::response::{internal_error, with_content_type, IntoResponse, Response, JSON};

/// A handler argument built from the incoming request.
///
/// Implemented for the whole request, streaming (`Request<IncomingBody>`) or buffered
/// (`Request<Bytes>`), and for the body alone as `Bytes`, `Vec<u8>`, `String` or [`Json<T>`].
/// When extraction fails, the handler is not called and the rejection is the response.
///
/// ```no_run
/// use rotor_sdk::http::{FromRequest, IncomingBody, Rejection, Request};
/// use rotor_sdk::http::StatusCode;
///
/// /// The value of the `x-api-key` header; requests without one are refused with a 401.
/// struct ApiKey(String);
///
/// impl FromRequest for ApiKey {
///     type Rejection = Rejection;
///
///     async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
///         request
///             .headers()
///             .get("x-api-key")
///             .and_then(|v| v.to_str().ok())
///             .map(|key| ApiKey(key.to_owned()))
///             .ok_or_else(|| Rejection::new(StatusCode::UNAUTHORIZED, "missing x-api-key header"))
///     }
/// }
/// ```
pub trait FromRequest: Sized {
    /// The response sent when extraction fails.
    type Rejection: IntoResponse;

    /// Builds the value, consuming the request.
    fn from_request(
        request: Request<IncomingBody>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>>;
}

/// A failed extraction: a status and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: StatusCode,
    message: String,
}

impl Rejection {
    /// A rejection answering `status` with `message` as a plain-text body.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Rejection {
            status,
            message: message.into(),
        }
    }

    /// The status the client receives.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message the client receives.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for Rejection {}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        (self.status, self.message).into_response()
    }
}

/// A JSON value: as an argument, the request body parsed as `T`; as a return value, `T`
/// serialized with `content-type: application/json`.
///
/// As an argument it rejects a request whose `content-type` is not JSON with 415, and a body
/// that does not parse as `T` with 400 and serde's explanation.
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
    /// Parses `bytes` as JSON.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Rejection> {
        serde_json::from_slice(bytes)
            .map(Json)
            .map_err(|e| Rejection::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
    }
}

/// Whether a `content-type` value names JSON (`application/json`, `application/*+json`).
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

impl<T: DeserializeOwned> FromRequest for Json<T> {
    type Rejection = Rejection;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            return Err(Rejection::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a request with content-type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request).await?;
        Json::from_bytes(&bytes)
    }
}

impl FromRequest for Request<IncomingBody> {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Self::Rejection> {
        Ok(request)
    }
}

impl FromRequest for Request<Bytes> {
    type Rejection = Rejection;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = read_body(body).await?;
        Ok(Request::from_parts(parts, bytes))
    }
}

impl FromRequest for Bytes {
    type Rejection = Rejection;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
        read_body(request.into_body()).await
    }
}

impl FromRequest for Vec<u8> {
    type Rejection = Rejection;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
        Ok(Bytes::from_request(request).await?.to_vec())
    }
}

impl FromRequest for String {
    type Rejection = Rejection;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
        let bytes = Vec::<u8>::from_request(request).await?;
        String::from_utf8(bytes).map_err(|_| {
            Rejection::new(
                StatusCode::BAD_REQUEST,
                "the request body is not valid UTF-8",
            )
        })
    }
}

async fn read_body(body: IncomingBody) -> Result<Bytes, Rejection> {
    body.bytes().await.map_err(|e| {
        eprintln!("reading the request body failed: {e}");
        Rejection::new(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        )
    })
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => with_content_type(bytes, JSON),
            Err(error) => internal_error(&format_args!(
                "serializing the JSON response failed: {error}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/cloudevents+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/jsonp"));
        assert!(!is_json(""));
    }
}
