//! Turning handler return values into responses.

use std::fmt::Display;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;

use super::body::Body;

/// The response every handler's return value becomes.
pub type Response = http::Response<Body>;

const TEXT: &str = "text/plain; charset=utf-8";
const OCTETS: &str = "application/octet-stream";
pub(super) const JSON: &str = "application/json";

/// A value a handler can return.
///
/// Implemented for `http::Response<B>` (any `B: Into<Body>`), `String`, `&str`, `Vec<u8>`,
/// `Bytes`, `Body`, `StatusCode`, `()`, `(StatusCode, T)`, [`Json<T>`](super::Json) and `Result<T, E>`.
///
/// An `Err` becomes a `500 Internal Server Error` whose body says only that; the error itself
/// is written to stderr, where the host logs it, so that internals never reach a client.
///
/// ```no_run
/// use rotor_sdk::http::{IntoResponse, StatusCode};
///
/// fn created(name: &str) -> impl IntoResponse {
///     (StatusCode::CREATED, format!("created {name}"))
/// }
/// ```
pub trait IntoResponse {
    /// Builds the response.
    fn into_response(self) -> Response;
}

pub(super) fn with_content_type(body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

impl<B: Into<Body>> IntoResponse for http::Response<B> {
    fn into_response(self) -> Response {
        self.map(Into::into)
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        with_content_type(self, TEXT)
    }
}

impl IntoResponse for &str {
    fn into_response(self) -> Response {
        with_content_type(Bytes::copy_from_slice(self.as_bytes()), TEXT)
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        with_content_type(self, OCTETS)
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        with_content_type(self, OCTETS)
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self;
        response
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(Body::empty())
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        let mut response = self.1.into_response();
        *response.status_mut() = self.0;
        response
    }
}

impl<T: IntoResponse, E: Display> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(error) => internal_error(&error),
        }
    }
}

impl IntoResponse for std::convert::Infallible {
    fn into_response(self) -> Response {
        match self {}
    }
}

/// Logs `error` to stderr and answers with a bare 500.
pub(crate) fn internal_error(error: &dyn Display) -> Response {
    crate::diagnostics::report!("handler error: {error:#}");
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}
