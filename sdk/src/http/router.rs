//! Routing requests to handlers by method and path.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW};
use http::{Method, StatusCode};

use http::Request;

use super::response::{IntoResponse, Response};

type BoxedHandler = Box<dyn Fn(Request<Bytes>, Params) -> Pin<Box<dyn Future<Output = Response>>>>;

/// Dispatches requests to handlers by method and path.
///
/// Patterns are matched segment by segment against the request path (without the query):
/// a literal segment matches itself, `:name` matches any one non-empty segment and captures
/// it, and a final `*name` captures the rest of the path, including none of it.
///
/// When several routes match, the most specific wins, by the rule Spin's host (and Rotor's)
/// uses for `spin.toml` routes: a route without `*` before one with it, then the one with
/// more literal segments, then the one with more segments; among equals, the one added
/// first. So `/items/new` beats `/items/:id`, which beats `/items/*rest`, whatever order they
/// were added in. A path no route matches gets `404 Not Found`; a path that matches only
/// under other methods gets `405 Method Not Allowed` with an `Allow` header.
///
/// Handlers take the buffered request and the captured [`Params`] and return anything that
/// implements [`IntoResponse`], directly or from an `async fn`.
///
/// ```no_run
/// use rotor_sdk::http::{Bytes, IntoResponse, Params, Request, Router, StatusCode};
///
/// fn get_item(_request: Request<Bytes>, params: Params) -> impl IntoResponse {
///     format!("item {}", params.get("id").unwrap_or_default())
/// }
///
/// async fn delete_item(_request: Request<Bytes>, _params: Params) -> StatusCode {
///     StatusCode::NO_CONTENT
/// }
///
/// #[rotor_sdk::http_component]
/// async fn handle(request: Request<Bytes>) -> impl IntoResponse {
///     let router = Router::new()
///         .get("/items/:id", get_item)
///         .delete("/items/:id", delete_item)
///         .get("/static/*path", |_req: Request<Bytes>, params: Params| {
///             format!("file {}", params.wildcard().unwrap_or_default())
///         });
///     router.handle(request).await
/// }
/// ```
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
}

struct Route {
    method: Option<Method>,
    pattern: Pattern,
    handler: BoxedHandler,
}

/// The values a route pattern captured from the request path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    named: Vec<(String, String)>,
    wildcard: Option<String>,
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

/// A function the router can call; implemented for sync and async functions and closures
/// taking `(Request<Bytes>, Params)`.
///
/// The type parameter only tells the two kinds apart; it never needs to be written.
pub trait Handler<Kind>: 'static {
    /// Calls the handler and turns its result into a response.
    fn call(
        &self,
        request: Request<Bytes>,
        params: Params,
    ) -> Pin<Box<dyn Future<Output = Response>>>;
}

/// Marks handlers that return their response directly.
pub struct Sync<R>(std::marker::PhantomData<R>);
/// Marks handlers that return a future of their response.
pub struct Async<Fut>(std::marker::PhantomData<Fut>);

impl<F, R> Handler<Sync<R>> for F
where
    F: Fn(Request<Bytes>, Params) -> R + 'static,
    R: IntoResponse,
{
    fn call(
        &self,
        request: Request<Bytes>,
        params: Params,
    ) -> Pin<Box<dyn Future<Output = Response>>> {
        let response = self(request, params).into_response();
        Box::pin(std::future::ready(response))
    }
}

impl<F, Fut> Handler<Async<Fut>> for F
where
    F: Fn(Request<Bytes>, Params) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: IntoResponse,
{
    fn call(
        &self,
        request: Request<Bytes>,
        params: Params,
    ) -> Pin<Box<dyn Future<Output = Response>>> {
        let future = self(request, params);
        Box::pin(async move { future.await.into_response() })
    }
}

macro_rules! method_routes {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name<K>(self, pattern: &str, handler: impl Handler<K>) -> Self {
                self.route(Method::$method, pattern, handler)
            }
        )*
    };
}

impl Router {
    /// A router with no routes: every request gets 404.
    pub fn new() -> Self {
        Router::default()
    }

    /// Adds a route for one method.
    ///
    /// # Panics
    ///
    /// Panics if `pattern` is malformed (see [`Router`]); routes are set up once, so a bad
    /// pattern is a programming error best found at the first request.
    pub fn route<K>(self, method: Method, pattern: &str, handler: impl Handler<K>) -> Self {
        self.add(Some(method), pattern, handler)
    }

    /// Adds a route that matches every method.
    pub fn any<K>(self, pattern: &str, handler: impl Handler<K>) -> Self {
        self.add(None, pattern, handler)
    }

