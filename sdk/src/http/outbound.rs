//! Outbound HTTP: requests from the component to other services, over
//! `wasi:http/outgoing-handler@0.2.0`.
//!
//! The host sends a request only to a host the component's `allowed_outbound_hosts` grants;
//! anything else fails with [`SendErrorKind::Denied`] and never leaves the machine. A URI
//! without a scheme and host (`/api/items`) is a request to the app itself, which needs
//! `http://self` (or `https://self`) in the list.
//!
//! ```no_run
//! use rotor_sdk::http::{self, outbound, IntoResponse};
//!
//! #[derive(serde::Deserialize)]
//! struct User { name: String }
//!
//! #[rotor_sdk::http_component]
//! async fn handle(_request: http::Request<http::Bytes>) -> impl IntoResponse {
//!     let user: User = outbound::get_json("https://api.example.com/users/1").await?;
//!     Ok::<_, outbound::SendError>(format!("hello, {}", user.name))
//! }
//! ```

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::body::{Body, BodyError, IncomingBody};
use crate::bindings::platform::wasi::http::outgoing_handler;
use crate::bindings::platform::wasi::http::types::{
    self as wasi_http, ErrorCode, FutureIncomingResponse,
};
use crate::executor::{block_on, wait_for};

/// The response to an outbound request, with its body still to be read.
pub type OutboundResponse = http::Response<IncomingBody>;

/// Limits on how long the host waits for the other side, attached to a request as an
/// extension. Unset limits are the host's own (ten minutes on Rotor).
///
/// ```no_run
/// use std::time::Duration;
/// use rotor_sdk::http::outbound::{self, Timeouts};
///
/// # async fn example() -> Result<(), outbound::SendError> {
/// let mut request = http::Request::get("https://api.example.com/slow").body(())?;
/// request.extensions_mut().insert(Timeouts {
///     connect: Some(Duration::from_secs(2)),
///     first_byte: Some(Duration::from_secs(5)),
///     between_bytes: Some(Duration::from_secs(5)),
/// });
/// let response = outbound::send(request).await?;
/// # let _ = response; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// How long connecting may take.
    pub connect: Option<Duration>,
    /// How long the response's status and headers may take once the request is sent.
    pub first_byte: Option<Duration>,
    /// How long the body may pause between two chunks.
    pub between_bytes: Option<Duration>,
}

impl Timeouts {
    /// The same limit for every phase.
    pub fn all(limit: Duration) -> Self {
        Timeouts {
            connect: Some(limit),
            first_byte: Some(limit),
            between_bytes: Some(limit),
        }
    }
}

/// What kind of failure a [`SendError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendErrorKind {
    /// The host refused the request: its destination is not in `allowed_outbound_hosts`.
    Denied,
    /// The host name could not be resolved.
    Dns,
    /// No connection could be made (refused, unreachable, reset).
    Connect,
    /// TLS failed (certificate, protocol, alert).
    Tls,
    /// A connect, first-byte or between-bytes limit ran out.
    Timeout,
    /// The other side did not speak HTTP properly.
    Protocol,
    /// The request itself is invalid (URI, method or header the host refuses).
    InvalidRequest,
    /// Writing the request body or reading the response body failed.
    Body,
    /// The response had a status that the helper does not accept (see [`get_json`]).
    Status(StatusCode),
    /// Anything else.
    Other,
}

/// Why an outbound request failed.
#[derive(Debug, Clone)]
pub struct SendError {
    kind: SendErrorKind,
    message: String,
    code: Option<ErrorCode>,
}

