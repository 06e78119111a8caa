//! The capability layer: Spin's interfaces, one folder each, and the registry that puts them
//! together.
//!
//! Deny by default, like Spin: a component reaches only the stores and databases its
//! manifest entry lists, the hosts its `allowed_outbound_hosts` allows and the variables of
//! its own `variables` table; anything else is an error in the guest, and nothing is opened.
//!
//! Each capability implements [`Capability`]: what it keeps for the whole app (pools, store
//! backends), what one component is granted of that, and how it adds its interfaces to the
//! linker. Its host traits are implemented on a [`View`] of the store state: its own grant and
//! the resource table, nothing else. The [`registry!`] list at the bottom of this file is the
//! one place that names them all.

pub mod config;
pub mod instance;
pub mod key_value;
pub mod mqtt;
pub mod mysql;
pub mod outbound;
pub mod outbound_http;
pub mod postgres;
pub mod redis;
pub mod sockets;
pub mod sqlite;
pub mod variables;

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, ResourceTable};

use crate::manifest::runtime_config::RuntimeConfigFile;
use crate::manifest::template::Template;
use crate::manifest::{Component, Manifest};
pub use instance::{HostLinker, InstanceState};
use outbound::OutboundGrant;
use variables::{AppVariables, ComponentVariables};

/// Host bindings generated from the same `wit/` directory the guests use.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/host-world",
        imports: { default: async },
        exports: { default: async },
        with: {
            "fermyon:spin/key-value@2.0.0.store": crate::capabilities::key_value::OpenStore,
            "fermyon:spin/sqlite@2.0.0.connection": crate::capabilities::sqlite::OpenDatabase,
            "fermyon:spin/postgres@2.0.0.connection": crate::capabilities::postgres::PooledClient,
            "spin:postgres/postgres@4.0.0.connection": crate::capabilities::postgres::PooledClient,
            "fermyon:spin/mysql@2.0.0.connection": crate::capabilities::mysql::PooledConn,
            "fermyon:spin/redis@2.0.0.connection": crate::capabilities::redis::OpenRedis,
            "fermyon:spin/mqtt@2.0.0.connection": crate::capabilities::mqtt::OpenMqtt,
        },
    });
}

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

    /// Adds the capability's interfaces to `linker`; `view` projects an instance's state onto
    /// what the host traits are implemented on.
    fn add_to_linker(
        linker: &mut Linker<InstanceState>,
        view: fn(&mut InstanceState) -> View<'_, Self::Grant>,
    ) -> wasmtime::Result<()>;
}

/// What a capability sees of one instance: its component's grant and the resource table
/// where the guest's handles live. The host traits are implemented on this.
pub struct View<'a, G> {
    /// What the component was granted.
    pub grant: &'a G,
    /// The instance's resources.
    pub table: &'a mut ResourceTable,
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

/// The file name of the default key-value store, under the state directory (as Spin names it).
pub const DEFAULT_KEY_VALUE_FILE: &str = "sqlite_key_value.db";
/// The file name of the default SQLite database, under the state directory (as Spin names it).
pub const DEFAULT_SQLITE_FILE: &str = "sqlite_db.db";

/// Where an app keeps its state and what its runtime config says.
#[derive(Debug, Clone, Default)]
pub struct StateOptions {
    /// Where the default store and database files go; `<app>/.spin` when `None`.
    pub state_dir: Option<PathBuf>,
    /// `runtime-config.toml`, if any.
    pub runtime_config: Option<PathBuf>,
    /// The environment the `SPIN_VARIABLE_*` provider reads; the process's own when `None`.
    pub environment: Option<BTreeMap<String, String>>,
}

/// What one component may use, shared by all its instances.
pub struct ComponentCapabilities {
    /// The component's name, for logs.
    pub name: Arc<str>,
    /// The component's `environment`.
    pub environment: Vec<(String, String)>,
    /// Its `allowed_outbound_hosts`, which outbound HTTP and sockets check.
    pub outbound: Arc<OutboundGrant>,
    /// One grant per capability.
    pub grants: Grants,
}

