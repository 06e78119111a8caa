//! Middleware that most services want, ready to put around a [`Router`](super::Router) with
//! [`Router::layer`](super::Router::layer): [`Cors`] and [`log_requests`].

use std::time::{Duration, Instant};

use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode};

use super::body::IncomingBody;
use super::response::{IntoResponse, Response};
use super::router::{Middleware, Next};

/// Logs each request to stderr, which the host prints prefixed with the component's name:
/// `GET /items?page=2 -> 200 OK in 1.3 ms`.
///
/// ```no_run
/// use rotor_sdk::http::{layers::log_requests, Router};
///
/// let router = Router::new().get("/", || "hello").layer(log_requests);
/// ```
pub async fn log_requests(request: Request<IncomingBody>, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), ToString::to_string);
    let response = next.run(request).await;
    crate::diagnostics::report!(
        "{method} {target} -> {} in {:.1} ms",
        response.status(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// Cross-origin resource sharing: lets pages from other origins call the service from a
/// browser.
///
/// Answers preflight requests (`OPTIONS` with `Access-Control-Request-Method`) itself, and
/// adds `Access-Control-Allow-Origin` to the responses of requests from an allowed origin.
/// Requests without an `Origin` header, and from origins not allowed, pass untouched (the
/// browser then refuses the response to the page).
///
/// ```no_run
/// use std::time::Duration;
/// use rotor_sdk::http::{layers::Cors, Method, Router};
///
/// let cors = Cors::new()
///     .allow_origin("https://shop.example")
///     .allow_methods([Method::GET, Method::POST])
///     .allow_headers(["content-type", "authorization"])
///     .max_age(Duration::from_secs(600));
/// let router = Router::new().get("/items", || "[]").layer(cors);
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    /// `None`: any origin.
    origins: Option<Vec<HeaderValue>>,
    methods: Vec<Method>,
    /// `None`: whatever headers the preflight asks for.
    headers: Option<Vec<HeaderName>>,
    exposed: Vec<HeaderName>,
    credentials: bool,
    max_age: Option<Duration>,
}

impl Default for Cors {
    fn default() -> Self {
        Cors::new()
    }
}

impl Cors {
    /// Allows no origin yet; add some with [`allow_origin`](Cors::allow_origin) or
    /// [`allow_any_origin`](Cors::allow_any_origin). Methods default to `GET`, `HEAD` and
    /// `POST`; request headers to none beyond the CORS-safelisted ones.
    pub fn new() -> Self {
        Cors {
            origins: Some(Vec::new()),
            methods: vec![Method::GET, Method::HEAD, Method::POST],
            headers: Some(Vec::new()),
            exposed: Vec::new(),
            credentials: false,
            max_age: None,
        }
    }

    /// Any origin, any method a route has, any request header: for public APIs and
    /// development. Without credentials, as browsers require for `*`.
    pub fn permissive() -> Self {
        Cors {
            origins: None,
            methods: vec![
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ],
            headers: None,
            ..Cors::new()
        }
    }

    /// Allows `origin` (`scheme://host[:port]`, exactly as browsers send it).
    ///
    /// # Panics
    ///
    /// Panics if `origin` is not a valid header value.
    pub fn allow_origin(mut self, origin: &str) -> Self {
        let value = HeaderValue::from_str(origin).expect("an origin is a valid header value");
        self.origins.get_or_insert_with(Vec::new).push(value);
        self
    }

    /// Allows every origin.
    pub fn allow_any_origin(mut self) -> Self {
        self.origins = None;
        self
    }

    /// The methods a preflight may ask for.
    pub fn allow_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.methods = methods.into_iter().collect();
        self
    }

    /// The request headers a preflight may ask for.
    ///
    /// # Panics
    ///
    /// Panics if a name is not a valid header name.
    pub fn allow_headers<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        let names = names
            .into_iter()
            .map(|name| HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"));
        self.headers = Some(names.collect());
        self
    }

    /// Allows whatever request headers a preflight asks for.
    pub fn allow_any_header(mut self) -> Self {
        self.headers = None;
        self
    }

    /// Response headers, beyond the safelisted ones, that the page may read.
    ///
    /// # Panics
    ///
    /// Panics if a name is not a valid header name.
    pub fn expose_headers<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.exposed = names
            .into_iter()
            .map(|name| HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"))
            .collect();
        self
    }

    /// Lets the browser send cookies and credentials; the allowed origin is then named
    /// rather than `*`, as browsers require.
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// How long browsers may cache a preflight's answer.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, when it is allowed.
    fn allowed_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        match &self.origins {
            None if !self.credentials => Some(HeaderValue::from_static("*")),
            None => Some(origin.clone()),
            Some(list) => list
                .iter()
                .any(|allowed| allowed == origin)
                .then(|| origin.clone()),
        }
    }

    fn add_origin_headers(&self, response: &mut Response, allowed: HeaderValue) {
        let headers = response.headers_mut();
        // The answer depends on the origin unless it is `*`: caches must keep them apart.
        if allowed != "*" {
            headers.append(header::VARY, HeaderValue::from_static("origin"));
        }
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        if self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }

    fn preflight(&self, request: &Request<IncomingBody>, allowed: HeaderValue) -> Response {
        let mut response = StatusCode::NO_CONTENT.into_response();
        self.add_origin_headers(&mut response, allowed);
        let headers = response.headers_mut();
        let methods = join(self.methods.iter().map(Method::as_str));
        if let Ok(value) = HeaderValue::from_str(&methods) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
        }
        let allowed_headers = match &self.headers {
            None => request
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .cloned(),
            Some(names) if names.is_empty() => None,
            Some(names) => HeaderValue::from_str(&join(names.iter().map(HeaderName::as_str))).ok(),
        };
        if let Some(value) = allowed_headers {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
        }
        if let Some(age) = self.max_age {
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, age.as_secs().into());
        }
        response
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

