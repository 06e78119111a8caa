//! Routing requests to handlers by method and path, with middleware around them.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use http::header::{HeaderValue, ALLOW};
use http::{Method, Request, StatusCode, Uri};

use super::body::{Body, IncomingBody};
use super::extract::{FromRequest, FromRequestParts, Params};
use super::response::{IntoResponse, Response};

/// A response on its way.
type ResponseFuture<'a> = Pin<Box<dyn Future<Output = Response> + 'a>>;
/// A handler or a fallback, ready to be called with the whole request.
type Endpoint = Rc<dyn Fn(Request<IncomingBody>) -> ResponseFuture<'static>>;

/// Dispatches requests to handlers by method and path.
///
/// # Patterns
///
/// Patterns are matched segment by segment against the request path (without the query):
/// a literal segment matches itself, `:name` matches any one non-empty segment and captures
/// it, and a final `*name` captures the rest of the path, including none of it.
///
/// # Precedence
///
/// When several routes match, the most specific wins, by the rule Spin's host (and Rotor's)
/// uses for `spin.toml` routes: a route without `*` before one with it (exact beats
/// wildcard), then the one with more literal segments (longer beats shorter), then the one
/// with more segments; among equals, the one added first. So `/items/new` beats `/items/:id`,
/// which beats `/items/*rest`, whatever order they were added in.
///
/// # What the router answers itself
///
/// - `HEAD` where only `GET` is routed: the `GET` handler's response without its body.
/// - `OPTIONS` where no route takes it: `204 No Content` with an `Allow` header.
/// - A path that matches only under other methods: `405 Method Not Allowed` with `Allow`.
/// - A path no route matches: the [fallback](Router::fallback), else `404 Not Found`.
///
/// # Handlers
///
/// A handler is a function or closure, `async` or not, whose arguments are extractors (see
/// [`FromRequestParts`] and [`FromRequest`]: any number that read the request's parts, then
/// at most one that reads the body) and whose result implements [`IntoResponse`]. The body is
/// read only by the handler that asks for it, so a streaming handler gets it unbuffered.
///
/// ```no_run
/// use rotor_sdk::http::{IncomingBody, IntoResponse, Json, Path, Query, Request, Router, StatusCode};
/// use rotor_sdk::http::layers::{log_requests, Cors};
///
/// #[derive(serde::Deserialize)]
/// struct Page { page: Option<u32> }
///
/// fn list_items(Query(page): Query<Page>) -> String {
///     format!("page {}", page.page.unwrap_or(1))
/// }
///
/// async fn delete_item(Path(_id): Path<u32>) -> StatusCode {
///     StatusCode::NO_CONTENT
/// }
///
/// #[rotor_sdk::http_component]
/// async fn handle(request: Request<IncomingBody>) -> impl IntoResponse {
///     let items = Router::new()
///         .get("/", list_items)
///         .get("/:id", |Path(id): Path<u32>| format!("item {id}"))
///         .post("/", |Json(item): Json<serde_json::Value>| async move { (StatusCode::CREATED, Json(item)) })
///         .delete("/:id", delete_item);
///     Router::new()
///         .nest("/items", items)
///         .get("/static/*path", |params: rotor_sdk::http::Params| {
///             format!("file {}", params.wildcard().unwrap_or_default())
///         })
///         .layer(Cors::permissive())
///         .layer(log_requests)
///         .handle(request)
///         .await
/// }
/// ```
pub struct Router {
    table: Rc<Table>,
}

#[derive(Default)]
struct Table {
    routes: Vec<Route>,
    fallback: Option<Endpoint>,
    /// In the order they were added; the last added is the outermost.
    layers: Vec<Rc<dyn Middleware>>,
}

struct Route {
    method: Option<Method>,
    pattern: Pattern,
    endpoint: Endpoint,
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

/// A function the router can call: see [`Router`] for the shapes it takes.
///
/// Implemented for functions and closures, `async` or not, of up to eight extractor
/// arguments. The type parameter only tells the shapes apart; it never needs to be written.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a route handler",
    label = "not a handler",
    note = "a handler's arguments are extractors: any number of `FromRequestParts` types (`Path<T>`, `Query<T>`, `HeaderMap`, `Method`, `Params`, ...), then at most one `FromRequest` type that reads the body (`Json<T>`, `Form<T>`, `String`, `Bytes`, `Request<Bytes>`, ...), which must come last",
    note = "and it returns a type that implements `IntoResponse`, directly or from an `async fn`"
)]
pub trait Handler<Shape>: 'static {
    /// Extracts the arguments from `request`, calls the handler and turns its result into a
    /// response; a rejected extraction is the response.
    fn call(&self, request: Request<IncomingBody>) -> ResponseFuture<'_>;
}

