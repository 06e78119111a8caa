//! HTTP: incoming requests, responses, extractors, a router with middleware, and outbound
//! requests ([`outbound`]).
//!
//! A handler is a function marked `#[http_component]`, `fn` or `async fn`. Its arguments are
//! extractors: any number that read the request's parts ([`FromRequestParts`]: [`Query`],
//! [`HeaderMap`], [`Method`], [`Uri`], ...), then at most one that reads the body
//! ([`FromRequest`]: [`Json`], [`Form`], `String`, `Bytes`, the whole [`Request`], ...). It
//! returns anything that implements [`IntoResponse`]. [`Router`] routes take the same shapes,
//! plus [`Path`] and [`Params`] for what the route captured.
//!
//! ```no_run
//! use rotor_sdk::http::{HeaderMap, IntoResponse, Json, Query, StatusCode};
//!
//! #[derive(serde::Deserialize)]
//! struct Options { notify: Option<bool> }
//!
//! #[derive(serde::Deserialize)]
//! struct NewUser { name: String }
//!
//! #[rotor_sdk::http_component]
//! fn create_user(Query(options): Query<Options>, headers: HeaderMap, Json(user): Json<NewUser>) -> impl IntoResponse {
//!     let agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("someone");
//!     let notify = options.notify.unwrap_or(false);
//!     (StatusCode::CREATED, format!("welcome, {} (added by {agent}, notify: {notify})", user.name))
//! }
//! ```

mod body;
mod extract;
pub mod layers;
pub mod outbound;
mod response;
mod router;
pub(crate) mod serve;

pub use body::{Body, BodyError, BodyWriter, IncomingBody};
pub use bytes::Bytes;
pub use extract::{
    set_rejection_format, BearerToken, ContentLength, ContentType, Form, FromRequest,
    FromRequestParts, Header, Host, Json, Params, Path, Query, Reads, Rejection, RejectionFormat,
    TypedHeader, UserAgent, ViaParts, ViaRequest,
};
pub use http::{
    header, request, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri,
};
pub use response::{IntoResponse, Response};
pub use router::{Handler, Middleware, Next, ReturnsFuture, ReturnsResponse, Router};
#[doc(hidden)]
pub use serve::serve;
