//! The HTTP trigger: a hyper server that hands each request to a fresh instance of the
//! component its route names, through `wasi:http/incoming-handler`.

pub mod body_limit;
pub mod routes;
mod server_threads;
pub mod tls;
pub mod wagi;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use anyhow::Context as _;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

use crate::capabilities::instance::{HostLinker, InstanceState};
use crate::capabilities::outbound_http::{HostBody, SelfDepth, SelfRequests};
use crate::capabilities::{AppCapabilities, ComponentCapabilities};
use crate::manifest::{Executor, HttpHandler, HttpTrigger as HttpRoute, Manifest, StaticResponse};
use body_limit::LimitedBody;
use routes::{RouteMatch, RouteTable};
use server_threads::ServerThreads;
use wagi::{RequestInfo, WagiModule};

/// How long a client may take to send a request's headers before its connection is closed.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long after a guest's deadline the host gives up waiting for its response.
const DEADLINE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

struct HttpComponent {
    pre: ProxyPre<InstanceState>,
    capabilities: Arc<ComponentCapabilities>,
}

/// An app's HTTP side: its routes and their prepared components.
pub struct HttpTrigger {
    /// The trigger itself, for requests its components make to `self` and to each other.
    me: Weak<HttpTrigger>,
    linker: Arc<HostLinker>,
    routes: RouteTable<String>,
    handlers: HashMap<String, Handler>,
    /// The handler of each component other components reach at
    /// `http://COMPONENT.spin.internal`, private routes' included.
    chained: HashMap<String, String>,
    /// One permit per request in the guest (the engine's `max_in_flight`).
    in_flight: Arc<tokio::sync::Semaphore>,
    /// One permit per WAGI request, which the host buffers whole ([`wagi::MAX_IN_FLIGHT`]).
    wagi_in_flight: Arc<tokio::sync::Semaphore>,
}

/// What answers a route: a component, a WAGI module, or a static response.
enum Handler {
    Component(Arc<HttpComponent>),
    Wagi(Arc<WagiModule>),
    Static(StaticResponse),
}

/// The key a trigger's handler is kept under: one per component and executor, one per
/// static response.
fn handler_key(trigger: &HttpRoute, index: usize) -> String {
    match &trigger.handler {
        HttpHandler::Component {
            name,
            executor: Executor::Component,
        } => name.clone(),
        HttpHandler::Component {
            name,
            executor: Executor::Wagi(_),
        } => format!("wagi:{name}"),
        HttpHandler::Static(_) => format!("static:{index}"),
    }
}

impl HttpTrigger {
    /// Compiles and links every component an HTTP trigger names, each with what
    /// `capabilities` grants it.
    pub fn load(
        manifest: &Manifest,
        linker: Arc<HostLinker>,
        capabilities: &AppCapabilities,
    ) -> anyhow::Result<Arc<HttpTrigger>> {
        let file = manifest.path.display();
        let routes = RouteTable::new(manifest.http_triggers.iter().enumerate().filter_map(
            |(index, trigger)| Some((trigger.path()?.to_owned(), handler_key(trigger, index))),
        ))
        .map_err(|conflict| {
            let line = manifest
                .http_triggers
                .iter()
                .filter(|t| t.path() == Some(conflict.second.as_str()))
                .map(|t| t.line)
                .next_back()
                .unwrap_or(0);
            anyhow::anyhow!("{file}:{line}: at `trigger.http.route`: {conflict}")
        })?;

        let mut handlers = HashMap::new();
        let mut chained = HashMap::new();
        for (index, trigger) in manifest.http_triggers.iter().enumerate() {
            let key = handler_key(trigger, index);
            if handlers.contains_key(&key) {
                continue;
            }
            let handler = match &trigger.handler {
                HttpHandler::Static(response) => Handler::Static(response.clone()),
                HttpHandler::Component {
                    name,
                    executor: Executor::Wagi(settings),
                } => Handler::Wagi(Arc::new(WagiModule::load(
                    linker.engine(),
                    manifest,
                    name,
                    settings,
                    super::granted(capabilities, manifest, name)?,
                )?)),
                HttpHandler::Component {
                    name,
                    executor: Executor::Component,
                } => {
                    let pre = ProxyPre::new(linker.link(manifest, name)?)
                        .map_err(anyhow::Error::from)
                        .with_context(|| {
                            format!(
                                "{file}: component `{name}` does not export wasi:http/incoming-handler@0.2.x"
                            )
                        })?;
                    chained.insert(name.clone(), key.clone());
                    Handler::Component(Arc::new(HttpComponent {
                        pre,
                        capabilities: super::granted(capabilities, manifest, name)?,
                    }))
                }
            };
            handlers.insert(key, handler);
        }
        let in_flight = Arc::new(tokio::sync::Semaphore::new(
            linker.engine().config().max_in_flight,
        ));
        Ok(Arc::new_cyclic(|me| HttpTrigger {
            me: me.clone(),
            in_flight,
            wagi_in_flight: Arc::new(tokio::sync::Semaphore::new(wagi::MAX_IN_FLIGHT)),
            linker,
            routes,
            handlers,
            chained,
        }))
    }

