//! What the PostgreSQL and MySQL capabilities share (`fermyon:spin/rdbms-types@2.0.0`): the
//! names of parameter types, for messages. The grant check is
//! [`AllowedHosts::check`](super::outbound_http::AllowedHosts::check).

use super::bindings::fermyon::spin2_0_0::rdbms_types::{self, ParameterValue};
use crate::state::HostState;

impl rdbms_types::Host for HostState {}

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