impl Middleware for Cors {
    fn call(
        &self,
        request: Request<IncomingBody>,
        next: Next,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + '_>> {
        Box::pin(async move {
            let allowed = request
                .headers()
                .get(header::ORIGIN)
                .and_then(|origin| self.allowed_origin(origin));
            let Some(allowed) = allowed else {
                return next.run(request).await;
            };
            let is_preflight = request.method() == Method::OPTIONS
                && request
                    .headers()
                    .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
            if is_preflight {
                return self.preflight(&request, allowed);
            }
            let mut response = next.run(request).await;
            self.add_origin_headers(&mut response, allowed);
            if !self.exposed.is_empty() {
                if let Ok(value) =
                    HeaderValue::from_str(&join(self.exposed.iter().map(HeaderName::as_str)))
                {
                    response
                        .headers_mut()
                        .insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, value);
                }
            }
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::block_on;
    use crate::http::{Bytes, Router};

    fn send(router: &Router, method: Method, headers: &[(&str, &str)]) -> Response {
        let mut builder = Request::builder().method(method).uri("/items");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        block_on(router.handle(builder.body(Bytes::new()).unwrap()))
    }

    fn routes(cors: Cors) -> Router {
        Router::new()
            .get("/items", || "[]")
            .delete("/items", || StatusCode::NO_CONTENT)
            .layer(cors)
    }

    #[test]
    fn a_listed_origin_gets_its_headers_and_others_nothing() {
        let router = routes(
            Cors::new()
                .allow_origin("https://shop.example")
                .expose_headers(["x-total"]),
        );
        let response = send(&router, Method::GET, &[("origin", "https://shop.example")]);
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(
            headers["access-control-allow-origin"],
            "https://shop.example"
        );
        assert_eq!(headers["vary"], "origin");
        assert_eq!(headers["access-control-expose-headers"], "x-total");

        let response = send(&router, Method::GET, &[("origin", "https://evil.example")]);
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!response
            .headers()
            .contains_key("access-control-allow-origin"));
        let response = send(&router, Method::GET, &[]);
        assert!(!response
            .headers()
            .contains_key("access-control-allow-origin"));
    }

    #[test]
    fn preflights_are_answered_without_reaching_the_routes() {
        let router = routes(
            Cors::new()
                .allow_origin("https://shop.example")
                .allow_methods([Method::GET, Method::DELETE])
                .allow_headers(["content-type", "authorization"])
                .max_age(Duration::from_secs(600)),
        );
        let response = send(
            &router,
            Method::OPTIONS,
            &[
                ("origin", "https://shop.example"),
                ("access-control-request-method", "DELETE"),
            ],
        );
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let headers = response.headers();
        assert_eq!(
            headers["access-control-allow-origin"],
            "https://shop.example"
        );
        assert_eq!(headers["access-control-allow-methods"], "GET, DELETE");
        assert_eq!(
            headers["access-control-allow-headers"],
            "content-type, authorization"
        );
        assert_eq!(headers["access-control-max-age"], "600");

        // From an origin not allowed, the router answers OPTIONS as it would without CORS.
        let response = send(
            &router,
            Method::OPTIONS,
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "DELETE"),
            ],
        );
        assert!(!response
            .headers()
            .contains_key("access-control-allow-origin"));
        assert_eq!(response.headers()["allow"], "DELETE, GET, HEAD, OPTIONS");
    }

    #[test]
    fn permissive_allows_everyone_and_mirrors_asked_headers() {
        let router = routes(Cors::permissive());
        let response = send(
            &router,
            Method::OPTIONS,
            &[
                ("origin", "http://localhost:5173"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "x-custom"),
            ],
        );
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert_eq!(
            response.headers()["access-control-allow-headers"],
            "x-custom"
        );
        assert!(!response.headers().contains_key("vary"));

        let with_credentials = routes(Cors::permissive().allow_credentials(true));
        let response = send(
            &with_credentials,
            Method::GET,
            &[("origin", "http://localhost:5173")],
        );
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "http://localhost:5173"
        );
        assert_eq!(
            response.headers()["access-control-allow-credentials"],
            "true"
        );
    }
}
