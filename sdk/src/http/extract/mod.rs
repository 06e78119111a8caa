//! Building handler arguments from the incoming request.
//!
//! A handler's arguments are extractors. All but the last implement [`FromRequestParts`]: they
//! read the method, URI, headers or route parameters and leave the body alone. The last may
//! also implement [`FromRequest`] and consume the body (`Json<T>`, `Form<T>`, `String`,
//! `Bytes`, the whole `Request`). The same rule holds for `#[http_component]` functions and
//! for [`Router`](super::Router) routes.
//!
//! | extractor | reads | rejects with |
//! |---|---|---|
//! | [`Method`], [`Uri`], [`HeaderMap`], [`Parts`] | the request line and headers | never |
//! | [`Header<T>`] ([`BearerToken`], [`ContentType`], [`ContentLength`], [`UserAgent`], [`Host`], or a [`TypedHeader`] of your own) | one header, typed | 400 when it is missing or does not parse |
//! | [`Params`](super::Params), [`Path<T>`] | the route's captures | 400 when a capture does not parse as `T` |
//! | [`Query<T>`] | the query string | 400 when it does not parse as `T` |
//! | [`Json<T>`] | the body, as JSON | 415 without a JSON `content-type`, 400 for malformed JSON, 422 for JSON of the wrong shape |
//! | [`Form<T>`] | the body, URL-encoded | 415 without `application/x-www-form-urlencoded`, 422 when it does not fit `T` |
//! | `String`, `Bytes`, `Vec<u8>`, [`IncomingBody`] | the body | 400 when it cannot be read (or, for `String`, is not UTF-8) |
//! | `Request<Bytes>`, `Request<IncomingBody>` | everything | as the body |
//! | `Option<T>` | `T`, or `None` where `T` rejects | never |
//! | `Result<T, T::Rejection>` | `T`, or why it rejects | never |
//!
//! A rejection is the response: the handler is not called. Its body is plain text by default;
//! [`set_rejection_format`] makes it JSON for APIs whose clients expect that.

mod header;
mod json;
mod pairs;
mod path;
mod query;

use std::cell::Cell;
use std::fmt;
use std::future::Future;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, Request, StatusCode, Uri};

use super::body::IncomingBody;
use super::response::{internal_error_reply, IntoResponse, Reply, Response, JSON};

pub use header::{BearerToken, ContentLength, ContentType, Header, Host, TypedHeader, UserAgent};
pub use json::Json;
pub use path::{Params, Path};
pub use query::{Form, Query};

/// What of the incoming request an extractor reads, besides its path and query string.
///
/// `#[http_component]` converts from the host's request only what its handler's extractors
/// read: a handler that takes only a [`Query`] never carries the code that parses header
/// names, which keeps small components small. The default of [`FromRequestParts::READS`] and
/// [`FromRequest::READS`] is [`Reads::EVERYTHING`], which is right for any extractor; a
/// narrower value is only an optimisation, and reading a part it leaves out finds that part
/// empty (no headers, `GET`, a URI without scheme and authority).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reads {
    /// The method.
    pub method: bool,
    /// The URI's scheme and authority.
    pub authority: bool,
    /// The headers.
    pub headers: bool,
}

impl Reads {
    /// Only the path and query string (and the body, which is always there to take).
    pub const PATH_AND_QUERY: Reads = Reads {
        method: false,
        authority: false,
        headers: false,
    };

    /// The whole request.
    pub const EVERYTHING: Reads = Reads {
        method: true,
        authority: true,
        headers: true,
    };

    /// What either of `self` and `other` reads.
    pub const fn and(self, other: Reads) -> Reads {
        Reads {
            method: self.method || other.method,
            authority: self.authority || other.authority,
            headers: self.headers || other.headers,
        }
    }
}

/// A handler argument built from the request's method, URI, headers and extensions, without
/// its body; any number of them may come before the one argument that takes the body.
///
/// ```no_run
/// use rotor_sdk::http::request::Parts;
/// use rotor_sdk::http::{FromRequestParts, Rejection, StatusCode};
///
/// /// The value of the `x-api-key` header; requests without one are refused with a 401.
/// struct ApiKey(String);
///
/// impl FromRequestParts for ApiKey {
///     type Rejection = Rejection;
///
///     async fn from_request_parts(parts: &mut Parts) -> Result<Self, Rejection> {
///         parts
///             .headers
///             .get("x-api-key")
///             .and_then(|v| v.to_str().ok())
///             .map(|key| ApiKey(key.to_owned()))
///             .ok_or_else(|| Rejection::new(StatusCode::UNAUTHORIZED, "missing x-api-key header"))
///     }
/// }
///
/// #[rotor_sdk::http_component]
/// fn handle(ApiKey(key): ApiKey, body: String) -> String {
///     format!("{} bytes from {key}", body.len())
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be extracted from the request's method, URI and headers",
    label = "not a `FromRequestParts` extractor",
    note = "every handler argument but the last must implement `FromRequestParts` (`Query<T>`, `Path<T>`, `HeaderMap`, `Method`, `Uri`, `Params`, ...); one that reads the body (`Json<T>`, `Form<T>`, `String`, `Bytes`, `Request<...>`) goes last"
)]
pub trait FromRequestParts: Sized {
    /// The response sent when extraction fails.
    type Rejection: IntoResponse;