/// Lists every capability once: the app's state, a component's grants and the linker all
/// follow from it. Adding a capability is a folder under `capabilities/` and a line here.
macro_rules! registry {
    ($($(#[$doc:meta])* $field:ident: $capability:ty,)*) => {
        /// Every capability's state for one app, shared by all its components and requests.
        pub struct Capabilities {
            $($(#[$doc])* pub $field: <$capability as Capability>::App,)*
        }

        /// Every capability's grant for one component.
        pub struct Grants {
            $($(#[$doc])* pub $field: <$capability as Capability>::Grant,)*
        }

        impl Capabilities {
            fn load(app: &AppContext<'_>) -> anyhow::Result<Capabilities> {
                Ok(Capabilities {
                    $($field: <$capability as Capability>::load(app)?,)*
                })
            }

            fn grant(&self, component: &ComponentContext<'_>) -> anyhow::Result<Grants> {
                Ok(Grants {
                    $($field: <$capability as Capability>::grant(&self.$field, component)?,)*
                })
            }

            /// Adds every capability's interfaces to `linker`.
            pub(crate) fn add_to_linker(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
                $(<$capability as Capability>::add_to_linker(linker, |state| View {
                    grant: &state.component.grants.$field,
                    table: &mut state.table,
                })?;)*
                Ok(())
            }
        }
    };
}

registry! {
    /// `fermyon:spin/key-value@2.0.0`.
    key_value: key_value::KeyValue,
    /// `fermyon:spin/sqlite@2.0.0`.
    sqlite: sqlite::Sqlite,
    /// `fermyon:spin/variables@2.0.0`.
    variables: variables::Variables,
    /// `wasi:config/store@0.2.0-draft-2024-09-27`.
    config: config::Config,
    /// `fermyon:spin/postgres@2.0.0` and `spin:postgres/postgres@4.0.0`.
    postgres: postgres::Postgres,
    /// `fermyon:spin/mysql@2.0.0` (and `rdbms-types`).
    mysql: mysql::Mysql,
    /// `fermyon:spin/redis@2.0.0`.
    redis: redis::Redis,
    /// `fermyon:spin/mqtt@2.0.0`.
    mqtt: mqtt::Mqtt,
}

/// Every capability of one app, and the variables they share.
pub struct AppCapabilities {
    manifest_path: PathBuf,
    variables: Arc<AppVariables>,
    /// Each capability's state.
    pub capabilities: Capabilities,
    components: BTreeMap<String, Arc<ComponentCapabilities>>,
}

impl AppCapabilities {
    /// Sets up every capability for `manifest` and grants each component what its manifest
    /// entry lists; refuses a grant of a store or database nobody configured, as Spin does.
    pub fn load(
        manifest: &Manifest,
        options: &StateOptions,
    ) -> anyhow::Result<Arc<AppCapabilities>> {
        let state_dir = options
            .state_dir
            .clone()
            .unwrap_or_else(|| manifest.dir().join(".spin"));
        let runtime_config = match &options.runtime_config {
            Some(path) => RuntimeConfigFile::load(path)?,
            None => RuntimeConfigFile::default(),
        };
        let environment: Vec<(String, String)> = match &options.environment {
            Some(environment) => environment.clone().into_iter().collect(),
            None => std::env::vars().collect(),
        };
        let variables = Arc::new(AppVariables::new(
            manifest,
            environment,
            &runtime_config.vaults,
        ));
        let capabilities = Capabilities::load(&AppContext {
            manifest,
            runtime_config: &runtime_config,
            state_dir: &state_dir,
            variables: &variables,
        })?;
        let mut components = BTreeMap::new();
        for (name, component) in &manifest.components {
            let component_variables = Arc::new(ComponentVariables::new(
                variables.clone(),
                Manifest::variable_templates(component),
            ));
            let outbound = Arc::new(OutboundGrant::new(component, component_variables.clone()));
            let grants = capabilities.grant(&ComponentContext {
                manifest,
                name,
                component,
                variables: &component_variables,
                outbound: &outbound,
            })?;
            components.insert(
                name.clone(),
                Arc::new(ComponentCapabilities {
                    name: name.as_str().into(),
                    environment: component.environment.clone().into_iter().collect(),
                    outbound,
                    grants,
                }),
            );
        }
        Ok(Arc::new(AppCapabilities {
            manifest_path: manifest.path.clone(),
            variables,
            capabilities,
            components,
        }))
    }

    /// Checks, before serving, what can only be checked with the providers at hand: every
    /// required variable has a value, and every component's `allowed_outbound_hosts`
    /// templates fill into valid entries.
    pub async fn check(&self) -> anyhow::Result<()> {
        self.variables.check_required(&self.manifest_path).await?;
        for (name, component) in &self.components {
            component.outbound.allowed_hosts().await.map_err(|e| {
                anyhow::anyhow!(
                    "{}: at `component.{name}.allowed_outbound_hosts`: {e}",
                    self.manifest_path.display()
                )
            })?;
        }
        Ok(())
    }

    /// Fills `{{ variable }}` templates in `text` from the app's variables.
    pub async fn fill_template(&self, text: &str) -> anyhow::Result<String> {
        let template = Template::parse(text)?;
        template
            .render_async(|name| async move { self.variables.resolve(&name).await })
            .await
            .map_err(anyhow::Error::from)
    }

    /// The SQLite database `name`, for running migrations before serving.
    pub fn sqlite_database(&self, name: &str) -> Option<&Arc<sqlite::Database>> {
        self.capabilities.sqlite.get(name)
    }

    /// What component `name` may use; `None` when the manifest has no such component.
    pub fn component(&self, name: &str) -> Option<&Arc<ComponentCapabilities>> {
        self.components.get(name)
    }
}