/// Marks handlers that return their response directly.
#[derive(Debug)]
pub enum ReturnsResponse {}
/// Marks handlers that return a future of their response.
#[derive(Debug)]
pub enum ReturnsFuture {}

/// Answers with the rejection when an extractor fails.
macro_rules! extract_or_reject {
    ($extraction:expr) => {
        match $extraction.await {
            Ok(value) => value,
            Err(rejection) => return rejection.into_response(),
        }
    };
}

macro_rules! handler_shapes {
    ($( ($($Part:ident $part:ident),*) $Last:ident; )*) => {
        $(
            impl<F, R, Via, $($Part,)* $Last> Handler<(ReturnsResponse, Via, $($Part,)* $Last)> for F
            where
                F: Fn($($Part,)* $Last) -> R + 'static,
                R: IntoResponse,
                $($Part: FromRequestParts,)*
                $Last: FromRequest<Via>,
            {
                #[allow(unused_mut)]
                fn call(&self, request: Request<IncomingBody>) -> ResponseFuture<'_> {
                    Box::pin(async move {
                        let (mut parts, body) = request.into_parts();
                        $(let $part = extract_or_reject!($Part::from_request_parts(&mut parts));)*
                        let last = extract_or_reject!($Last::from_request(Request::from_parts(parts, body)));
                        self($($part,)* last).into_response()
                    })
                }
            }

            impl<F, Fut, Via, $($Part,)* $Last> Handler<(ReturnsFuture, Via, $($Part,)* $Last)> for F
            where
                F: Fn($($Part,)* $Last) -> Fut + 'static,
                Fut: Future,
                Fut::Output: IntoResponse,
                $($Part: FromRequestParts,)*
                $Last: FromRequest<Via>,
            {
                #[allow(unused_mut)]
                fn call(&self, request: Request<IncomingBody>) -> ResponseFuture<'_> {
                    Box::pin(async move {
                        let (mut parts, body) = request.into_parts();
                        $(let $part = extract_or_reject!($Part::from_request_parts(&mut parts));)*
                        let last = extract_or_reject!($Last::from_request(Request::from_parts(parts, body)));
                        self($($part,)* last).await.into_response()
                    })
                }
            }
        )*
    };
}

handler_shapes! {
    () T1;
    (T1 t1) T2;
    (T1 t1, T2 t2) T3;
    (T1 t1, T2 t2, T3 t3) T4;
    (T1 t1, T2 t2, T3 t3, T4 t4) T5;
    (T1 t1, T2 t2, T3 t3, T4 t4, T5 t5) T6;
    (T1 t1, T2 t2, T3 t3, T4 t4, T5 t5, T6 t6) T7;
    (T1 t1, T2 t2, T3 t3, T4 t4, T5 t5, T6 t6, T7 t7) T8;
}

impl<F, R> Handler<(ReturnsResponse,)> for F
where
    F: Fn() -> R + 'static,
    R: IntoResponse,
{
    fn call(&self, _request: Request<IncomingBody>) -> ResponseFuture<'_> {
        let response = self().into_response();
        Box::pin(std::future::ready(response))
    }
}

impl<F, Fut> Handler<(ReturnsFuture,)> for F
where
    F: Fn() -> Fut + 'static,
    Fut: Future,
    Fut::Output: IntoResponse,
{
    fn call(&self, _request: Request<IncomingBody>) -> ResponseFuture<'_> {
        Box::pin(async move { self().await.into_response() })
    }
}

fn endpoint<Shape>(handler: impl Handler<Shape>) -> Endpoint {
    let handler = Rc::new(handler);
    Rc::new(move |request| {
        let handler = handler.clone();
        Box::pin(async move { handler.call(request).await })
    })
}