    /// Answers one request, from a client or from one of the app's own components (a
    /// request to `self`); never fails: any guest failure becomes a 500.
    pub async fn handle<B>(&self, request: Request<B>, client: SocketAddr) -> Response<HostBody>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let path = request.uri().path().to_owned();
        match self.routes.find(&path) {
            Some(matched) => self.dispatch(matched, request, client).await,
            None => plain(StatusCode::NOT_FOUND, "Not Found"),
        }
    }

    /// Answers a request one component sent to `http://COMPONENT.spin.internal`, whatever
    /// the path, as Spin does; `None` when the app has no such HTTP component.
    pub async fn handle_chained<B>(
        &self,
        component: &str,
        request: Request<B>,
    ) -> Option<Response<HostBody>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let key = self.chained.get(component)?;
        let matched = RouteMatch {
            target: key,
            route: "/...",
            component_route: String::new(),
            path_info: request.uri().path().to_owned(),
            params: Vec::new(),
        };
        Some(
            self.dispatch(matched, request, ([127, 0, 0, 1], 0).into())
                .await,
        )
    }

    async fn dispatch<B>(
        &self,
        matched: RouteMatch<'_, String>,
        request: Request<B>,
        client: SocketAddr,
    ) -> Response<HostBody>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let path = request.uri().path().to_owned();
        if let Handler::Static(response) = &self.handlers[matched.target] {
            return static_response(response);
        }
        // Beyond the cap a client is told to come back, at once, instead of queueing for an
        // instance the pool may not have.
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            tracing::warn!(
                "request to {path} refused: {} requests in flight",
                self.linker.engine().config().max_in_flight
            );
            return busy();
        };
        let body_limit = self.linker.engine().config().max_request_body;
        if body_limit.is_some_and(|limit| body_limit::declared_over(&request, limit)) {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large");
        }
        let (name, result) = match &self.handlers[matched.target] {
            Handler::Component(component) => {
                let request = with_spin_headers(request, &matched, client);
                let exceeded = Arc::new(AtomicBool::new(false));
                let request = request.map(|body| {
                    LimitedBody::new(body, body_limit.unwrap_or(u64::MAX), exceeded.clone())
                });
                let result = self.run_guest(component, request).await;
                // The guest answered without the whole body, or failed for want of it.
                if exceeded.load(Ordering::SeqCst) {
                    tracing::warn!(
                        "request to {path} refused: its body is over the {}-byte limit",
                        body_limit.unwrap_or(u64::MAX)
                    );
                    return plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large");
                }
                (component.capabilities.name.clone(), result)
            }
            Handler::Wagi(module) => {
                let Ok(_wagi_permit) = self.wagi_in_flight.clone().try_acquire_owned() else {
                    tracing::warn!(
                        "request to {path} refused: {} WAGI requests in flight",
                        wagi::MAX_IN_FLIGHT
                    );
                    return busy();
                };
                let info = RequestInfo {
                    matched: &matched,
                    client,
                };
                (
                    module.name.clone(),
                    module.handle(self.linker.engine(), request, info).await,
                )
            }
            Handler::Static(response) => return static_response(response),
        };
        match result {
            // The permit lasts as long as the body: a guest may stream it after the head.
            Ok(response) => response.map(|body| {
                body.map_frame(move |frame| {
                    let _held = &permit;
                    frame
                })
                .boxed_unsync()
            }),
            Err(error) => {
                tracing::error!(component = %name, "request to {path} failed: {error:?}");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        }
    }

    async fn run_guest<B>(
        &self,
        component: &HttpComponent,
        request: Request<B>,
    ) -> anyhow::Result<Response<HostBody>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let me: Weak<dyn SelfRequests> = self.me.clone();
        let depth = request
            .extensions()
            .get::<SelfDepth>()
            .copied()
            .unwrap_or(SelfDepth(0));
        let mut store = self
            .linker
            .new_store(&component.capabilities, Some(me), depth)
            .await;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let scheme = match tls::scheme_of(&request) {
            "https" => Scheme::Https,
            _ => Scheme::Http,
        };
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(scheme, request)?;
        let response_out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = component.pre.clone();

        // The engine stops a guest that computes past the deadline, and host-side waits end
        // at it; this wall-clock limit, a little later, stops the whole task whatever it is
        // doing (waiting on a clock, say), whether or not it has sent its response head.
        let deadline = self.linker.engine().config().request_deadline + DEADLINE_GRACE;
        // The guest may keep streaming the body after it has sent the head, so it runs in a
        // task of its own that outlives this function.
        let task = tokio::spawn(async move {
            let run = async {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, response_out)
                    .await
            };
            match tokio::time::timeout(deadline, run).await {
                Ok(outcome) => outcome.map_err(anyhow::Error::from),
                Err(_) => anyhow::bail!("still running at the {deadline:?} deadline"),
            }
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response.map(|body| {
                GuestBody {
                    body: body.map_err(anyhow::Error::from).boxed_unsync(),
                    guest: Some(task),
                }
                .boxed_unsync()
            })),
            Ok(Err(code)) => anyhow::bail!("the guest answered with an error: {code:?}"),
            // The task dropped the response outparam: it has ended, or is about to.
            Err(_) => match task.await {
                Ok(Ok(())) => anyhow::bail!("the guest returned without sending a response"),
                Ok(Err(error)) => Err(error.context("the guest failed before sending a response")),
                Err(join) => Err(anyhow::Error::from(join).context("the guest task stopped")),
            },
        }
    }
}

