//! The HTTP trigger: a hyper server that hands each request to a fresh instance of the
//! component its route names, through `wasi:http/incoming-handler`.

pub mod routes;
pub mod wagi;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
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
use crate::capabilities::outbound_http::{HostBody, SelfRequests};
use crate::capabilities::{AppCapabilities, ComponentCapabilities};
use crate::manifest::{Executor, HttpTrigger as HttpRoute, Manifest};
use routes::{RouteMatch, RouteTable};
use wagi::{RequestInfo, WagiModule};

/// How long after a guest's deadline the host gives up waiting for its response.
const DEADLINE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

struct HttpComponent {
    pre: ProxyPre<InstanceState>,
    capabilities: Arc<ComponentCapabilities>,
}

/// An app's HTTP side: its routes and their prepared components.
pub struct HttpTrigger {
    /// The trigger itself, for requests its components make to `self`.
    me: Weak<HttpTrigger>,
    linker: Arc<HostLinker>,
    routes: RouteTable<String>,
    handlers: HashMap<String, Handler>,
}

/// What answers a route: a component, or a WAGI module.
enum Handler {
    Component(Arc<HttpComponent>),
    Wagi(Arc<WagiModule>),
}

/// The key a route's handler is kept under: one per component and executor.
fn handler_key(route: &HttpRoute) -> String {
    match route.executor {
        Executor::Component => route.component.clone(),
        Executor::Wagi(_) => format!("wagi:{}", route.component),
    }
}

impl HttpTrigger {
    /// Compiles and links every component an HTTP route names, each with what
    /// `capabilities` grants it.
    pub fn load(
        manifest: &Manifest,
        linker: Arc<HostLinker>,
        capabilities: &AppCapabilities,
    ) -> anyhow::Result<Arc<HttpTrigger>> {
        let file = manifest.path.display();
        let routes = RouteTable::new(
            manifest
                .http_triggers
                .iter()
                .map(|route| (route.route.clone(), handler_key(route))),
        )
        .map_err(|conflict| {
            let line = manifest
                .http_triggers
                .iter()
                .filter(|t| t.route == conflict.second)
                .map(|t| t.line)
                .next_back()
                .unwrap_or(0);
            anyhow::anyhow!("{file}:{line}: at `trigger.http.route`: {conflict}")
        })?;

        let mut handlers = HashMap::new();
        for route in &manifest.http_triggers {
            let key = handler_key(route);
            if handlers.contains_key(&key) {
                continue;
            }
            let handler = match &route.executor {
                Executor::Wagi(settings) => Handler::Wagi(Arc::new(WagiModule::load(
                    linker.engine(),
                    manifest,
                    &route.component,
                    settings,
                )?)),
                Executor::Component => {
                    let pre = ProxyPre::new(linker.link(manifest, &route.component)?)
                        .map_err(anyhow::Error::from)
                        .with_context(|| {
                            format!(
                                "{file}: component `{}` does not export wasi:http/incoming-handler@0.2.x",
                                route.component
                            )
                        })?;
                    Handler::Component(Arc::new(HttpComponent {
                        pre,
                        capabilities: super::granted(capabilities, manifest, &route.component)?,
                    }))
                }
            };
            handlers.insert(key, handler);
        }
        Ok(Arc::new_cyclic(|me| HttpTrigger {
            me: me.clone(),
            linker,
            routes,
            handlers,
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
        let Some(matched) = self.routes.find(&path) else {
            return plain(StatusCode::NOT_FOUND, "Not Found");
        };
        let (name, result) = match &self.handlers[matched.target] {
            Handler::Component(component) => {
                let request = with_spin_headers(request, &matched, client);
                (
                    component.capabilities.name.clone(),
                    self.run_guest(component, request).await,
                )
            }
            Handler::Wagi(module) => {
                let info = RequestInfo {
                    matched: &matched,
                    client,
                };
                (
                    module.name.clone(),
                    module.handle(self.linker.engine(), request, info).await,
                )
            }
        };
        match result {
            Ok(response) => response,
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
        let mut store = self.linker.new_store(&component.capabilities, Some(me));
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let response_out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = component.pre.clone();

        // The guest may keep streaming the body after it has sent the head, so it runs in a
        // task of its own that outlives this function.
        let task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, response_out)
                .await
        });
        // The guest's own epoch deadline stops it first; this later one catches a guest that
        // is stuck in the host (waiting on I/O, say), where epochs are not checked.
        let deadline = self.linker.engine().config().request_deadline + DEADLINE_GRACE;
        let head = match tokio::time::timeout(deadline, receiver).await {
            Ok(head) => head,
            Err(_) => {
                task.abort();
                anyhow::bail!("no response within the {deadline:?} deadline");
            }
        };
        match head {
            Ok(Ok(response)) => {
                Ok(response.map(|body| body.map_err(anyhow::Error::from).boxed_unsync()))
            }
            Ok(Err(code)) => anyhow::bail!("the guest answered with an error: {code:?}"),
            Err(_) => {
                match task.await {
                    Ok(Ok(())) => anyhow::bail!("the guest returned without sending a response"),
                    Ok(Err(trap)) => Err(anyhow::Error::from(trap)
                        .context("the guest failed before sending a response")),
                    Err(join) => Err(anyhow::Error::from(join).context("the guest task stopped")),
                }
            }
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
}

/// Adds the headers Spin gives guests, and drops any a client sent under those names.
fn with_spin_headers<B>(
    mut request: Request<B>,
    matched: &RouteMatch<'_, String>,
    client: SocketAddr,
) -> Request<B> {
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_owned());
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let headers = request.headers_mut();
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    let mut set = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    };
    set("spin-full-url", &format!("http://{host}{path_and_query}"));
    set("spin-path-info", &matched.path_info);
    set("spin-matched-route", matched.route);
    set("spin-raw-component-route", matched.route);
    set("spin-component-route", &matched.component_route);
    set("spin-base-path", "/");
    set("spin-client-addr", &client.to_string());
    for (name, value) in &matched.params {
        // As in Spin: `:user_id` arrives as `spin-path-match-user-id`.
        set(
            &format!("spin-path-match-{}", name.replace('_', "-")),
            value,
        );
    }
    if !request.headers().contains_key(http::header::HOST) {
        if let Ok(value) = HeaderValue::from_str(&host) {
            request.headers_mut().insert(http::header::HOST, value);
        }
    }
    request
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

/// Serves `trigger` on `listener` until `shutdown` completes.
pub async fn serve(
    trigger: Arc<HttpTrigger>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Running out of file descriptors is passing; keep serving.
                    tracing::warn!("accepting a connection failed: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let trigger = trigger.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let trigger = trigger.clone();
                async move { Ok::<_, Infallible>(trigger.handle(request, client).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!("connection from {client} ended: {error}");
            }
        });
    }
}