/// Code that runs around the router's handlers: a plain `async fn(Request<IncomingBody>,
/// Next) -> impl IntoResponse` (or a closure of that shape), or a type such as
/// [`Cors`](super::layers::Cors).
///
/// It may answer by itself, change the request before calling [`Next::run`], or change the
/// response after.
///
/// ```no_run
/// use rotor_sdk::http::{IncomingBody, IntoResponse, Next, Request, Response, Router, StatusCode};
///
/// async fn require_token(request: Request<IncomingBody>, next: Next) -> Response {
///     match request.headers().get("authorization") {
///         Some(value) if value == "Bearer let-me-in" => next.run(request).await,
///         _ => StatusCode::UNAUTHORIZED.into_response(),
///     }
/// }
///
/// let router = Router::new().get("/secret", || "42").layer(require_token);
/// ```
pub trait Middleware: 'static {
    /// Handles `request`, calling `next` for what the router would do without this layer.
    fn call(&self, request: Request<IncomingBody>, next: Next) -> ResponseFuture<'_>;
}

impl<F, Fut> Middleware for F
where
    F: Fn(Request<IncomingBody>, Next) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: IntoResponse,
{
    fn call(&self, request: Request<IncomingBody>, next: Next) -> ResponseFuture<'_> {
        let future = self(request, next);
        Box::pin(async move { future.await.into_response() })
    }
}

/// The rest of the router, as seen from a [`Middleware`]: the layers inside it, then the
/// routes.
pub struct Next {
    table: Rc<Table>,
    /// How many layers are still to run, outermost last in `table.layers`.
    layers_left: usize,
}

impl Next {
    /// Passes `request` on and returns the response that comes back.
    pub async fn run(self, request: Request<IncomingBody>) -> Response {
        match self.layers_left.checked_sub(1) {
            Some(index) => {
                let layer = self.table.layers[index].clone();
                let next = Next {
                    table: self.table,
                    layers_left: index,
                };
                layer.call(request, next).await
            }
            None => dispatch(&self.table, request).await,
        }
    }
}

macro_rules! method_routes {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name<Shape>(self, pattern: &str, handler: impl Handler<Shape>) -> Self {
                self.route(Method::$method, pattern, handler)
            }
        )*
    };
}

impl Router {
    /// A router with no routes: every request gets 404.
    pub fn new() -> Self {
        Router {
            table: Rc::new(Table::default()),
        }
    }

    fn table(&mut self) -> &mut Table {
        Rc::get_mut(&mut self.table)
            .expect("a router is not changed while one of its requests is still running")
    }

    /// Adds a route for one method.
    ///
    /// # Panics
    ///
    /// Panics if `pattern` is malformed (see [`Router`]); routes are set up once, so a bad
    /// pattern is a programming error best found at the first request.
    pub fn route<Shape>(self, method: Method, pattern: &str, handler: impl Handler<Shape>) -> Self {
        self.add(Some(method), pattern, endpoint(handler))
    }

    /// Adds a route that matches every method.
    pub fn any<Shape>(self, pattern: &str, handler: impl Handler<Shape>) -> Self {
        self.add(None, pattern, endpoint(handler))
    }

    fn add(mut self, method: Option<Method>, pattern: &str, endpoint: Endpoint) -> Self {
        let routes = &mut self.table().routes;
        routes.push(Route {
            method,
            pattern: Pattern::parse(pattern),
            endpoint,
        });
        // A stable sort keeps the order routes were added in among equally specific ones.
        routes.sort_by_key(|route| std::cmp::Reverse(route.pattern.specificity()));
        self
    }

