//! `fermyon:spin/mqtt@2.0.0`: publishing to an MQTT broker with rumqttc.
//!
//! The broker's address must be granted in `allowed_outbound_hosts` (`mqtt://host:port`, or
//! `mqtts://host:port` for TLS); otherwise the open fails with `connection-failed` and no
//! connection is made. An `mqtts://` broker's certificate must chain to the platform's roots
//! (or to what a `[[client_tls]]` entry trusts for the component and host) and name the
//! host. `open` connects and waits for the broker's answer, so a refused connection or bad
//! credentials fail there; `publish` returns once the message has left the host (QoS 0), or
//! once the broker has acknowledged it (QoS 1 and 2).

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS,
    TlsConfiguration, Transport,
};
use wasmtime::component::{Linker, Resource};

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use super::client_tls::Verification;
use super::outbound::OutboundGrant;
use super::virtual_services::{MqttCall, VirtualConnection};
use crate::manifest::allowed_hosts::{AllowedHosts, Destination};
use bindings::fermyon::spin2_0_0::mqtt::{self, Error, Qos};

/// Host bindings of `fermyon:spin/mqtt@2.0.0`, from `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/mqtt-host",
        imports: { default: async },
        with: {
            "fermyon:spin/mqtt@2.0.0.connection": super::OpenMqtt,
        },
    });
}

/// The MQTT capability: a connection per `open`, to the brokers a component is granted.
pub struct Mqtt;

impl Capability for Mqtt {
    type App = ();
    type Grant = Arc<OutboundGrant>;

    fn load(_: &AppContext<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    fn grant(_: &(), component: &ComponentContext<'_>) -> anyhow::Result<Self::Grant> {
        Ok(component.outbound.clone())
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, Self::Grant>,
    ) -> wasmtime::Result<()> {
        mqtt::add_to_linker::<_, HasView<Self::Grant>>(linker, view)
    }
}

/// How long connecting, and then each publish, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A connection the guest has opened: the handle behind the `connection` resource.
pub enum OpenMqtt {
    /// A connection to a broker.
    Broker {
        /// Sends.
        client: AsyncClient,
        /// Drives the connection (boxed: it is large, and a stand-in needs none).
        events: Box<EventLoop>,
    },
    /// A unit test's stand-in, and the user the guest connected as.
    Virtual(VirtualConnection, String),
}

/// Where an `mqtt://` or `mqtts://` address points.
struct Broker {
    /// `mqtt` or `mqtts`, as `allowed_outbound_hosts` spells it.
    scheme: &'static str,
    host: String,
    port: u16,
    client_id: Option<String>,
}

/// Parses `mqtt[s]://host[:port][?client_id=ID]`.
fn parse_address(address: &str) -> Result<Broker, Error> {
    let uri: http::Uri = address.parse().map_err(|_| Error::InvalidAddress)?;
    let (scheme, default_port) = match uri.scheme_str() {
        Some("mqtt") => ("mqtt", 1883),
        Some("mqtts") => ("mqtts", 8883),
        _ => return Err(Error::InvalidAddress),
    };
    let host = uri.host().ok_or(Error::InvalidAddress)?.to_owned();
    let client_id = uri.query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("client_id="))
            .map(str::to_owned)
    });
    Ok(Broker {
        scheme,
        port: uri.port_u16().unwrap_or(default_port),
        host,
        client_id,
    })
}

/// Polls the event loop until `done` says an event is the one awaited.
async fn poll_until(
    events: &mut EventLoop,
    mut done: impl FnMut(&Event) -> Result<bool, Error>,
) -> Result<(), Error> {
    let waiting = async {
        loop {
            let event = events
                .poll()
                .await
                .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
            if done(&event)? {
                return Ok(());
            }
        }
    };
    tokio::time::timeout(TIMEOUT, waiting)
        .await
        .map_err(|_| Error::Other(format!("the broker did not answer within {TIMEOUT:?}")))?
}

