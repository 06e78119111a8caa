//! `wasi:sockets` under `allowed_outbound_hosts`, as in Spin: a TCP connection to
//! `ip:port` needs an entry such as `tcp://ip:port` or `*://ip:port` (an IP range in CIDR
//! form and `{{ variable }}` templates work as for HTTP), a UDP datagram one for `udp://`.
//!
//! Anything not granted fails in the guest with `access-denied` before a packet leaves the
//! machine. A name lookup is `access-denied` too unless some entry names that host (a lookup
//! is itself traffic, and DNS can carry data out): `tcp://db.internal:5432` lets a component
//! look up `db.internal`, `*://*.example.com:*` any name under `example.com`. Binding the
//! local end of a connection is always allowed; listening for and accepting connections is
//! not, since a component answers through its trigger.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    self, HostResolveAddressStream, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{self, ErrorCode, IpAddress, Network};
use wasmtime_wasi::p2::{DynPollable, SocketError};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsCtxView};

use super::outbound::OutboundGrant;
use crate::manifest::allowed_hosts::AllowedHosts;

/// The check wasmtime-wasi calls for every address a component's socket uses.
pub fn address_check(
    grant: Arc<OutboundGrant>,
) -> impl Fn(SocketAddr, SocketAddrUse) -> Pin<Box<dyn Future<Output = bool> + Send + Sync>>
       + Send
       + Sync
       + 'static {
    move |address, use_| {
        let scheme = match use_ {
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                return Box::pin(std::future::ready(true))
            }
            SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => {
                tracing::warn!("a component tried to listen on {address}: not allowed");
                return Box::pin(std::future::ready(false));
            }
            SocketAddrUse::TcpConnect => "tcp",
            SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => "udp",
        };
        let grant = grant.clone();
        Box::pin(async move {
            let allowed = match grant.allowed_hosts().await {
                Ok(allowed) => allowed.allows(scheme, &address.ip().to_string(), address.port()),
                Err(error) => {
                    tracing::warn!("allowed_outbound_hosts cannot be read: {error}");
                    false
                }
            };
            if !allowed {
                tracing::warn!(
                    "{scheme} connection to {address} denied: not in allowed_outbound_hosts"
                );
            }
            allowed
        })
    }
}

/// `wasi:sockets/ip-name-lookup` as wasmtime-wasi offers it, behind the grant: what a
/// component's instance sees.
pub struct GrantedLookup<'a> {
    /// wasmtime-wasi's own sockets, which do the lookup.
    pub sockets: WasiSocketsCtxView<'a>,
    /// The component's entries, filled before the instance started; `None` when they could
    /// not be (every lookup is then denied).
    pub allowed: Option<Arc<AllowedHosts>>,
}

struct GrantedLookupData;

impl HasData for GrantedLookupData {
    type Data<'a> = GrantedLookup<'a>;
}

/// Puts [`GrantedLookup`] in place of the `ip-name-lookup` that
/// `wasmtime_wasi::p2::add_to_linker_async` added before.
pub fn replace_name_lookup<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> GrantedLookup<'_>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let replaced = ip_name_lookup::add_to_linker::<T, GrantedLookupData>(linker, view);
    linker.allow_shadowing(false);
    replaced
}

impl network::Host for GrantedLookup<'_> {
    fn convert_error_code(&mut self, error: SocketError) -> wasmtime::Result<ErrorCode> {
        self.sockets.convert_error_code(error)
    }

    fn network_error_code(
        &mut self,
        error: Resource<wasmtime::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        self.sockets.network_error_code(error)
    }
}

impl network::HostNetwork for GrantedLookup<'_> {
    fn drop(&mut self, network: Resource<Network>) -> wasmtime::Result<()> {
        network::HostNetwork::drop(&mut self.sockets, network)
    }
}

impl ip_name_lookup::Host for GrantedLookup<'_> {
    fn resolve_addresses(
        &mut self,
        network: Resource<Network>,
        name: String,
    ) -> Result<Resource<ResolveAddressStream>, SocketError> {
        let granted = self
            .allowed
            .as_ref()
            .is_some_and(|allowed| allowed.allows_name(&name));
        if !granted {
            tracing::warn!("name lookup of {name:?} denied: not in allowed_outbound_hosts");
            return Err(ErrorCode::AccessDenied.into());
        }
        self.sockets.resolve_addresses(network, name)
    }
}

impl HostResolveAddressStream for GrantedLookup<'_> {
    fn resolve_next_address(
        &mut self,
        stream: Resource<ResolveAddressStream>,
    ) -> Result<Option<IpAddress>, SocketError> {
        self.sockets.resolve_next_address(stream)
    }

    fn subscribe(
        &mut self,
        stream: Resource<ResolveAddressStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        HostResolveAddressStream::subscribe(&mut self.sockets, stream)
    }

    fn drop(&mut self, stream: Resource<ResolveAddressStream>) -> wasmtime::Result<()> {
        HostResolveAddressStream::drop(&mut self.sockets, stream)
    }
}