    fn add<K>(mut self, method: Option<Method>, pattern: &str, handler: impl Handler<K>) -> Self {
        self.routes.push(Route {
            method,
            pattern: Pattern::parse(pattern),
            handler: Box::new(move |request, params| handler.call(request, params)),
        });
        // A stable sort keeps the order routes were added in among equally specific ones.
        self.routes
            .sort_by_key(|route| std::cmp::Reverse(route.pattern.specificity()));
        self
    }

    method_routes! {
        /// Adds a `GET` route.
        get => GET;
        /// Adds a `POST` route.
        post => POST;
        /// Adds a `PUT` route.
        put => PUT;
        /// Adds a `PATCH` route.
        patch => PATCH;
        /// Adds a `DELETE` route.
        delete => DELETE;
        /// Adds a `HEAD` route.
        head => HEAD;
        /// Adds an `OPTIONS` route.
        options => OPTIONS;
    }

    /// Dispatches `request` and returns the chosen handler's response.
    pub async fn handle(&self, request: Request<Bytes>) -> Response {
        let path = request.uri().path().to_owned();
        let mut allowed = BTreeSet::new();
        for route in &self.routes {
            let Some(params) = route.pattern.matches(&path) else {
                continue;
            };
            match &route.method {
                Some(method) if method != request.method() => {
                    allowed.insert(method.as_str().to_owned());
                }
                _ => return (route.handler)(request, params).await,
            }
        }
        if allowed.is_empty() {
            return (StatusCode::NOT_FOUND, "Not Found").into_response();
        }
        let mut response = (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").into_response();
        let allow = allowed.into_iter().collect::<Vec<_>>().join(", ");
        if let Ok(value) = HeaderValue::from_str(&allow) {
            response.headers_mut().insert(ALLOW, value);
        }
        response
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone)]
struct Pattern {
    segments: Vec<Segment>,
    wildcard: Option<String>,
}

impl Pattern {
    fn parse(pattern: &str) -> Self {
        assert!(
            pattern.starts_with('/'),
            "route pattern {pattern:?} must start with '/'"
        );
        let mut segments = Vec::new();
        let mut wildcard = None;
        let parts: Vec<&str> = split_path(pattern).collect();
        for (index, part) in parts.iter().enumerate() {
            if let Some(name) = part.strip_prefix('*') {
                assert!(
                    index == parts.len() - 1,
                    "in route pattern {pattern:?}, '*{name}' must be the last segment"
                );
                wildcard = Some(name.to_owned());
            } else if let Some(name) = part.strip_prefix(':') {
                assert!(
                    !name.is_empty(),
                    "route pattern {pattern:?} has a ':' without a name"
                );
                segments.push(Segment::Param(name.to_owned()));
            } else {
                segments.push(Segment::Literal((*part).to_owned()));
            }
        }
        Pattern { segments, wildcard }
    }

    /// How specific the pattern is; more specific patterns are tried first.
    fn specificity(&self) -> (bool, usize, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|segment| matches!(segment, Segment::Literal(_)))
            .count();
        (self.wildcard.is_none(), literals, self.segments.len())
    }

    fn matches(&self, path: &str) -> Option<Params> {
        let mut parts = split_path(path);
        let mut params = Params::default();
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(_) if part.is_empty() => return None,
                Segment::Param(name) => params.named.push((name.clone(), part.to_owned())),
            }
        }
        let rest: Vec<&str> = parts.collect();
        match &self.wildcard {
            None if rest.is_empty() => Some(params),
            None => None,
            Some(name) => {
                let rest = rest.join("/");
                params.named.push((name.clone(), rest.clone()));
                params.wildcard = Some(rest);
                Some(params)
            }
        }
    }
}

