//! What the PostgreSQL and MySQL capabilities share (`fermyon:spin/rdbms-types@2.0.0`): the
//! interface has types only. The grant check is
//! [`AllowedHosts::check`](super::allowed_hosts::AllowedHosts::check).

use super::bindings::fermyon::spin2_0_0::rdbms_types;
use crate::state::HostState;

impl rdbms_types::Host for HostState {}