/// The body of a guest's response, ending only when the guest has: wasmtime-wasi-http ends a
/// body cleanly when its guest goes away, so a guest that traps or hits the deadline halfway
/// through would look to the client as if it had sent everything. This body ends with an
/// error instead, and the client sees the connection cut.
struct GuestBody {
    body: HostBody,
    guest: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl hyper::body::Body for GuestBody {
    type Data = Bytes;
    type Error = anyhow::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, anyhow::Error>>> {
        use std::task::Poll;
        match Pin::new(&mut self.body).poll_frame(context) {
            Poll::Ready(None) => {}
            other => return other,
        }
        let Some(guest) = self.guest.as_mut() else {
            return Poll::Ready(None);
        };
        let outcome = std::task::ready!(Pin::new(guest).poll(context));
        self.guest = None;
        match outcome {
            Ok(Ok(())) => Poll::Ready(None),
            Ok(Err(error)) => {
                tracing::error!("a guest failed while sending its response body: {error:?}");
                Poll::Ready(Some(Err(error.context("the guest failed mid-body"))))
            }
            Err(join) => Poll::Ready(Some(Err(
                anyhow::Error::from(join).context("the guest task stopped mid-body")
            ))),
        }
    }
}

impl SelfRequests for HttpTrigger {
    fn handle_self_request(
        &self,
        request: Request<WasiBody>,
    ) -> Pin<Box<dyn Future<Output = Response<HostBody>> + Send + '_>> {
        Box::pin(self.handle(request, ([127, 0, 0, 1], 0).into()))
    }

    fn handle_chained_request<'a>(
        &'a self,
        component: &'a str,
        request: Request<WasiBody>,
    ) -> Pin<Box<dyn Future<Output = Option<Response<HostBody>>> + Send + 'a>> {
        Box::pin(self.handle_chained(component, request))
    }
}

/// The answer of a `static_response` trigger.
fn static_response(response: &StaticResponse) -> Response<HostBody> {
    let body = response.body.clone().unwrap_or_default();
    let mut answer = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    // The manifest was checked when it loaded: the status and headers are valid.
    if let Some(status) = response
        .status_code
        .and_then(|code| StatusCode::from_u16(code).ok())
    {
        *answer.status_mut() = status;
    }
    for (name, value) in &response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            answer.headers_mut().append(name, value);
        }
    }
    answer
}

/// The names of the headers Spin gives guests, made once: they are set on every request.
mod spin_header {
    use http::HeaderName;