    method_routes! {
        /// Adds a `GET` route (which answers `HEAD` too, unless a `HEAD` route does).
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

    /// Hands every request under `prefix` (a literal path such as `/api/v1`) to `router`,
    /// which sees the path without the prefix and answers it whole: its routes, its layers,
    /// its fallback, its 404 and 405. A route of this router that is more specific than
    /// `prefix/*` still wins.
    ///
    /// # Panics
    ///
    /// Panics if `prefix` does not start with `/` or has a `:` or `*` segment.
    pub fn nest(self, prefix: &str, router: Router) -> Self {
        let prefix = prefix.trim_end_matches('/').to_owned();
        assert!(
            prefix.starts_with('/'),
            "nest prefix {prefix:?} must start with '/' and not be '/' alone"
        );
        assert!(
            split_path(&prefix).all(|segment| !segment.starts_with([':', '*'])),
            "nest prefix {prefix:?} must be literal"
        );
        let nested = Rc::new(router);
        let strip = prefix.clone();
        let inner: Endpoint = Rc::new(move |mut request: Request<IncomingBody>| {
            let nested = nested.clone();
            *request.uri_mut() = without_prefix(request.uri(), &strip);
            Box::pin(async move { nested.handle(request).await })
        });
        self.add(None, &prefix, inner.clone())
            .add(None, &format!("{prefix}/*nested_rest"), inner)
    }

    /// Answers the requests no route matches (instead of `404 Not Found`).
    pub fn fallback<Shape>(mut self, handler: impl Handler<Shape>) -> Self {
        self.table().fallback = Some(endpoint(handler));
        self
    }

    /// Runs `middleware` around everything this router does: its routes, its fallback, and
    /// the answers it gives itself (404, 405, `OPTIONS`). The layer added last runs first.
    pub fn layer(mut self, middleware: impl Middleware) -> Self {
        self.table().layers.push(Rc::new(middleware));
        self
    }

    /// Dispatches `request` through the layers to the chosen handler and returns its
    /// response. The body may be streaming (`Request<IncomingBody>`) or already read
    /// (`Request<Bytes>`); the router itself never reads it.
    pub async fn handle<B: Into<IncomingBody>>(&self, request: Request<B>) -> Response {
        let next = Next {
            table: self.table.clone(),
            layers_left: self.table.layers.len(),
        };
        next.run(request.map(Into::into)).await
    }
}

/// The routes' own work, inside the layers.
async fn dispatch(table: &Table, mut request: Request<IncomingBody>) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let mut allowed = BTreeSet::new();
    let mut get_route = None;
    for route in &table.routes {
        let Some(params) = route.pattern.matches(&path) else {
            continue;
        };
        match &route.method {
            Some(route_method) if *route_method != method => {
                if *route_method == Method::GET && method == Method::HEAD && get_route.is_none() {
                    get_route = Some((route.endpoint.clone(), params));
                }
                allowed.insert(route_method.as_str().to_owned());
            }
            _ => {
                request.extensions_mut().insert(params);
                return (route.endpoint)(request).await;
            }
        }
    }
    if let Some((get, params)) = get_route {
        request.extensions_mut().insert(params);
        let (parts, _body) = get(request).await.into_parts();
        return Response::from_parts(parts, Body::empty());
    }
    if allowed.is_empty() {
        return match &table.fallback {
            Some(fallback) => fallback(request).await,
            None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        };
    }
    if allowed.contains("GET") {
        allowed.insert("HEAD".to_owned());
    }
    allowed.insert("OPTIONS".to_owned());
    let allow = allowed.into_iter().collect::<Vec<_>>().join(", ");
    let mut response = if method == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

/// `uri` without the literal path `prefix`, which it starts with; the query stays.
fn without_prefix(uri: &Uri, prefix: &str) -> Uri {
    let path = uri.path().strip_prefix(prefix).unwrap_or(uri.path());
    let path = if path.is_empty() { "/" } else { path };
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
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
    use crate::http::{Bytes, Json, Path, Query};

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
            .get("/", || "root")
            .get("/items", || "list")
            .post("/items", |body: String| format!("created {body}"))
            .get("/items/:id", |params: Params| {
                format!("item {}", params.get("id").unwrap())
            })
            .delete("/items/:id", || async { StatusCode::NO_CONTENT })
            .get(
                "/users/:user/posts/:post",
                |Path((user, post)): Path<(String, u32)>| format!("{user}/{post}"),
            )
            .get("/files/*path", |p: Params| {
                format!(
                    "file [{}] [{}]",
                    p.wildcard().unwrap(),
                    p.get("path").unwrap()
                )
            })
            .any("/anything", |method: Method| method.to_string())
    }

    fn answer(router: &Router, method: Method, path: &str) -> Response {
        run(router.handle(request(method, path)))
    }