async fn open(
    outbound: &OutboundGrant,
    allowed: &AllowedHosts,
    address: &str,
    username: &str,
    password: &str,
    keep_alive_secs: u64,
) -> Result<OpenMqtt, Error> {
    let Broker {
        scheme,
        host,
        port,
        client_id,
    } = parse_address(address)?;
    allowed
        .check(&Destination {
            scheme,
            host: host.clone(),
            port,
        })
        // Spin's wording, which its conformance suite checks for.
        .map_err(|_| Error::ConnectionFailed(format!("address {address} is not permitted")))?;
    if let Some(stand_in) = outbound.virtual_connection(address) {
        return Ok(OpenMqtt::Virtual(stand_in, username.to_owned()));
    }
    static CLIENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let client_id = client_id.unwrap_or_else(|| {
        format!(
            "rotor-{}-{}",
            std::process::id(),
            CLIENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )
    });
    let tls = match scheme {
        "mqtts" => Some(
            outbound
                .tls_trust(&host)
                .rustls_config(Verification::Full)
                .map_err(|e| Error::ConnectionFailed(format!("{e:#}")))?,
        ),
        _ => None,
    };
    let mut options = MqttOptions::new(client_id, host, port);
    if let Some(config) = tls {
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(config)));
    }
    options.set_keep_alive(if keep_alive_secs == 0 {
        Duration::ZERO
    } else {
        Duration::from_secs(keep_alive_secs)
    });
    if !username.is_empty() {
        options.set_credentials(username, password);
    }
    let (client, mut events) = AsyncClient::new(options, 16);
    poll_until(&mut events, |event| match event {
        Event::Incoming(Packet::ConnAck(ack)) if ack.code == ConnectReturnCode::Success => Ok(true),
        Event::Incoming(Packet::ConnAck(ack)) => Err(Error::ConnectionFailed(format!(
            "the broker refused the connection: {:?}",
            ack.code
        ))),
        _ => Ok(false),
    })
    .await?;
    Ok(OpenMqtt::Broker {
        client,
        events: Box::new(events),
    })
}

impl mqtt::Host for View<'_, Arc<OutboundGrant>> {}

impl mqtt::HostConnection for View<'_, Arc<OutboundGrant>> {
    async fn open(
        &mut self,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> Result<Resource<OpenMqtt>, Error> {
        let allowed = self
            .grant
            .allowed_hosts()
            .await
            .map_err(Error::ConnectionFailed)?;
        let connection = open(
            self.grant,
            &allowed,
            &address,
            &username,
            &password,
            keep_alive_interval_in_secs,
        )
        .await?;
        self.table
            .push(connection)
            .map_err(|_| Error::TooManyConnections)
    }

    async fn publish(
        &mut self,
        connection: Resource<OpenMqtt>,
        topic: String,
        payload: Vec<u8>,
        qos: Qos,
    ) -> Result<(), Error> {
        let (client, events) = match self.table.get_mut(&connection) {
            Ok(OpenMqtt::Broker { client, events }) => (client, events),
            Ok(OpenMqtt::Virtual(stand_in, username)) => {
                let call = MqttCall {
                    component: stand_in.component.clone(),
                    address: stand_in.address.clone(),
                    username: username.clone(),
                    topic,
                    payload,
                    qos: qos as u8,
                };
                return stand_in.services.mqtt(call).await.map_err(Error::Other);
            }
            Err(_) => return Err(Error::Other("no such connection".into())),
        };
        let qos = match qos {
            Qos::AtMostOnce => QoS::AtMostOnce,
            Qos::AtLeastOnce => QoS::AtLeastOnce,
            Qos::ExactlyOnce => QoS::ExactlyOnce,
        };
        client
            .publish(topic, qos, false, payload)
            .await
            .map_err(|e| Error::Other(e.to_string()))?;
        poll_until(&mut *events, |event| {
            Ok(matches!(
                (qos, event),
                (QoS::AtMostOnce, Event::Outgoing(Outgoing::Publish(_)))
                    | (QoS::AtLeastOnce, Event::Incoming(Packet::PubAck(_)))
                    | (QoS::ExactlyOnce, Event::Incoming(Packet::PubComp(_)))
            ))
        })
        .await
    }

    async fn drop(&mut self, connection: Resource<OpenMqtt>) -> wasmtime::Result<()> {
        // Say goodbye when the broker is still listening; a dead one needs no notice.
        if let OpenMqtt::Broker { client, .. } = self.table.delete(connection)? {
            let _ = client.try_disconnect();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let parts = |address: &str| {
            let broker = parse_address(address).unwrap();
            (broker.scheme, broker.host, broker.port, broker.client_id)
        };
        assert_eq!(
            parts("mqtt://127.0.0.1:1883"),
            ("mqtt", "127.0.0.1".into(), 1883, None)
        );
        assert_eq!(
            parts("mqtt://broker?client_id=me"),
            ("mqtt", "broker".into(), 1883, Some("me".into()))
        );
        assert_eq!(
            parts("mqtts://broker"),
            ("mqtts", "broker".into(), 8883, None)
        );
        assert!(matches!(
            parse_address("http://broker"),
            Err(Error::InvalidAddress)
        ));
        assert!(matches!(
            parse_address("not an address"),
            Err(Error::InvalidAddress)
        ));
    }
}
