//! HTTP: incoming requests, responses, extractors, a router, and outbound requests
//! ([`outbound`]).
//!
//! A handler is a function marked `#[http_component]`. It takes zero or one argument that
//! implements [`FromRequest`] and returns anything that implements [`IntoResponse`]; it may be
//! an `async fn`.
//!
//! ```no_run
//! use rotor_sdk::http::{IntoResponse, Json, StatusCode};
//!
//! #[derive(serde::Deserialize)]
//! struct NewUser { name: String }
//!
//! #[rotor_sdk::http_component]
//! fn create_user(Json(user): Json<NewUser>) -> impl IntoResponse {
//!     (StatusCode::CREATED, format!("welcome, {}", user.name))
//! }
//! ```

mod body;
mod extract;
pub mod outbound;
mod response;
mod router;
mod serve;

pub use body::{Body, BodyError, BodyWriter, IncomingBody};
pub use bytes::Bytes;
pub use extract::{FromRequest, Json, Rejection};
pub use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
pub use response::{IntoResponse, Response};
pub use router::{Async, Handler, Params, Router, Sync};
#[doc(hidden)]
pub use serve::serve;