    #[test]
    fn literal_routes() {
        let router = router();
        assert_eq!(body_text(answer(&router, Method::GET, "/")), "root");
        assert_eq!(body_text(answer(&router, Method::GET, "/items")), "list");
        assert_eq!(body_text(answer(&router, Method::GET, "/items/")), "list");
        assert_eq!(
            body_text(answer(&router, Method::GET, "/items?page=2")),
            "list"
        );
    }

    #[test]
    fn params_are_captured_untyped_and_typed() {
        let router = router();
        assert_eq!(
            body_text(answer(&router, Method::GET, "/items/42")),
            "item 42"
        );
        assert_eq!(
            body_text(answer(&router, Method::GET, "/users/ada/posts/7")),
            "ada/7"
        );
        let response = answer(&router, Method::GET, "/users/ada/posts/seven");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(body_text(response).contains("seven"));
    }

    #[test]
    fn a_param_needs_a_segment() {
        let response = answer(&router(), Method::GET, "/users//posts/7");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn wildcard_takes_the_rest() {
        let router = router();
        assert_eq!(
            body_text(answer(&router, Method::GET, "/files/a/b/c.txt")),
            "file [a/b/c.txt] [a/b/c.txt]"
        );
        assert_eq!(
            body_text(answer(&router, Method::GET, "/files")),
            "file [] []"
        );
    }

    #[test]
    fn unknown_path_is_404_or_the_fallback() {
        let response = answer(&router(), Method::GET, "/nope");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = answer(&router(), Method::GET, "/items/1/extra");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let with_fallback =
            router().fallback(|uri: Uri| (StatusCode::IM_A_TEAPOT, uri.to_string()));
        let response = answer(&with_fallback, Method::GET, "/nope?x=1");
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(body_text(response), "/nope?x=1");
    }

    #[test]
    fn wrong_method_is_405_with_allow() {
        let router = router();
        let response = answer(&router, Method::PUT, "/items/1");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "DELETE, GET, HEAD, OPTIONS");
        let response = answer(&router, Method::DELETE, "/items");
        assert_eq!(response.headers()[ALLOW], "GET, HEAD, OPTIONS, POST");
    }

    #[test]
    fn head_is_get_without_the_body_and_options_lists_the_methods() {
        let router = router().get("/sized", || {
            http::Response::builder()
                .header("x-kind", "sized")
                .body("twelve bytes")
                .unwrap()
        });
        let response = answer(&router, Method::HEAD, "/sized");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-kind"], "sized");
        assert_eq!(body_text(response), "");

        let response = answer(&router, Method::OPTIONS, "/items");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(response.headers()[ALLOW], "GET, HEAD, OPTIONS, POST");

        let explicit = Router::new()
            .get("/x", || "get")
            .head("/x", || (StatusCode::ACCEPTED, ""));
        assert_eq!(
            answer(&explicit, Method::HEAD, "/x").status(),
            StatusCode::ACCEPTED
        );
    }

