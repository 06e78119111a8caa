//! `Header<T>`: one request header, parsed into a type of its own.

use http::header::{self, HeaderName, HeaderValue};
use http::request::Parts;
use http::StatusCode;

use super::{FromRequestParts, Reads, Rejection};

/// A header with a type: its name and how to read its value.
///
/// ```
/// use rotor_sdk::http::header::{HeaderName, HeaderValue};
/// use rotor_sdk::http::TypedHeader;
///
/// /// `x-request-id`, as the load balancer sets it.
/// struct RequestId(String);
///
/// impl TypedHeader for RequestId {
///     const NAME: HeaderName = HeaderName::from_static("x-request-id");
///
///     fn decode(value: &HeaderValue) -> Option<Self> {
///         value.to_str().ok().map(|id| RequestId(id.to_owned()))
///     }
/// }
/// ```
pub trait TypedHeader: Sized {
    /// The header's name.
    const NAME: HeaderName;

    /// The value read from the header, or `None` when it does not parse.
    fn decode(value: &HeaderValue) -> Option<Self>;
}

/// The typed value of the request header `T::NAME`; a request without it, or with a value
/// that does not parse, is rejected with 400. Take `Option<Header<T>>` for a header that may
/// be missing.
///
/// ```no_run
/// use rotor_sdk::http::{BearerToken, Header, StatusCode, UserAgent};
///
/// #[rotor_sdk::http_component]
/// fn whoami(Header(token): Header<BearerToken>, agent: Option<Header<UserAgent>>) -> String {
///     let agent = agent.map(|Header(UserAgent(agent))| agent).unwrap_or_default();
///     format!("token of {} characters, from {agent}", token.0.len())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<T>(pub T);

impl<T: TypedHeader> FromRequestParts for Header<T> {
    type Rejection = Rejection;
    const READS: Reads = Reads {
        headers: true,
        ..Reads::PATH_AND_QUERY
    };

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Rejection> {
        let Some(value) = parts.headers.get(T::NAME) else {
            return Err(Rejection::new(
                StatusCode::BAD_REQUEST,
                format!("missing header `{}`", T::NAME),
            ));
        };
        T::decode(value).map(Header).ok_or_else(|| {
            Rejection::new(
                StatusCode::BAD_REQUEST,
                format!("invalid value for header `{}`", T::NAME),
            )
        })
    }
}

fn text(value: &HeaderValue) -> Option<String> {
    value.to_str().ok().map(str::to_owned)
}

/// `content-type`, as written (`application/json; charset=utf-8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType(pub String);

impl ContentType {
    /// The media type without parameters, lowercase: `application/json`.
    pub fn essence(&self) -> String {
        let essence = self.0.split(';').next().unwrap_or("");
        essence.trim().to_ascii_lowercase()
    }
}

impl TypedHeader for ContentType {
    const NAME: HeaderName = header::CONTENT_TYPE;

    fn decode(value: &HeaderValue) -> Option<Self> {
        text(value).map(ContentType)
    }
}

/// `content-length`, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentLength(pub u64);

impl TypedHeader for ContentLength {
    const NAME: HeaderName = header::CONTENT_LENGTH;

    fn decode(value: &HeaderValue) -> Option<Self> {
        value.to_str().ok()?.trim().parse().ok().map(ContentLength)
    }
}

/// `user-agent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent(pub String);

impl TypedHeader for UserAgent {
    const NAME: HeaderName = header::USER_AGENT;

    fn decode(value: &HeaderValue) -> Option<Self> {
        text(value).map(UserAgent)
    }
}

/// `host`: the name (and port) the client addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host(pub String);

impl TypedHeader for Host {
    const NAME: HeaderName = header::HOST;

    fn decode(value: &HeaderValue) -> Option<Self> {
        text(value).map(Host)
    }
}

/// The token of `authorization: Bearer TOKEN`; another scheme does not parse.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(pub String);

impl std::fmt::Debug for BearerToken {
    // A token is a secret: it stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(..)")
    }
}

impl TypedHeader for BearerToken {
    const NAME: HeaderName = header::AUTHORIZATION;

    fn decode(value: &HeaderValue) -> Option<Self> {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
            .then(|| BearerToken(token.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::block_on;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder();
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn extract<T: TypedHeader>(headers: &[(&str, &str)]) -> Result<T, Rejection> {
        block_on(Header::<T>::from_request_parts(&mut parts(headers))).map(|Header(v)| v)
    }

    #[test]
    fn headers_parse_into_their_types() {
        assert_eq!(
            extract::<BearerToken>(&[("authorization", "Bearer abc.def")])
                .unwrap()
                .0,
            "abc.def"
        );
        assert_eq!(
            extract::<BearerToken>(&[("authorization", "bearer  xyz ")])
                .unwrap()
                .0,
            "xyz"
        );
        assert_eq!(
            extract::<ContentLength>(&[("content-length", "42")]).unwrap(),
            ContentLength(42)
        );
        let content_type = extract::<ContentType>(&[("content-type", "Text/HTML; charset=utf-8")]);
        assert_eq!(content_type.unwrap().essence(), "text/html");
        assert_eq!(
            format!("{:?}", BearerToken("secret".into())),
            "BearerToken(..)"
        );
    }

    #[test]
    fn missing_or_unparsable_headers_are_bad_requests() {
        let missing = extract::<UserAgent>(&[]).unwrap_err();
        assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
        assert_eq!(missing.message(), "missing header `user-agent`");
        let basic = extract::<BearerToken>(&[("authorization", "Basic dXNlcg==")]).unwrap_err();
        assert_eq!(basic.message(), "invalid value for header `authorization`");
        assert!(extract::<ContentLength>(&[("content-length", "many")]).is_err());
        let optional = block_on(Option::<Header<Host>>::from_request_parts(&mut parts(&[])));
        assert_eq!(optional.unwrap(), None);
    }
}