    /// What of the request this extractor reads; see [`Reads`].
    const READS: Reads = Reads::EVERYTHING;

    /// Builds the value from the request's parts; it may change them for later extractors.
    fn from_request_parts(parts: &mut Parts)
        -> impl Future<Output = Result<Self, Self::Rejection>>;
}

/// A handler argument built from the whole request, body included; only the last argument of
/// a handler may be one.
///
/// Every [`FromRequestParts`] type is one too (through the `ViaParts` marker, which never
/// needs to be written); a type of your own implements `FromRequest` with the default marker.
///
/// ```no_run
/// use rotor_sdk::http::{FromRequest, IncomingBody, Rejection, Request, StatusCode};
///
/// /// A body of at most 1 KiB.
/// struct SmallBody(Vec<u8>);
///
/// impl FromRequest for SmallBody {
///     type Rejection = Rejection;
///
///     async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
///         let bytes = Vec::<u8>::from_request(request).await?;
///         if bytes.len() > 1024 {
///             return Err(Rejection::new(StatusCode::PAYLOAD_TOO_LARGE, "at most 1 KiB, please"));
///         }
///         Ok(SmallBody(bytes))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be extracted from the request",
    label = "not an extractor",
    note = "a handler argument must implement `FromRequestParts` (`Query<T>`, `Path<T>`, `HeaderMap`, `Method`, ...) or, for the last one, `FromRequest` (`Json<T>`, `Form<T>`, `String`, `Bytes`, `Request<...>`)"
)]
pub trait FromRequest<Via = ViaRequest>: Sized {
    /// The response sent when extraction fails.
    type Rejection: IntoResponse;

    /// What of the request this extractor reads; see [`Reads`].
    const READS: Reads = Reads::EVERYTHING;

    /// Builds the value, consuming the request.
    fn from_request(
        request: Request<IncomingBody>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>>;
}

/// Marks the [`FromRequest`] implementations that take the body.
#[derive(Debug)]
pub enum ViaRequest {}

/// Marks the [`FromRequest`] implementation every [`FromRequestParts`] type gets.
#[derive(Debug)]
pub enum ViaParts {}

impl<T: FromRequestParts> FromRequest<ViaParts> for T {
    type Rejection = T::Rejection;
    const READS: Reads = T::READS;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Self::Rejection> {
        let (mut parts, _body) = request.into_parts();
        T::from_request_parts(&mut parts).await
    }
}

/// How rejections write their message; see [`set_rejection_format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionFormat {
    /// `text/plain`: the message alone. The default.
    PlainText,
    /// `application/json`: `{"status": 422, "error": "Unprocessable Entity", "message": "..."}`.
    Json,
}

thread_local! {
    // A component instance runs on one thread; a thread of its own per test keeps tests apart.
    static REJECTION_FORMAT: Cell<RejectionFormat> = const { Cell::new(RejectionFormat::PlainText) };
}

/// Sets how every [`Rejection`] of this component instance writes its message from now on.
///
/// ```no_run
/// use rotor_sdk::http::{set_rejection_format, Json, RejectionFormat};
///
/// #[rotor_sdk::http_component]
/// fn handle(Json(value): Json<serde_json::Value>) -> Json<serde_json::Value> {
///     Json(value)
/// }
///
/// // Called from the handler or from a middleware before the first extraction:
/// fn api_setup() {
///     set_rejection_format(RejectionFormat::Json);
/// }
/// ```
pub fn set_rejection_format(format: RejectionFormat) {
    REJECTION_FORMAT.set(format);
}

fn rejection_format() -> RejectionFormat {
    REJECTION_FORMAT.get()
}

/// A failed extraction: a status and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: StatusCode,
    message: String,
}

impl Rejection {
    /// A rejection answering `status` with `message`.
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
        self.into_reply().into_response()
    }

    fn into_reply(self) -> Reply {
        match rejection_format() {
            RejectionFormat::PlainText => (self.status, self.message).into_reply(),
            RejectionFormat::Json => {
                // Fields in the order `json!` used to give them (sorted), so that the body
                // stays byte for byte what it was.
                #[derive(serde::Serialize)]
                struct Body<'a> {
                    error: &'a str,
                    message: &'a str,
                    status: u16,
                }
                let body = Body {
                    error: self.status.canonical_reason().unwrap_or(""),
                    message: &self.message,
                    status: self.status.as_u16(),
                };
                match serde_json::to_vec(&body) {
                    Ok(body) => Reply::ok(body, Some(JSON)).with_status(self.status),
                    Err(error) => internal_error_reply(&error),
                }
            }
        }
    }
}

impl FromRequestParts for Method {
    type Rejection = std::convert::Infallible;
    const READS: Reads = Reads {
        method: true,
        ..Reads::PATH_AND_QUERY
    };

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Self::Rejection> {
        Ok(parts.method.clone())
    }
}

