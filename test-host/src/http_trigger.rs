//! The HTTP trigger: a hyper server that hands each request to a fresh instance of the
//! component its route names, through `wasi:http/incoming-handler`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use anyhow::Context as _;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::WasiHttpView;

use crate::capabilities::{AppCapabilities, ComponentGrants};
use crate::manifest::{Executor, Manifest};
use crate::routes::{RouteMatch, RouteTable};
use crate::runtime::Runtime;
use crate::state::HostState;
use crate::wagi::{RequestInfo, WagiModule};

/// How long after a guest's deadline the host gives up waiting for its response.
const DEADLINE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// The body of every response the host sends.
pub type HostBody = UnsyncBoxBody<Bytes, anyhow::Error>;

struct HttpComponent {
    name: Arc<str>,
    pre: ProxyPre<HostState>,
    environment: Vec<(String, String)>,
    grants: Arc<ComponentGrants>,
}

/// An app's HTTP side: its routes and its prepared components.
pub struct HttpApp {
    /// The app itself, for requests its components make to `self`.
    me: Weak<HttpApp>,
    runtime: Arc<Runtime>,
    routes: RouteTable<String>,
    components: HashMap<String, Handler>,
}

/// What answers a route: a component, or a WAGI module.
enum Handler {
    Component(Arc<HttpComponent>),
    Wagi(Arc<WagiModule>),
}

/// The key a route's handler is kept under: one per component and executor.
fn handler_key(trigger: &crate::manifest::HttpTrigger) -> String {
    match trigger.executor {
        Executor::Component => trigger.component.clone(),
        Executor::Wagi(_) => format!("wagi:{}", trigger.component),
    }
}

impl HttpApp {
    /// Compiles and links every component an HTTP route names, granting each what its
    /// manifest entry lists from `capabilities`.
    pub fn load(
        manifest: &Manifest,
        runtime: Arc<Runtime>,
        capabilities: &Arc<AppCapabilities>,
    ) -> anyhow::Result<Arc<HttpApp>> {
        let file = manifest.path.display();
        let routes = RouteTable::new(
            manifest
                .http_triggers
                .iter()
                .map(|trigger| (trigger.route.clone(), handler_key(trigger))),
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

        let mut components = HashMap::new();
        for trigger in &manifest.http_triggers {
            let key = handler_key(trigger);
            if components.contains_key(&key) {
                continue;
            }
            let component = &manifest.components[&trigger.component];
            let source = manifest.source_path(component);
            let context = || {
                format!(
                    "{file}: component `{}` (source {})",
                    trigger.component, component.source
                )
            };
            if let Executor::Wagi(settings) = &trigger.executor {
                if !source.exists() {
                    anyhow::bail!("{}: the file does not exist", context());
                }
                let pre = runtime.load_wagi_module(&source).with_context(context)?;
                components.insert(
                    key,
                    Handler::Wagi(Arc::new(WagiModule {
                        name: trigger.component.as_str().into(),
                        pre,
                        settings: settings.clone(),
                        environment: component.environment.clone().into_iter().collect(),
                    })),
                );
                continue;
            }
            let instance_pre = runtime.link_component(manifest, &trigger.component)?;
            let pre = ProxyPre::new(instance_pre)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!(
                        "{}: it does not export wasi:http/incoming-handler@0.2.x",
                        context()
                    )
                })?;
            components.insert(
                key,
                Handler::Component(Arc::new(HttpComponent {
                    name: trigger.component.as_str().into(),
                    pre,
                    environment: component.environment.clone().into_iter().collect(),
                    grants: capabilities.grants_for(component),
                })),
            );
        }
        Ok(Arc::new_cyclic(|me| HttpApp {
            me: me.clone(),
            runtime,
            routes,
            components,
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
        let (name, result) = match &self.components[matched.target] {
            Handler::Component(component) => {
                let request = with_spin_headers(request, &matched, client);
                (
                    component.name.clone(),
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
                    module.handle(&self.runtime, request, info).await,
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
        let mut store = self.runtime.new_store(
            &component.name,
            &component.environment,
            component.grants.clone(),
            self.me.clone(),
        );
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
        let deadline = self.runtime.config().request_deadline + DEADLINE_GRACE;
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

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    app: Arc<HttpApp>,
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
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.handle(request, client).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!("connection from {client} ended: {error}");
            }
        });
    }
}

/// Starts serving `app` on `address` in the background; returns the bound address.
pub async fn spawn(
    app: Arc<HttpApp>,
    address: SocketAddr,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let bound = listener.local_addr()?;
    let handle = tokio::spawn(serve(app, listener, std::future::pending()));
    Ok((bound, handle))
}
