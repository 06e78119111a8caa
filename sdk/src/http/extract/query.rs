//! `Query<T>` and `Form<T>`: URL-encoded data from the query string and from the body.

use http::request::Parts;
use http::{Method, Request, StatusCode};
use serde::de::DeserializeOwned;

use super::pairs::Pairs;
use super::{content_type_essence, read_body, FromRequest, FromRequestParts, Reads, Rejection};
use crate::http::body::IncomingBody;

/// `application/x-www-form-urlencoded` text (a query string, a form body) as name/value
/// pairs: `+` is a space, `%XX` a byte, and the bytes must make UTF-8.
fn decode_pairs(encoded: &[u8]) -> Result<Vec<(String, String)>, String> {
    encoded
        .split(|&byte| byte == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&byte| byte == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

fn decode(encoded: &[u8]) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded;
    while let [first, tail @ ..] = rest {
        rest = tail;
        match first {
            b'+' => bytes.push(b' '),
            b'%' => match tail {
                [high, low, after @ ..] if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                    bytes.push(hex(*high) << 4 | hex(*low));
                    rest = after;
                }
                // Not an escape: kept as written, as browsers and servers do.
                _ => bytes.push(b'%'),
            },
            other => bytes.push(*other),
        }
    }
    // The message does not quote the text: quoting invalid UTF-8 takes a `Debug` escaper that
    // would weigh more than the whole decoder.
    String::from_utf8(bytes).map_err(|_| "a name or value is not UTF-8 once decoded".to_owned())
}

fn hex(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

/// Decodes `encoded` and deserializes it as `T`; the error is a message for the client.
fn parse<T: DeserializeOwned>(encoded: &[u8], what: &'static str) -> Result<T, String> {
    let pairs = decode_pairs(encoded)?;
    T::deserialize(Pairs::new(&pairs, what)).map_err(|e| e.0)
}

/// The query string parsed as `T`; a query that does not fit `T` is rejected with 400.
///
/// A missing query string parses like an empty one, so fields of `T` that may be absent should
/// be `Option`s or have `#[serde(default)]`.
///
/// ```no_run
/// use rotor_sdk::http::Query;
///
/// #[derive(serde::Deserialize)]
/// struct Page { page: Option<u32>, per_page: Option<u32> }
///
/// #[rotor_sdk::http_component]
/// fn list(Query(page): Query<Page>) -> String {
///     format!("page {} of size {}", page.page.unwrap_or(1), page.per_page.unwrap_or(20))
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> Query<T> {
    /// Parses a query string (without its `?`).
    pub fn parse(query: &str) -> Result<Self, Rejection> {
        parse(query.as_bytes(), "query parameter")
            .map(Query)
            .map_err(|e| {
                Rejection::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid query string: {e}"),
                )
            })
    }
}

impl<T: DeserializeOwned> FromRequestParts for Query<T> {
    type Rejection = Rejection;
    const READS: Reads = Reads::PATH_AND_QUERY;

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Rejection> {
        Query::parse(parts.uri.query().unwrap_or(""))
    }
}

/// A URL-encoded form parsed as `T`: the body of a `POST` (or other) request with
/// `content-type: application/x-www-form-urlencoded`, or the query string of a `GET` or `HEAD`,
/// as browsers send forms.
///
/// Rejects another `content-type` with 415, and a form that does not fit `T` with 422.
///
/// ```no_run
/// use rotor_sdk::http::Form;
///
/// #[derive(serde::Deserialize)]
/// struct SignUp { email: String, newsletter: Option<bool> }
///
/// #[rotor_sdk::http_component]
/// fn sign_up(Form(form): Form<SignUp>) -> String {
///     format!("welcome, {} ({:?})", form.email, form.newsletter)
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

const FORM: &str = "application/x-www-form-urlencoded";

impl<T: DeserializeOwned> FromRequest for Form<T> {
    type Rejection = Rejection;
    const READS: Reads = Reads {
        method: true,
        headers: true,
        ..Reads::PATH_AND_QUERY
    };

    async fn from_request(request: Request<IncomingBody>) -> Result<Self, Rejection> {
        let unfit = |e: String| {
            Rejection::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("invalid form: {e}"),
            )
        };
        if request.method() == Method::GET || request.method() == Method::HEAD {
            let query = request.uri().query().unwrap_or("");
            return parse(query.as_bytes(), "form field")
                .map(Form)
                .map_err(unfit);
        }
        if content_type_essence(request.headers()) != FORM {
            return Err(Rejection::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("expected a request with content-type: {FORM}"),
            ));
        }
        let bytes = read_body(request.into_body()).await?;
        parse(&bytes, "form field").map(Form).map_err(unfit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::block_on;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Search {
        q: String,
        page: Option<u32>,
    }

    fn parts(uri: &str) -> Parts {
        Request::get(uri).body(()).unwrap().into_parts().0
    }

    #[test]
    fn url_encoding_is_decoded() {
        let pairs = decode_pairs(b"a=1&b=x+y%2Bz&&c&d=%E2%9C%93&e=100%&f=%zz").unwrap();
        let expected = [
            ("a", "1"),
            ("b", "x y+z"),
            ("c", ""),
            ("d", "\u{2713}"),
            ("e", "100%"),
            ("f", "%zz"),
        ];
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, expected);
        assert!(decode_pairs(b"a=%FF").unwrap_err().contains("not UTF-8"));
    }

    #[test]
    fn query_strings_parse_into_the_type() {
        let query = |uri| block_on(Query::<Search>::from_request_parts(&mut parts(uri)));
        assert_eq!(
            query("/s?q=rust%20wasm&page=2").unwrap().0,
            Search {
                q: "rust wasm".into(),
                page: Some(2)
            }
        );
        assert_eq!(query("/s?q=a+b").unwrap().0.q, "a b");
        assert_eq!(
            query("/s?q=x&page=").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
        let map = block_on(
            Query::<std::collections::BTreeMap<String, String>>::from_request_parts(&mut parts(
                "/s?b=2&a=1",
            )),
        )
        .unwrap()
        .0;
        assert_eq!(
            map.into_iter().collect::<Vec<_>>(),
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        let rejection = query("/s?page=2").unwrap_err();
        assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
        assert!(
            rejection.message().contains("missing field `q`"),
            "{rejection}"
        );
        assert_eq!(
            query("/s?q=x&page=two").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }

    fn form_request(
        method: Method,
        uri: &str,
        content_type: &str,
        body: &'static str,
    ) -> Request<IncomingBody> {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", content_type)
            .body(IncomingBody::from_bytes(body))
            .unwrap()
    }

    #[test]
    fn forms_come_from_the_body_or_a_get_query() {
        let form = |request| block_on(Form::<Search>::from_request(request));
        let posted = form(form_request(Method::POST, "/", FORM, "q=hello&page=3")).unwrap();
        assert_eq!(
            posted.0,
            Search {
                q: "hello".into(),
                page: Some(3)
            }
        );
        let got = form(form_request(Method::GET, "/?q=hi", "", "")).unwrap();
        assert_eq!(got.0.q, "hi");
        assert_eq!(
            form(form_request(Method::POST, "/", "text/plain", "q=x"))
                .unwrap_err()
                .status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert_eq!(
            form(form_request(Method::POST, "/", FORM, "page=x"))
                .unwrap_err()
                .status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
