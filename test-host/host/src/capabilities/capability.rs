//! What every capability implements ([`Capability`]) and what it is handed: the app's and a
//! component's context while the app loads, and a [`View`] of an instance at each call.

use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, ResourceTable};

use super::outbound::OutboundGrant;
use super::variables::resolve::{AppVariables, ComponentVariables};
use super::virtual_services::VirtualServices;
use crate::manifest::runtime_config::RuntimeConfigFile;
use crate::manifest::{Component, Manifest};

/// One of Spin's capabilities, as the host provides it.
pub trait Capability {
    /// What the capability keeps for the whole app: backends, pools, connections. Shared by
    /// every component and request.
    type App: Send + Sync + 'static;
    /// What one component is granted: the part of [`Capability::App`] its manifest entry
    /// allows. Shared by every instance of the component.
    type Grant: Send + Sync + 'static;

    /// Sets up the app's side from the manifest and the runtime config. Backends connect
    /// lazily, on first use, so a server that is down fails the requests that need it rather
    /// than the whole app.
    fn load(app: &AppContext<'_>) -> anyhow::Result<Self::App>;

    /// What `component` may use; an error (naming the manifest and the key) when its
    /// manifest entry grants something the app does not have.
    fn grant(app: &Self::App, component: &ComponentContext<'_>) -> anyhow::Result<Self::Grant>;

    /// Adds the capability's interfaces to `linker`; `view` projects an instance's state
    /// onto what the host traits are implemented on.
    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, Self::Grant>,
    ) -> wasmtime::Result<()>;
}

/// What a capability sees of one instance: its component's grant, the resource table
/// where the guest's handles live, and when its request must be done. The host traits are
/// implemented on this.
pub struct View<'a, G> {
    /// What the component was granted.
    pub grant: &'a G,
    /// The instance's resources.
    pub table: &'a mut ResourceTable,
    /// The request's deadline: a host-side wait (a SQL statement, say) ends by then, so
    /// the guest still gets its error before the host gives up on the guest.
    pub deadline: std::time::Instant,
}

/// The [`HasData`] marker that tells the generated `add_to_linker` functions to hand the host
/// traits a [`View`] of grant `G`.
pub struct HasView<G>(PhantomData<G>);

impl<G: Send + Sync + 'static> HasData for HasView<G> {
    type Data<'a> = View<'a, G>;
}

/// What a capability can read while the app loads.
pub struct AppContext<'a> {
    /// The app's manifest.
    pub manifest: &'a Manifest,
    /// The runtime config (empty when none was given).
    pub runtime_config: &'a RuntimeConfigFile,
    /// Where the default stores and databases are kept.
    pub state_dir: &'a Path,
    /// The app's variables and their providers.
    pub variables: &'a Arc<AppVariables>,
    /// How long one request may run: what bounds the host's own waits on its behalf.
    pub request_deadline: std::time::Duration,
    /// The stand-ins a unit test provides for stores and servers, if any.
    pub virtual_services: Option<&'a Arc<dyn VirtualServices>>,
}

/// What a capability can read while it grants one component.
pub struct ComponentContext<'a> {
    /// The app's manifest, for error messages.
    pub manifest: &'a Manifest,
    /// The component's name.
    pub name: &'a str,
    /// The component's manifest entry.
    pub component: &'a Component,
    /// The component's variables.
    pub variables: &'a Arc<ComponentVariables>,
    /// The component's `allowed_outbound_hosts`.
    pub outbound: &'a Arc<OutboundGrant>,
}
