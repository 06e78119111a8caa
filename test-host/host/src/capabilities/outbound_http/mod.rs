//! Outbound HTTP: the `wasi:http` hook that enforces `allowed_outbound_hosts`
//! (see `allowed_hosts`).
//!
//! A request no entry allows is refused with `HTTP-request-denied` and never leaves the host;
//! requests to `self` (a URL whose host is `self`) are answered inside the host, by the app's
//! own routes, and requests to `COMPONENT.spin.internal` by that component, as Spin chains
//! services. An `https://` request to a host that a `[[client_tls]]` entry names for the
//! component trusts what the entry says and shows its client certificate.

mod client_tls;
mod request_body;
mod virtual_send;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::outbound::OutboundGrant;
use crate::manifest::allowed_hosts::default_port;

/// The body of every response the host sends, to clients and to guests' requests to `self`.
pub type HostBody = UnsyncBoxBody<Bytes, anyhow::Error>;

/// Whatever answers the requests a component makes to `self` and to other components (at
/// `http://COMPONENT.spin.internal`): the app's HTTP trigger.
pub trait SelfRequests: Send + Sync {
    /// Answers `request` as if a client had sent it; any failure is a response (a 500).
    fn handle_self_request(
        &self,
        request: http::Request<WasiBody>,
    ) -> Pin<Box<dyn Future<Output = http::Response<HostBody>> + Send + '_>>;

    /// Hands `request` to the HTTP component `component`, whatever its route (private ones
    /// too); `None` when there is no such component.
    fn handle_chained_request<'a>(
        &'a self,
        component: &'a str,
        request: http::Request<WasiBody>,
    ) -> Pin<Box<dyn Future<Output = Option<http::Response<HostBody>>> + Send + 'a>>;
}

/// How deep requests to `self` and between components may nest: a component that keeps
/// calling itself gets `loop-detected` at this depth instead of taking every instance the
/// host has.
pub const MAX_SELF_DEPTH: u32 = 16;

/// How many requests to `self` (or to other components) led to a request: kept in the
/// request's extensions, which no client can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfDepth(pub u32);

/// The suffix of the host names components reach each other at, as in Spin.
const CHAINED_SUFFIX: &str = ".spin.internal";

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

/// The `wasi:http` hooks of one instance: sends what its component's
/// `allowed_outbound_hosts` allows, answers requests to `self` from the app, refuses the rest.
pub struct OutboundHttp {
    component: Arc<str>,
    grant: Arc<OutboundGrant>,
    self_requests: Option<Weak<dyn SelfRequests>>,
    depth: SelfDepth,
}

impl OutboundHttp {
    /// The hooks for an instance of `component`, whose requests to `self` go to
    /// `self_requests`; the instance answers a request `depth` deep.
    pub fn new(
        component: Arc<str>,
        grant: Arc<OutboundGrant>,
        self_requests: Option<Weak<dyn SelfRequests>>,
        depth: SelfDepth,
    ) -> Self {
        OutboundHttp {
            component,
            grant,
            self_requests,
            depth,
        }
    }
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        let component = self.component.clone();
        let grant = self.grant.clone();
        let self_requests = self.self_requests.clone();
        let depth = self.depth.0;
        let mut request = request.map(request_body::kept_open);
        Box::new(async move {
            let allowed = match grant.allowed_hosts().await {
                Ok(allowed) => allowed,
                Err(error) => {
                    tracing::error!(%component, "outbound request refused: {error}");
                    return Err(Error::HttpRequestDenied);
                }
            };
            let uri = request.uri();
            let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
            let host = uri.host().unwrap_or("").to_ascii_lowercase();
            let port = uri
                .port_u16()
                .or_else(|| default_port(&scheme))
                .unwrap_or(0);
            // Only the destination is logged: a path, query or header may carry a secret.
            let destination = format!("{scheme}://{host}:{port}");
            if !allowed.allows(&scheme, &host, port) {
                tracing::warn!(
                    %component,
                    "outbound request to {destination} denied: not in allowed_outbound_hosts"
                );
                return Err(Error::HttpRequestDenied);
            }
            let chained = host.strip_suffix(CHAINED_SUFFIX);
            if host == "self" || chained.is_some() {
                // Components of other triggers (Redis) have no HTTP app behind them, and an
                // app that is shutting down has none left.
                let Some(app) = self_requests.as_ref().and_then(Weak::upgrade) else {
                    return Err(Error::InternalError(Some(
                        "no HTTP routes to answer a request to self".into(),
                    )));
                };
                if depth >= MAX_SELF_DEPTH {
                    tracing::warn!(
                        %component,
                        "request to {destination} refused: {MAX_SELF_DEPTH} requests to the app itself are already nested"
                    );
                    return Err(Error::LoopDetected);
                }
                request.extensions_mut().insert(SelfDepth(depth + 1));
                let response = match chained {
                    Some(target) => match app.handle_chained_request(target, request).await {
                        Some(response) => response,
                        None => {
                            tracing::warn!(%component, "no HTTP component `{target}` for a request to {destination}");
                            return Err(Error::DestinationNotFound);
                        }
                    },
                    None => app.handle_self_request(request).await,
                };
                let response = response.map(|body| {
                    body.map_err(|e| Error::InternalError(Some(e.to_string())))
                        .boxed_unsync()
                });
                let done: Box<dyn Future<Output = Result<(), Error>> + Send> =
                    Box::new(async { Ok(()) });
                return Ok((response, done));
            }
            tracing::debug!(%component, "outbound request to {destination}");
            if let Some(services) = grant.virtual_services() {
                let response = virtual_send::send(services, &component, request).await?;
                let done: Box<dyn Future<Output = Result<(), Error>> + Send> =
                    Box::new(async { Ok(()) });
                return Ok((response, done));
            }
            if let Some(trust) = grant
                .configured_tls_trust(&host)
                .filter(|_| scheme == "https")
            {
                let config = trust
                    .rustls_config(super::client_tls::Verification::Full)
                    .map_err(|error| {
                        tracing::error!(%component, "the TLS settings for {destination}: {error:#}");
                        Error::TlsCertificateError
                    })?;
                let (response, connection) = client_tls::send(request, options, config).await?;
                let connection: Box<dyn Future<Output = Result<(), Error>> + Send> =
                    Box::new(connection);
                return Ok((response, connection));
            }
            let (response, connection) =
                wasmtime_wasi_http::default_send_request(request, options).await?;
            let connection: Box<dyn Future<Output = Result<(), Error>> + Send> =
                Box::new(connection);
            Ok((response.map(BodyExt::boxed_unsync), connection))
        })
    }
}
