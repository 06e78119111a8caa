//! What the PostgreSQL and MySQL capabilities share: the grant check on a database address,
//! and names of parameter types for messages (`fermyon:spin/rdbms-types@2.0.0`).

use super::bindings::fermyon::spin2_0_0::rdbms_types::{self, Error, ParameterValue};
use super::outbound_http::AllowedHosts;
use crate::state::HostState;

impl rdbms_types::Host for HostState {}

/// Where a database connection would go; never carries the user or password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseAddress {
    /// `postgres` or `mysql`, as `allowed_outbound_hosts` spells it.
    pub scheme: &'static str,
    /// The host name or IP address.
    pub host: String,
    /// The port.
    pub port: u16,
}

/// Refuses, before any connection is made, an address `allowed` does not grant.
pub fn check_grant(allowed: &AllowedHosts, address: &DatabaseAddress) -> Result<(), Error> {
    let DatabaseAddress { scheme, host, port } = address;
    if allowed.allows(scheme, host, *port) {
        return Ok(());
    }
    tracing::warn!("connection to {scheme}://{host}:{port} denied: not in allowed_outbound_hosts");
    Err(Error::ConnectionFailed(format!(
        "{scheme}://{host}:{port} is not in the component's allowed_outbound_hosts"
    )))
}

/// The name of a parameter's type, for messages.
pub fn kind_of(value: &ParameterValue) -> &'static str {
    match value {
        ParameterValue::Boolean(_) => "boolean",
        ParameterValue::Int8(_) => "int8",
        ParameterValue::Int16(_) => "int16",
        ParameterValue::Int32(_) => "int32",
        ParameterValue::Int64(_) => "int64",
        ParameterValue::Uint8(_) => "uint8",
        ParameterValue::Uint16(_) => "uint16",
        ParameterValue::Uint32(_) => "uint32",
        ParameterValue::Uint64(_) => "uint64",
        ParameterValue::Floating32(_) => "floating32",
        ParameterValue::Floating64(_) => "floating64",
        ParameterValue::Str(_) => "str",
        ParameterValue::Binary(_) => "binary",
        ParameterValue::DbNull => "NULL",
    }
}