    pub const FULL_URL: HeaderName = HeaderName::from_static("spin-full-url");
    pub const PATH_INFO: HeaderName = HeaderName::from_static("spin-path-info");
    pub const MATCHED_ROUTE: HeaderName = HeaderName::from_static("spin-matched-route");
    pub const RAW_COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-raw-component-route");
    pub const COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-component-route");
    pub const BASE_PATH: HeaderName = HeaderName::from_static("spin-base-path");
    pub const CLIENT_ADDR: HeaderName = HeaderName::from_static("spin-client-addr");
}

/// Adds the headers Spin gives guests, and drops any a client sent under those names.
fn with_spin_headers<B>(
    mut request: Request<B>,
    matched: &RouteMatch<'_, String>,
    client: SocketAddr,
) -> Request<B> {
    let host_header = request.headers().get(http::header::HOST).cloned();
    let host = host_header
        .as_ref()
        .and_then(|h| h.to_str().ok())
        .map(std::borrow::Cow::Borrowed)
        .or_else(|| request.uri().authority().map(|a| a.as_str().into()))
        .unwrap_or("localhost".into());
    let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let full_url = format!("{}://{host}{path_and_query}", tls::scheme_of(&request));
    let host_value = match host_header {
        Some(_) => None,
        None => HeaderValue::from_str(&host).ok(),
    };
    let headers = request.headers_mut();
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    // Values come from the request line, the route table and the socket: one that is not a
    // valid header value (a route with a control character, say) is left out, not an error.
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(spin_header::FULL_URL, &full_url);
    set(spin_header::PATH_INFO, &matched.path_info);
    set(spin_header::MATCHED_ROUTE, matched.route);
    set(spin_header::RAW_COMPONENT_ROUTE, matched.route);
    set(spin_header::COMPONENT_ROUTE, &matched.component_route);
    set(spin_header::BASE_PATH, "/");
    set(spin_header::CLIENT_ADDR, &client.to_string());
    for (name, value) in &matched.params {
        // As in Spin: `:user_id` arrives as `spin-path-match-user-id`.
        let name = format!("spin-path-match-{}", name.replace('_', "-"));
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            set(name, value);
        }
    }
    if let Some(host) = host_value {
        request.headers_mut().insert(http::header::HOST, host);
    }
    request
}

