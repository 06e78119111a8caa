//! `Params` and `Path<T>`: what a route pattern captured from the request path.

use http::request::Parts;
use http::StatusCode;
use serde::de::DeserializeOwned;

use super::pairs::Pairs;
use super::{FromRequestParts, Reads, Rejection};

/// The values a route pattern captured from the request path, by name.
///
/// An extractor: a [`Router`](crate::http::Router) route may take it as an argument. Outside a
/// router it is empty. [`Path<T>`] gives the same values typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub(crate) named: Vec<(String, String)>,
    pub(crate) wildcard: Option<String>,
}

impl Params {
    /// The segment captured by `:name`, or by `*name` for the trailing wildcard.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.named
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The rest of the path captured by a trailing `*name`, without its leading `/`.
    pub fn wildcard(&self) -> Option<&str> {
        self.wildcard.as_deref()
    }

    /// Every named capture, in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.named.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl FromRequestParts for Params {
    type Rejection = std::convert::Infallible;
    const READS: Reads = Reads::PATH_AND_QUERY;

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Params>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The route's captures, typed: one value (`Path<u32>`), a tuple in pattern order
/// (`Path<(String, u32)>`), or a struct whose fields are named like the captures.
///
/// A capture that does not parse as its type is rejected with 400; a `Path` outside a
/// [`Router`](crate::http::Router) route (no captures at all) with 500, since that is a
/// mistake in the component, not in the request.
///
/// ```no_run
/// use rotor_sdk::http::{IntoResponse, Path, Request, Router};
///
/// #[derive(serde::Deserialize)]
/// struct PostId { user: String, post: u64 }
///
/// #[rotor_sdk::http_component]
/// async fn handle(request: Request<rotor_sdk::http::IncomingBody>) -> impl IntoResponse {
///     Router::new()
///         .get("/items/:id", |Path(id): Path<u32>| format!("item {id}"))
///         .get("/users/:user/posts/:post", |Path(p): Path<PostId>| format!("{}#{}", p.user, p.post))
///         .get("/pairs/:a/:b", |Path((a, b)): Path<(String, i64)>| format!("{a}={b}"))
///         .handle(request)
///         .await
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts for Path<T> {
    type Rejection = Rejection;
    const READS: Reads = Reads::PATH_AND_QUERY;

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Rejection> {
        let Some(params) = parts.extensions.get::<Params>() else {
            return Err(Rejection::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Path<T> is only for Router routes with captures such as /items/:id",
            ));
        };
        T::deserialize(Pairs::new(&params.named, "path parameter"))
            .map(Path)
            .map_err(|e| Rejection::new(StatusCode::BAD_REQUEST, format!("invalid path: {}", e.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::block_on;

    fn path<T: DeserializeOwned>(captures: &[(&str, &str)]) -> Result<T, Rejection> {
        let mut parts = http::Request::new(()).into_parts().0;
        parts.extensions.insert(Params {
            named: captures
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            wildcard: None,
        });
        block_on(Path::<T>::from_request_parts(&mut parts)).map(|Path(value)| value)
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Post {
        user: String,
        post: u64,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Shelf {
        Top,
        Bottom,
    }

    #[test]
    fn one_value_a_tuple_or_a_struct() {
        assert_eq!(path::<u32>(&[("id", "42")]).unwrap(), 42);
        assert_eq!(path::<String>(&[("id", "a b")]).unwrap(), "a b");
        assert_eq!(
            path::<(String, i64)>(&[("a", "x"), ("b", "-7")]).unwrap(),
            ("x".to_owned(), -7)
        );
        assert_eq!(
            path::<Post>(&[("user", "ada"), ("post", "7")]).unwrap(),
            Post {
                user: "ada".into(),
                post: 7
            }
        );
        assert_eq!(path::<Shelf>(&[("shelf", "top")]).unwrap(), Shelf::Top);
        assert_eq!(
            path::<std::collections::HashMap<String, String>>(&[("k", "v")]).unwrap()["k"],
            "v"
        );
    }

    #[test]
    fn a_capture_of_the_wrong_type_is_a_bad_request() {
        let rejection = path::<u32>(&[("id", "forty-two")]).unwrap_err();
        assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
        assert!(rejection.message().contains("`id`"), "{rejection}");
        assert!(rejection.message().contains("forty-two"), "{rejection}");
        let rejection = path::<Post>(&[("user", "ada"), ("post", "x")]).unwrap_err();
        assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
        assert!(path::<Shelf>(&[("shelf", "middle")]).is_err());
        assert!(path::<(u8, u8)>(&[("a", "1")]).is_err());
        assert!(path::<u8>(&[("a", "1"), ("b", "2")]).is_err());
    }

    #[test]
    fn outside_a_router_path_is_a_server_error() {
        let mut parts = http::Request::new(()).into_parts().0;
        let rejection = block_on(Path::<u32>::from_request_parts(&mut parts)).unwrap_err();
        assert_eq!(rejection.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
