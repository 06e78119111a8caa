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

    /// The response as `#[http_component]` sends it: the same status, headers and body as
    /// [`into_response`](IntoResponse::into_response).
    ///
    /// The SDK's own types override it to skip building a `HeaderMap` when all they set is a
    /// content type: inserting into one links its hashing into every component that does.
    #[doc(hidden)]
    fn into_reply(self) -> Reply
    where
        Self: Sized,
    {
        Reply::Full(self.into_response())
    }
}

/// A response on its way out of `#[http_component]`: see [`IntoResponse::into_reply`].
#[doc(hidden)]
pub enum Reply {
    /// A response with headers of its own.
    Full(Response),
    /// A status, a body and at most a content type.
    Plain {
        /// The status.
        status: StatusCode,
        /// The `content-type`, if any.
        content_type: Option<&'static str>,
        /// The body.
        body: Body,
    },
}

impl Reply {
    /// A `200 OK` with `body` and, when given, that `content-type`.
    pub(crate) fn ok(body: impl Into<Body>, content_type: Option<&'static str>) -> Reply {
        Reply::Plain {
            status: StatusCode::OK,
            content_type,
            body: body.into(),
        }
    }

    /// The same reply with its status replaced.
    pub(crate) fn with_status(self, new_status: StatusCode) -> Reply {
        match self {
            Reply::Full(mut response) => {
                *response.status_mut() = new_status;
                Reply::Full(response)
            }
            Reply::Plain {
                content_type, body, ..
            } => Reply::Plain {
                status: new_status,
                content_type,
                body,
            },
        }
    }

    /// The reply as a [`Response`].
    pub(crate) fn into_response(self) -> Response {
        match self {
            Reply::Full(response) => response,
            Reply::Plain {
                status,
                content_type,
                body,
            } => {
                let mut response = Response::new(body);
                *response.status_mut() = status;
                if let Some(content_type) = content_type {
                    response
                        .headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                }
                response
            }
        }
    }
}

impl<B: Into<Body>> IntoResponse for http::Response<B> {
    fn into_response(self) -> Response {
        self.map(Into::into)
    }
}

/// Implements [`IntoResponse`] for types whose response is a [`Reply::Plain`], from the
/// expression that makes their reply.
macro_rules! plain_responses {
    ($($type:ty => |$value:ident| $reply:expr;)*) => {$(
        impl IntoResponse for $type {
            fn into_response(self) -> Response {
                self.into_reply().into_response()
            }

            fn into_reply(self) -> Reply {
                let $value = self;
                $reply
            }
        }
    )*};
}

plain_responses! {
    Body => |body| Reply::ok(body, None);
    String => |text| Reply::ok(text, Some(TEXT));
    &str => |text| Reply::ok(Bytes::copy_from_slice(text.as_bytes()), Some(TEXT));
    Vec<u8> => |bytes| Reply::ok(bytes, Some(OCTETS));
    Bytes => |bytes| Reply::ok(bytes, Some(OCTETS));
    StatusCode => |status| Reply::ok(Body::empty(), None).with_status(status);
    () => |_unit| Reply::ok(Body::empty(), None);
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        self.into_reply().into_response()
    }

    fn into_reply(self) -> Reply {
        self.1.into_reply().with_status(self.0)
    }
}

impl<T: IntoResponse, E: Display> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        self.into_reply().into_response()
    }

    fn into_reply(self) -> Reply {
        match self {
            Ok(value) => value.into_reply(),
            Err(error) => internal_error_reply(&error),
        }
    }
}

impl IntoResponse for std::convert::Infallible {
    fn into_response(self) -> Response {
        match self {}
    }
}

/// Logs `error` to stderr and answers with a bare 500.
pub(crate) fn internal_error_reply(error: &dyn Display) -> Reply {
    crate::diagnostics::report!("handler error: {error:#}");
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_reply()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The status, `content-type` and header count of a reply, read the way `serve` sends it.
    fn sent(reply: Reply) -> (StatusCode, Option<String>, usize) {
        match reply {
            Reply::Full(response) => (
                response.status(),
                response
                    .headers()
                    .get(CONTENT_TYPE)
                    .map(|value| value.to_str().unwrap().to_owned()),
                response.headers().len(),
            ),
            Reply::Plain {
                status,
                content_type,
                ..
            } => (
                status,
                content_type.map(str::to_owned),
                usize::from(content_type.is_some()),
            ),
        }
    }

    #[test]
    fn plain_replies_carry_their_content_type_and_status() {
        let text = Some(TEXT.to_owned());
        assert_eq!(sent("hi".into_reply()), (StatusCode::OK, text.clone(), 1));
        assert_eq!(
            sent(String::from("hi").into_reply()),
            (StatusCode::OK, text.clone(), 1)
        );
        assert_eq!(
            sent(vec![1u8].into_reply()),
            (StatusCode::OK, Some(OCTETS.to_owned()), 1)
        );
        assert_eq!(
            sent(StatusCode::NO_CONTENT.into_reply()),
            (StatusCode::NO_CONTENT, None, 0)
        );
        assert_eq!(
            sent((StatusCode::CREATED, "made").into_reply()),
            (StatusCode::CREATED, text.clone(), 1)
        );
        let failed: Result<&str, &str> = Err("disk on fire");
        assert_eq!(
            sent(failed.into_reply()),
            (StatusCode::INTERNAL_SERVER_ERROR, text, 1)
        );
    }

    #[test]
    fn a_reply_becomes_the_response_into_response_gives() {
        let response = (StatusCode::ACCEPTED, "queued").into_response();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(response.headers()[CONTENT_TYPE], TEXT);
        assert_eq!(response.headers().len(), 1);
        assert!(Body::empty().into_response().headers().is_empty());
    }

    /// A type of an app's own, which implements only `into_response`.
    struct Teapot;

    impl IntoResponse for Teapot {
        fn into_response(self) -> Response {
            let mut response = "short and stout".into_response();
            *response.status_mut() = StatusCode::IM_A_TEAPOT;
            response
                .headers_mut()
                .insert("x-spout", HeaderValue::from_static("yes"));
            response
        }
    }

    #[test]
    fn an_apps_own_response_type_is_sent_as_it_builds_it() {
        assert_eq!(
            sent((StatusCode::CREATED, Teapot).into_reply()),
            (StatusCode::CREATED, Some(TEXT.to_owned()), 2)
        );
    }
}