/// 503 with `Retry-After`: come back in a second.
fn busy() -> Response<HostBody> {
    let mut busy = plain(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    busy.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    busy
}

fn plain(status: StatusCode, text: &'static str) -> Response<HostBody> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Serves `trigger` on `listener` until `shutdown` completes; then stops accepting, lets
/// the requests in flight finish (closing each connection after its response), and returns
/// once they have, or after the engine's drain timeout, dropping what is left. With `tls`,
/// connections speak TLS, and HTTP/2 when the client negotiates it.
///
/// With the engine's `server_threads` set (see [`EngineConfig`](crate::engine::EngineConfig)),
/// connections are accepted here and handed out to that many threads, each running its
/// connections and their guests on an event loop of its own: a request and its guest never
/// change threads, and the threads share no queue. Otherwise they run on the caller's
/// runtime.
pub async fn serve(
    trigger: Arc<HttpTrigger>,
    listener: impl std::borrow::Borrow<TcpListener>,
    tls: Option<tls::TlsConfig>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    TriggerSwitch::new(trigger)
        .serve(listener, tls, shutdown)
        .await
}

/// The version of an app's HTTP trigger that answers the next request on a server, which
/// [`TriggerSwitch::replace`] swaps while it serves (`rotor watch` does, for each rebuild).
///
/// Swapping keeps the socket and every open connection: a connection the server has
/// accepted but not yet read from is answered by the new version, where stopping one
/// server for another would close it under the client.
pub struct TriggerSwitch {
    current: tokio::sync::watch::Sender<Arc<HttpTrigger>>,
}

impl TriggerSwitch {
    /// A switch set to `trigger`.
    pub fn new(trigger: Arc<HttpTrigger>) -> TriggerSwitch {
        TriggerSwitch {
            current: tokio::sync::watch::Sender::new(trigger),
        }
    }

    /// Hands requests that arrive from now on to `trigger`; requests already being
    /// answered finish on the version they started on.
    pub fn replace(&self, trigger: Arc<HttpTrigger>) {
        self.current.send_replace(trigger);
    }

    /// Serves on `listener`, as [`serve`] does, with whichever version is current for each
    /// request; the drain timeout on `shutdown` is the current version's engine's.
    pub async fn serve(
        &self,
        listener: impl std::borrow::Borrow<TcpListener>,
        tls: Option<tls::TlsConfig>,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let current = self.current.subscribe();
        tokio::pin!(shutdown);
        let (closing, closing_watch) = tokio::sync::watch::channel(false);
        let mut connections = tokio::task::JoinSet::new();
        let threads =
            ServerThreads::start(current.borrow().linker.engine().config().server_threads);
        loop {
            let (stream, client) = tokio::select! {
                accepted = listener.borrow().accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Running out of file descriptors is passing; keep serving.
                        tracing::warn!("accepting a connection failed: {error}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            while connections.try_join_next().is_some() {}
            let _ = stream.set_nodelay(true);
            let current = current.clone();
            let closing = closing_watch.clone();
            let tls = tls.clone();
            let over_tls = tls.is_some();
            let assigned = match threads.assign(stream) {
                Ok(assigned) => assigned,
                Err(error) => {
                    tracing::warn!("handing a connection from {client} over failed: {error}");
                    continue;
                }
            };
            let (stream, load) = (assigned.stream, assigned.load);
            connections.spawn_on(
                async move {
                    let _load = load;
                    let stream = match stream.arrive() {
                        Ok(stream) => stream,
                        Err(error) => {
                            tracing::warn!(
                                "taking a connection from {client} over failed: {error}"
                            );
                            return;
                        }
                    };
                    let service = service_fn(move |mut request: Request<hyper::body::Incoming>| {
                        if over_tls {
                            request.extensions_mut().insert(tls::OverTls);
                        }
                        let trigger = current.borrow().clone();
                        async move { Ok::<_, Infallible>(trigger.handle(request, client).await) }
                    });
                    let ended = match tls {
                        None => {
                            // Without a timer hyper waits for a request's headers forever, so a
                            // client that sends a byte now and then ("slowloris"), or an idle
                            // keep-alive connection, would hold its socket for good.
                            let connection = hyper::server::conn::http1::Builder::new()
                                .timer(hyper_util::rt::TokioTimer::new())
                                .header_read_timeout(HEADER_READ_TIMEOUT)
                                .serve_connection(TokioIo::new(stream), service);
                            tokio::pin!(connection);
                            until_closed(connection, closing, |c| c.graceful_shutdown())
                                .await
                                .map_err(|e| e.to_string())
                        }
                        Some(tls) => {
                            let handshake = tokio::time::timeout(
                                tls::HANDSHAKE_TIMEOUT,
                                tls.acceptor().accept(stream),
                            );
                            let stream = match handshake.await {
                                Ok(Ok(stream)) => stream,
                                Ok(Err(error)) => {
                                    tracing::debug!("TLS handshake with {client} failed: {error}");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!("TLS handshake with {client} timed out");
                                    return;
                                }
                            };
                            let mut builder = hyper_util::server::conn::auto::Builder::new(
                                hyper_util::rt::TokioExecutor::new(),
                            );
                            builder
                                .http1()
                                .timer(hyper_util::rt::TokioTimer::new())
                                .header_read_timeout(HEADER_READ_TIMEOUT);
                            builder.http2().timer(hyper_util::rt::TokioTimer::new());
                            let connection =
                                builder.serve_connection(TokioIo::new(stream), service);
                            tokio::pin!(connection);
                            until_closed(connection, closing, |c| c.graceful_shutdown())
                                .await
                                .map_err(|e| e.to_string())
                        }
                    };
                    if let Err(error) = ended {
                        tracing::debug!("connection from {client} ended: {error}");
                    }
                },
                &assigned.runtime,
            );
        }
        drop(listener);
        let _ = closing.send(true);
        let drain = current.borrow().linker.engine().config().drain_timeout;
        let drained = tokio::time::timeout(drain, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                "{} connections still busy after the {drain:?} drain timeout; closing them",
                connections.len()
            );
            connections.shutdown().await;
        }
        // Every connection has ended: the threads stop.
        drop(threads);
        Ok(())
    }
}

/// Drives `connection` to its end; once `closing` turns true, lets it finish the request in
/// progress (`graceful` tells it to) and then close.
async fn until_closed<C, E>(
    mut connection: Pin<&mut C>,
    mut closing: tokio::sync::watch::Receiver<bool>,
    graceful: impl FnOnce(Pin<&mut C>),
) -> Result<(), E>
where
    C: Future<Output = Result<(), E>>,
{
    tokio::select! {
        ended = connection.as_mut() => ended,
        () = async { drop(closing.wait_for(|closing| *closing).await) } => {
            graceful(connection.as_mut());
            connection.await
        }
    }
}