    #[test]
    fn handlers_take_several_extractors_and_the_body_last() {
        #[derive(serde::Deserialize)]
        struct Search {
            q: String,
        }
        let router = Router::new().post(
            "/orders/:id",
            |Path(id): Path<u32>,
             Query(search): Query<Search>,
             method: Method,
             Json(body): Json<serde_json::Value>| async move {
                format!("{method} {id} {} {}", search.q, body["n"])
            },
        );
        let post = Request::builder()
            .method(Method::POST)
            .uri("/orders/5?q=pens")
            .header("content-type", "application/json")
            .body(Bytes::from_static(br#"{"n": 3}"#))
            .unwrap();
        assert_eq!(body_text(run(router.handle(post))), "POST 5 pens 3");

        let not_json = Request::builder()
            .method(Method::POST)
            .uri("/orders/5?q=pens")
            .body(Bytes::from_static(b"n=3"))
            .unwrap();
        let response = run(router.handle(not_json));
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

        let no_query = Request::builder()
            .method(Method::POST)
            .uri("/orders/5")
            .header("content-type", "application/json")
            .body(Bytes::from_static(b"{}"))
            .unwrap();
        assert_eq!(
            run(router.handle(no_query)).status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn the_body_reaches_the_handler_as_a_stream() {
        let router = Router::new().post("/count", |mut body: IncomingBody| async move {
            let mut total = 0;
            while let Ok(Some(chunk)) = body.chunk().await {
                total += chunk.len();
            }
            total.to_string()
        });
        let post = Request::builder()
            .method(Method::POST)
            .uri("/count")
            .body(IncomingBody::from_bytes("12345"))
            .unwrap();
        assert_eq!(body_text(run(router.handle(post))), "5");
    }

    #[test]
    fn any_matches_every_method() {
        assert_eq!(
            body_text(answer(&router(), Method::PATCH, "/anything")),
            "PATCH"
        );
    }

    #[test]
    fn the_most_specific_route_wins_whatever_the_order() {
        let router = Router::new()
            .get("/a/*rest", || "wildcard")
            .get("/a/:x", || "param")
            .get("/a/b", || "literal")
            .get("/a/:x/c", || "param then literal")
            .get("/a/:x/:y", || "two params");
        let text = |path: &str| body_text(answer(&router, Method::GET, path));
        assert_eq!(text("/a/b"), "literal");
        assert_eq!(text("/a/z"), "param");
        assert_eq!(text("/a/z/c"), "param then literal");
        assert_eq!(text("/a/z/d"), "two params");
        assert_eq!(text("/a/z/d/e"), "wildcard");
        assert_eq!(text("/a"), "wildcard");
    }

    #[test]
    fn equally_specific_routes_keep_the_order_they_were_added_in() {
        let router = Router::new()
            .get("/a/:x", || "first")
            .get("/a/:y", || "second");
        assert_eq!(body_text(answer(&router, Method::GET, "/a/b")), "first");
    }

    #[test]
    fn nested_routers_see_the_path_without_the_prefix() {
        let api = Router::new()
            .get("/", |uri: Uri| format!("api root {uri}"))
            .get("/items/:id", |Path(id): Path<u32>, uri: Uri| {
                format!("item {id} at {uri}")
            })
            .fallback(|| (StatusCode::NOT_FOUND, "no such API route"));
        let router = Router::new()
            .get("/", || "site")
            .get("/api/health", || "healthy")
            .nest("/api/v1", api);
        let text = |method, path: &str| body_text(answer(&router, method, path));
        assert_eq!(
            text(Method::GET, "/api/v1/items/3?full=1"),
            "item 3 at /items/3?full=1"
        );
        assert_eq!(text(Method::GET, "/api/v1"), "api root /");
        assert_eq!(text(Method::GET, "/api/v1/"), "api root /");
        assert_eq!(text(Method::GET, "/api/v1/nope"), "no such API route");
        assert_eq!(text(Method::GET, "/api/health"), "healthy");
        let response = answer(&router, Method::POST, "/api/v1/items/3");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            answer(&router, Method::GET, "/api/v2").status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn layers_wrap_everything_the_last_added_outermost() {
        fn tag(
            name: &'static str,
        ) -> impl Fn(Request<IncomingBody>, Next) -> ResponseFuture<'static> {
            move |request, next| {
                Box::pin(async move {
                    let mut response = next.run(request).await;
                    let seen = response
                        .headers()
                        .get("x-layers")
                        .map(|v| format!("{},{name}", v.to_str().unwrap()))
                        .unwrap_or_else(|| name.to_owned());
                    response
                        .headers_mut()
                        .insert("x-layers", seen.parse().unwrap());
                    response
                })
            }
        }
        let tagged = router().layer(tag("inner")).layer(tag("outer"));
        for path in ["/items", "/nope"] {
            let response = answer(&tagged, Method::GET, path);
            assert_eq!(response.headers()["x-layers"], "inner,outer", "{path}");
        }

        async fn deny_deletes(request: Request<IncomingBody>, next: Next) -> Response {
            if request.method() == Method::DELETE {
                return (StatusCode::FORBIDDEN, "no deleting").into_response();
            }
            next.run(request).await
        }
        let router = router().layer(deny_deletes);
        assert_eq!(
            answer(&router, Method::DELETE, "/items/1").status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            body_text(answer(&router, Method::GET, "/items/1")),
            "item 1"
        );
    }

    #[test]
    #[should_panic(expected = "must be the last segment")]
    fn wildcard_must_be_last() {
        let _ = Router::new().get("/a/*rest/b", || "");
    }
}