impl SendError {
    fn new(kind: SendErrorKind, message: impl Into<String>) -> Self {
        SendError {
            kind,
            message: message.into(),
            code: None,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> SendErrorKind {
        self.kind
    }

    /// The `wasi:http` error code the host gave, when it gave one.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.code.as_ref()
    }

    /// Whether the host refused the destination.
    pub fn is_denied(&self) -> bool {
        self.kind == SendErrorKind::Denied
    }

    /// Whether a time limit ran out.
    pub fn is_timeout(&self) -> bool {
        self.kind == SendErrorKind::Timeout
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SendError {}

impl From<ErrorCode> for SendError {
    fn from(code: ErrorCode) -> Self {
        let kind = match &code {
            ErrorCode::HttpRequestDenied => SendErrorKind::Denied,
            ErrorCode::DnsTimeout | ErrorCode::DnsError(_) | ErrorCode::DestinationNotFound => {
                SendErrorKind::Dns
            }
            ErrorCode::DestinationUnavailable
            | ErrorCode::DestinationIpProhibited
            | ErrorCode::DestinationIpUnroutable
            | ErrorCode::ConnectionRefused
            | ErrorCode::ConnectionTerminated
            | ErrorCode::ConnectionLimitReached => SendErrorKind::Connect,
            ErrorCode::TlsProtocolError
            | ErrorCode::TlsCertificateError
            | ErrorCode::TlsAlertReceived(_) => SendErrorKind::Tls,
            ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout
            | ErrorCode::HttpResponseTimeout => SendErrorKind::Timeout,
            ErrorCode::HttpRequestMethodInvalid
            | ErrorCode::HttpRequestUriInvalid
            | ErrorCode::HttpRequestUriTooLong
            | ErrorCode::HttpRequestLengthRequired
            | ErrorCode::HttpRequestBodySize(_)
            | ErrorCode::HttpRequestHeaderSectionSize(_)
            | ErrorCode::HttpRequestHeaderSize(_)
            | ErrorCode::HttpRequestTrailerSectionSize(_)
            | ErrorCode::HttpRequestTrailerSize(_) => SendErrorKind::InvalidRequest,
            ErrorCode::HttpResponseIncomplete
            | ErrorCode::HttpResponseHeaderSectionSize(_)
            | ErrorCode::HttpResponseHeaderSize(_)
            | ErrorCode::HttpResponseBodySize(_)
            | ErrorCode::HttpResponseTrailerSectionSize(_)
            | ErrorCode::HttpResponseTrailerSize(_)
            | ErrorCode::HttpResponseTransferCoding(_)
            | ErrorCode::HttpResponseContentCoding(_)
            | ErrorCode::HttpUpgradeFailed
            | ErrorCode::HttpProtocolError
            | ErrorCode::LoopDetected => SendErrorKind::Protocol,
            ErrorCode::ConfigurationError | ErrorCode::InternalError(_) => SendErrorKind::Other,
        };
        let message = match &code {
            ErrorCode::HttpRequestDenied => {
                "the host denied the request: its destination is not in allowed_outbound_hosts"
                    .to_owned()
            }
            ErrorCode::InternalError(Some(detail)) => format!("the host failed: {detail}"),
            other => format!("outbound request failed: {other:?}"),
        };
        SendError {
            kind,
            message,
            code: Some(code),
        }
    }
}

impl From<BodyError> for SendError {
    fn from(error: BodyError) -> Self {
        SendError::new(SendErrorKind::Body, error.to_string())
    }
}

impl From<http::Error> for SendError {
    fn from(error: http::Error) -> Self {
        SendError::new(
            SendErrorKind::InvalidRequest,
            format!("invalid request: {error}"),
        )
    }
}

/// Sends `request` and waits for the response's status and headers; the body is read
/// afterwards, as it arrives, from the returned [`IncomingBody`].
///
/// The request body may be anything that converts into a [`Body`], streamed ones included.
/// A [`Timeouts`] extension on the request sets its time limits.
///
/// ```no_run
/// use rotor_sdk::http::outbound;
///
/// # async fn example() -> Result<(), outbound::SendError> {
/// let request = http::Request::post("https://api.example.com/events")
///     .header("content-type", "text/plain")
///     .body("something happened")?;
/// let response = outbound::send(request).await?;
/// let text = response.into_body().text().await?;
/// # let _ = text; Ok(()) }
/// ```
pub async fn send<B: Into<Body>>(request: Request<B>) -> Result<OutboundResponse, SendError> {
    let (parts, body) = request.into_parts();
    let body: Body = body.into();
    let timeouts = parts.extensions.get::<Timeouts>().copied();

    let mut headers: Vec<(String, Vec<u8>)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    if let Some(bytes) = body.as_bytes() {
        if !bytes.is_empty() && !parts.headers.contains_key(http::header::CONTENT_LENGTH) {
            headers.push(("content-length".to_owned(), bytes.len().to_string().into()));
        }
    }
    let fields = wasi_http::Fields::from_list(&headers).map_err(|error| {
        SendError::new(
            SendErrorKind::InvalidRequest,
            format!("the host refuses the request headers: {error:?}"),
        )
    })?;
    let outgoing = wasi_http::OutgoingRequest::new(fields);
    let invalid = |what: &str| SendError::new(SendErrorKind::InvalidRequest, what.to_owned());
    outgoing
        .set_method(&to_wasi_method(&parts.method))
        .map_err(|()| invalid("the host refuses the method"))?;
    // A URI without a host (`/api/items`) is a request to the app itself, which hosts
    // address as `http://self`.
    let (scheme, authority) = match parts.uri.authority() {
        Some(authority) => (parts.uri.scheme_str(), authority.as_str()),
        None => (Some("http"), "self"),
    };
    if let Some(scheme) = scheme {
        let scheme = match scheme {
            "http" => wasi_http::Scheme::Http,
            "https" => wasi_http::Scheme::Https,
            other => wasi_http::Scheme::Other(other.to_owned()),
        };
        outgoing
            .set_scheme(Some(&scheme))
            .map_err(|()| invalid("the host refuses the scheme"))?;
    }
    outgoing
        .set_authority(Some(authority))
        .map_err(|()| invalid("the host refuses the authority"))?;
    outgoing
        .set_path_with_query(Some(
            parts.uri.path_and_query().map_or("/", |path| path.as_str()),
        ))
        .map_err(|()| invalid("the host refuses the path"))?;

    let options = timeouts.map(to_wasi_options).transpose()?;
    let outgoing_body = outgoing
        .body()
        .expect("a new request hands out its body once");
    let pending = outgoing_handler::handle(outgoing, options)?;
    // The body is written while the host is already sending, so a body larger than the
    // host's buffer flows instead of waiting for a response that needs it first.
    let written = body.send(outgoing_body).await;
    match wait_for_response(pending).await {
        // A server may answer before it has read the whole body (a 413, or a GET it answers
        // at once); its answer is what counts, not the body write it cut short.
        Ok(response) => to_http_response(response),
        Err(error) => {
            if let Err(body_error) = written {
                crate::diagnostics::report!("sending the request body failed too: {body_error}");
            }
            Err(error)
        }
    }
}

/// [`send`] for synchronous code: blocks until the whole response has arrived.
///
/// ```no_run
/// use rotor_sdk::http::{self, outbound, IntoResponse};
///
/// #[rotor_sdk::http_component]
/// fn handle(_request: http::Request<http::Bytes>) -> impl IntoResponse {
///     let request = http::Request::get("https://example.com/").body(()).unwrap();
///     match outbound::send_blocking(request) {
///         Ok(response) => response.into_body().into_response(),
///         Err(error) => (http::StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
///     }
/// }
/// ```
pub fn send_blocking<B: Into<Body>>(
    request: Request<B>,
) -> Result<http::Response<Bytes>, SendError> {
    block_on(async {
        let (parts, body) = send(request).await?.into_parts();
        Ok(http::Response::from_parts(parts, body.bytes().await?))
    })
}

/// `GET url`.
///
/// ```no_run
/// # async fn example() -> Result<(), rotor_sdk::http::outbound::SendError> {
/// let response = rotor_sdk::http::outbound::get("https://example.com/").await?;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
pub async fn get(url: &str) -> Result<OutboundResponse, SendError> {
    send(Request::get(url).body(())?).await
}

/// `POST url` with `body`.
///
/// ```no_run
/// # async fn example() -> Result<(), rotor_sdk::http::outbound::SendError> {
/// let response = rotor_sdk::http::outbound::post("https://example.com/log", "a line").await?;
/// # let _ = response; Ok(()) }
/// ```
pub async fn post(url: &str, body: impl Into<Body>) -> Result<OutboundResponse, SendError> {
    send(Request::post(url).body(body)?).await
}

/// `POST url` with `value` as a JSON body (`content-type: application/json`).
///
/// ```no_run
/// # async fn example() -> Result<(), rotor_sdk::http::outbound::SendError> {
/// let order = serde_json::json!({ "sku": "A-1", "quantity": 2 });
/// let response = rotor_sdk::http::outbound::post_json("https://shop.example.com/orders", &order).await?;
/// # let _ = response; Ok(()) }
/// ```
pub async fn post_json<T: Serialize + ?Sized>(
    url: &str,
    value: &T,
) -> Result<OutboundResponse, SendError> {
    let body = serde_json::to_vec(value).map_err(|e| {
        SendError::new(
            SendErrorKind::InvalidRequest,
            format!("cannot serialize the body: {e}"),
        )
    })?;
    let request = Request::post(url)
        .header(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .body(body)?;
    send(request).await
}

/// `GET url` with `accept: application/json`, parsing a 2xx response's body as `T`.
///
/// Any other status is an error of kind [`SendErrorKind::Status`]; a body that is not valid
/// JSON for `T` is [`SendErrorKind::Body`], with serde's explanation.
///
/// ```no_run
/// #[derive(serde::Deserialize)]
/// struct Weather { celsius: f64 }
///
/// # async fn example() -> Result<(), rotor_sdk::http::outbound::SendError> {
/// let weather: Weather = rotor_sdk::http::outbound::get_json("https://weather.example.com/now").await?;
/// # let _ = weather.celsius; Ok(()) }
/// ```
pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, SendError> {
    let request = Request::get(url)
        .header(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        )
        .body(())?;
    let response = send(request).await?;
    let status = response.status();
    if !status.is_success() {
        return Err(SendError::new(
            SendErrorKind::Status(status),
            format!("GET {url} answered {status}"),
        ));
    }
    Ok(response.into_body().json().await?)
}

fn to_wasi_method(method: &Method) -> wasi_http::Method {
    match *method {
        Method::GET => wasi_http::Method::Get,
        Method::HEAD => wasi_http::Method::Head,
        Method::POST => wasi_http::Method::Post,
        Method::PUT => wasi_http::Method::Put,
        Method::DELETE => wasi_http::Method::Delete,
        Method::CONNECT => wasi_http::Method::Connect,
        Method::OPTIONS => wasi_http::Method::Options,
        Method::TRACE => wasi_http::Method::Trace,
        Method::PATCH => wasi_http::Method::Patch,
        ref other => wasi_http::Method::Other(other.as_str().to_owned()),
    }
}

fn to_wasi_options(timeouts: Timeouts) -> Result<wasi_http::RequestOptions, SendError> {
    let options = wasi_http::RequestOptions::new();
    let nanos = |limit: Option<Duration>| limit.map(|d| d.as_nanos().min(u64::MAX as u128) as u64);
    let unsupported = |which: &str| {
        SendError::new(
            SendErrorKind::InvalidRequest,
            format!("the host does not support a {which} timeout"),
        )
    };
    options
        .set_connect_timeout(nanos(timeouts.connect))
        .map_err(|()| unsupported("connect"))?;
    options
        .set_first_byte_timeout(nanos(timeouts.first_byte))
        .map_err(|()| unsupported("first-byte"))?;
    options
        .set_between_bytes_timeout(nanos(timeouts.between_bytes))
        .map_err(|()| unsupported("between-bytes"))?;
    Ok(options)
}

async fn wait_for_response(
    pending: FutureIncomingResponse,
) -> Result<wasi_http::IncomingResponse, SendError> {
    loop {
        match pending.get() {
            Some(Ok(Ok(response))) => return Ok(response),
            Some(Ok(Err(code))) => return Err(code.into()),
            Some(Err(())) => {
                return Err(SendError::new(
                    SendErrorKind::Other,
                    "the response was already taken",
                ))
            }
            None => wait_for(pending.subscribe()).await,
        }
    }
}

fn to_http_response(response: wasi_http::IncomingResponse) -> Result<OutboundResponse, SendError> {
    let status = StatusCode::from_u16(response.status()).map_err(|_| {
        SendError::new(
            SendErrorKind::Protocol,
            format!("invalid status {}", response.status()),
        )
    })?;
    let mut builder = http::Response::builder().status(status);
    for (name, value) in response.headers().entries() {
        builder = builder.header(name, value);
    }
    let body = response
        .consume()
        .map_err(|()| SendError::new(SendErrorKind::Body, "the response body was already taken"))?;
    let body = IncomingBody::from_response(body, response)?;
    Ok(builder.body(body)?)
}
