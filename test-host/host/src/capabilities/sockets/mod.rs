//! `wasi:sockets` under `allowed_outbound_hosts`, as in Spin: a TCP connection to
//! `ip:port` needs an entry such as `tcp://ip:port` or `*://ip:port` (an IP range in CIDR
//! form and `{{ variable }}` templates work as for HTTP), a UDP datagram one for `udp://`.
//!
//! Anything not granted fails in the guest with `access-denied` before a packet leaves the
//! machine. Name lookups are open only to components granted some outbound host. Binding the local end of a connection is always allowed; listening for and
//! accepting connections is not, since a component answers through its trigger.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use wasmtime_wasi::sockets::SocketAddrUse;

use super::outbound::OutboundGrant;

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