impl FromRequestParts for Uri {
    type Rejection = std::convert::Infallible;
    const READS: Reads = Reads {
        authority: true,
        ..Reads::PATH_AND_QUERY
    };

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Self::Rejection> {
        Ok(parts.uri.clone())
    }
}

impl FromRequestParts for HeaderMap {
    type Rejection = std::convert::Infallible;
    const READS: Reads = Reads {
        headers: true,
        ..Reads::PATH_AND_QUERY
    };

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Self::Rejection> {
        Ok(parts.headers.clone())
    }
}

/// Everything but the body; extensions are not kept (they cannot be cloned).
impl FromRequestParts for Parts {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Self::Rejection> {
        let mut copy = Request::new(()).into_parts().0;
        copy.method = parts.method.clone();
        copy.uri = parts.uri.clone();
        copy.version = parts.version;
        copy.headers = parts.headers.clone();
        Ok(copy)
    }
}

impl<T: FromRequestParts> FromRequestParts for Option<T> {
    type Rejection = std::convert::Infallible;
    const READS: Reads = T::READS;

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Self::Rejection> {
        Ok(T::from_request_parts(parts).await.ok())
    }
}

impl<T: FromRequestParts> FromRequestParts for Result<T, T::Rejection> {
    type Rejection = std::convert::Infallible;
    const READS: Reads = T::READS;

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Self::Rejection> {
        Ok(T::from_request_parts(parts).await)
    }
}

impl FromRequest for Request<IncomingBody> {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Self::Rejection> {
        Ok(request)
    }
}

/// The body as a stream, read as the handler goes.
impl FromRequest for IncomingBody {
    type Rejection = std::convert::Infallible;
    const READS: Reads = Reads::PATH_AND_QUERY;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Self::Rejection> {
        Ok(request.into_body())
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
    const READS: Reads = Reads::PATH_AND_QUERY;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
        read_body(request.into_body()).await
    }
}

impl FromRequest for Vec<u8> {
    type Rejection = Rejection;
    const READS: Reads = Reads::PATH_AND_QUERY;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
        Ok(Bytes::from_request(request).await?.to_vec())
    }
}

impl FromRequest for String {
    type Rejection = Rejection;
    const READS: Reads = Reads::PATH_AND_QUERY;

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

/// Body extractors wrapped in `Option` give `None` where they would reject.
impl<T: FromRequest> FromRequest for Option<T> {
    type Rejection = std::convert::Infallible;
    const READS: Reads = T::READS;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Self::Rejection> {
        Ok(T::from_request(request).await.ok())
    }
}

/// Body extractors wrapped in `Result` hand their rejection to the handler, which can answer
/// it its own way.
impl<T: FromRequest> FromRequest for Result<T, T::Rejection> {
    type Rejection = std::convert::Infallible;
    const READS: Reads = T::READS;

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Self::Rejection> {
        Ok(T::from_request(request).await)
    }
}

pub(crate) async fn read_body(body: IncomingBody) -> Result<Bytes, Rejection> {
    body.bytes().await.map_err(|e| {
        crate::diagnostics::report!("reading the request body failed: {e}");
        Rejection::new(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        )
    })
}

/// The essence (`type/subtype`, lowercase) of the request's `content-type`, if any.
pub(crate) fn content_type_essence(headers: &HeaderMap) -> String {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_text(response: Response) -> String {
        let bytes = response.into_body().as_bytes().cloned().unwrap_or_default();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn rejections_are_plain_text_or_json_as_set() {
        let rejection = Rejection::new(StatusCode::UNPROCESSABLE_ENTITY, "missing field `name`");
        let response = rejection.clone().into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert_eq!(body_text(response), "missing field `name`");

        set_rejection_format(RejectionFormat::Json);
        let response = rejection.into_response();
        set_rejection_format(RejectionFormat::PlainText);
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.headers()["content-type"], "application/json");
        let json: serde_json::Value = serde_json::from_str(&body_text(response)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "status": 422,
                "error": "Unprocessable Entity",
                "message": "missing field `name`",
            })
        );
    }

    #[test]
    fn option_and_result_catch_rejections() {
        use crate::executor::block_on;
        let mut parts = Request::get("/?page=x").body(()).unwrap().into_parts().0;
        #[derive(Debug, serde::Deserialize)]
        struct Page {
            #[allow(dead_code)]
            page: u32,
        }
        let missing = block_on(Option::<Query<Page>>::from_request_parts(&mut parts)).unwrap();
        assert!(missing.is_none());
        let why = block_on(Result::<Query<Page>, Rejection>::from_request_parts(
            &mut parts,
        ));
        assert_eq!(why.unwrap().unwrap_err().status(), StatusCode::BAD_REQUEST);

        let request = Request::new(IncomingBody::from_bytes(vec![0xff, 0xfe]));
        let text = block_on(Option::<String>::from_request(request)).unwrap();
        assert!(text.is_none());
    }
}