/// The segments of a path; `/` has none, and a trailing `/` is not a segment of its own.
fn split_path(path: &str) -> impl Iterator<Item = &str> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    trimmed.split('/').filter(move |_| !trimmed.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::block_on as run;

    fn request(method: Method, path: &str) -> Request<Bytes> {
        Request::builder()
            .method(method)
            .uri(path)
            .body(Bytes::new())
            .unwrap()
    }

    fn body_text(response: Response) -> String {
        let bytes = response.into_body().as_bytes().cloned().unwrap_or_default();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn router() -> Router {
        Router::new()
            .get("/", |_: Request<Bytes>, _: Params| "root")
            .get("/items", |_: Request<Bytes>, _: Params| "list")
            .post("/items", |r: Request<Bytes>, _: Params| {
                format!("created {}", String::from_utf8_lossy(r.body()))
            })
            .get("/items/:id", |_: Request<Bytes>, p: Params| {
                format!("item {}", p.get("id").unwrap())
            })
            .delete("/items/:id", |_: Request<Bytes>, _: Params| async {
                StatusCode::NO_CONTENT
            })
            .get(
                "/users/:user/posts/:post",
                |_: Request<Bytes>, p: Params| {
                    format!("{}/{}", p.get("user").unwrap(), p.get("post").unwrap())
                },
            )
            .get("/files/*path", |_: Request<Bytes>, p: Params| {
                format!(
                    "file [{}] [{}]",
                    p.wildcard().unwrap(),
                    p.get("path").unwrap()
                )
            })
            .any("/anything", |r: Request<Bytes>, _: Params| {
                r.method().to_string()
            })
    }

    #[test]
    fn literal_routes() {
        assert_eq!(
            body_text(run(router().handle(request(Method::GET, "/")))),
            "root"
        );
        assert_eq!(
            body_text(run(router().handle(request(Method::GET, "/items")))),
            "list"
        );
        assert_eq!(
            body_text(run(router().handle(request(Method::GET, "/items/")))),
            "list"
        );
        assert_eq!(
            body_text(run(router().handle(request(Method::GET, "/items?page=2")))),
            "list"
        );
    }

    #[test]
    fn params_are_captured() {
        assert_eq!(
            body_text(run(router().handle(request(Method::GET, "/items/42")))),
            "item 42"
        );
        assert_eq!(
            body_text(run(
                router().handle(request(Method::GET, "/users/ada/posts/7"))
            )),
            "ada/7"
        );
    }

    #[test]
    fn a_param_needs_a_segment() {
        let response = run(router().handle(request(Method::GET, "/users//posts/7")));
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn wildcard_takes_the_rest() {
        assert_eq!(
            body_text(run(
                router().handle(request(Method::GET, "/files/a/b/c.txt"))
            )),
            "file [a/b/c.txt] [a/b/c.txt]"
        );
        assert_eq!(
            body_text(run(router().handle(request(Method::GET, "/files")))),
            "file [] []"
        );
    }

    #[test]
    fn unknown_path_is_404() {
        let response = run(router().handle(request(Method::GET, "/nope")));
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = run(router().handle(request(Method::GET, "/items/1/extra")));
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn wrong_method_is_405_with_allow() {
        let response = run(router().handle(request(Method::PUT, "/items/1")));
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "DELETE, GET");
        let response = run(router().handle(request(Method::DELETE, "/items")));
        assert_eq!(response.headers()[ALLOW], "GET, POST");
    }

    #[test]
    fn async_handlers_and_bodies() {
        let response = run(router().handle(request(Method::DELETE, "/items/1")));
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let post = Request::builder()
            .method(Method::POST)
            .uri("/items")
            .body(Bytes::from_static(b"pen"))
            .unwrap();
        assert_eq!(body_text(run(router().handle(post))), "created pen");
    }

    #[test]
    fn any_matches_every_method() {
        assert_eq!(
            body_text(run(router().handle(request(Method::PATCH, "/anything")))),
            "PATCH"
        );
    }

    #[test]
    fn the_most_specific_route_wins_whatever_the_order() {
        let router = Router::new()
            .get("/a/*rest", |_: Request<Bytes>, _: Params| "wildcard")
            .get("/a/:x", |_: Request<Bytes>, _: Params| "param")
            .get("/a/b", |_: Request<Bytes>, _: Params| "literal")
            .get("/a/:x/c", |_: Request<Bytes>, _: Params| {
                "param then literal"
            })
            .get("/a/:x/:y", |_: Request<Bytes>, _: Params| "two params");
        let answer = |path: &str| body_text(run(router.handle(request(Method::GET, path))));
        assert_eq!(answer("/a/b"), "literal");
        assert_eq!(answer("/a/z"), "param");
        assert_eq!(answer("/a/z/c"), "param then literal");
        assert_eq!(answer("/a/z/d"), "two params");
        assert_eq!(answer("/a/z/d/e"), "wildcard");
        assert_eq!(answer("/a"), "wildcard");
    }

    #[test]
    fn equally_specific_routes_keep_the_order_they_were_added_in() {
        let router = Router::new()
            .get("/a/:x", |_: Request<Bytes>, _: Params| "first")
            .get("/a/:y", |_: Request<Bytes>, _: Params| "second");
        assert_eq!(
            body_text(run(router.handle(request(Method::GET, "/a/b")))),
            "first"
        );
    }

    #[test]
    #[should_panic(expected = "must be the last segment")]
    fn wildcard_must_be_last() {
        let _ = Router::new().get("/a/*rest/b", |_: Request<Bytes>, _: Params| "");
    }
}
