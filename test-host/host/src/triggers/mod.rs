//! The trigger layer: what turns the outside world's events into guest calls. The HTTP
//! trigger ([`http`], with Spin's routes and the WAGI executor) runs a fresh instance per
//! request; the Redis trigger ([`redis`]) one per message.

pub mod http;
pub mod redis;

use std::sync::Arc;

use anyhow::Context as _;

use crate::capabilities::{AppCapabilities, ComponentCapabilities};
use crate::manifest::Manifest;

/// What `capabilities` grants component `name` of `manifest`.
fn granted(
    capabilities: &AppCapabilities,
    manifest: &Manifest,
    name: &str,
) -> anyhow::Result<Arc<ComponentCapabilities>> {
    capabilities
        .component(name)
        .cloned()
        .with_context(|| format!("{}: no component `{name}`", manifest.path.display()))
}
