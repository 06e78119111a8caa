//! Outbound MQTT over `fermyon:spin/mqtt@2.0.0`: publishing to a broker.
//!
//! The host connects only to brokers the manifest grants in `allowed_outbound_hosts`
//! (`mqtt://host:port`); anything else is `Error::ConnectionFailed` and no connection is made.
//!
//! ```no_run
//! use rotor_sdk::mqtt::{Connection, Qos};
//!
//! # fn main() -> Result<(), rotor_sdk::mqtt::Error> {
//! let broker = Connection::open("mqtt://127.0.0.1:1883", "", "", 30)?;
//! broker.publish("sensors/kitchen", b"21.5", Qos::AtLeastOnce)?;
//! # Ok(()) }
//! ```

use crate::bindings::platform::fermyon::spin2_0_0::mqtt;

/// A connection to one broker: `open(address, username, password, keep_alive_secs)` and
/// `publish(topic, payload, qos)`, straight from the WIT. An empty username connects
/// without credentials; a keep-alive of 0 turns keep-alives off. `publish` returns once the
/// broker has acknowledged the message (QoS 1 and 2) or it has left the host (QoS 0).
#[doc(inline)]
pub use mqtt::Connection;

/// Why an MQTT operation failed: `InvalidAddress`, `TooManyConnections`,
/// `ConnectionFailed(message)` (refused, not granted, bad credentials) or `Other(message)`.
#[doc(inline)]
pub use mqtt::Error;

/// The delivery guarantee of a message: `AtMostOnce`, `AtLeastOnce` or `ExactlyOnce`.
#[doc(inline)]
pub use mqtt::Qos;
