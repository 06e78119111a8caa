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
//! the resource table, nothing else. Each folder generates its own bindings from its world in
//! `wit/world.wit`. The `registry!` list in this file is the one place that names them all.

pub mod capability;
pub mod client_tls;
pub mod config;
pub mod files;
pub mod instance;
pub mod key_value;
pub mod llm;
pub mod mqtt;
pub mod mysql;
pub mod outbound;
pub mod outbound_http;
pub mod postgres;
pub mod redis;
pub mod result_limit;
pub mod sockets;
pub mod sqlite;
pub mod variables;
pub mod virtual_services;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::{Linker, ResourceTable};

use crate::manifest::runtime_config::RuntimeConfigFile;
use crate::manifest::template::Template;
use crate::manifest::Manifest;
use anyhow::Context as _;
use capability::{AppContext, Capability, ComponentContext, View};
use outbound::OutboundGrant;
use variables::resolve::{AppVariables, ComponentVariables};
use virtual_services::VirtualServices;

/// Where an app keeps its state and what its runtime config says.
#[derive(Debug, Clone, Default)]
pub struct StateOptions {
    /// Where the default store and database files go; `<app>/.spin` when `None`.
    pub state_dir: Option<PathBuf>,
    /// `runtime-config.toml`, if any.
    pub runtime_config: Option<PathBuf>,
    /// The environment the `env` providers read; the process's own when `None`.
    pub environment: Option<BTreeMap<String, String>>,
    /// Values given with `--variable NAME=VALUE`, which come before every provider.
    pub variables: BTreeMap<String, String>,
    /// Where components' stdout and stderr go (log files, the terminal or not).
    pub output: crate::engine::guest_output::OutputOptions,
    /// Stand-ins for every server and store outside the host, for unit tests; `None` to
    /// reach the real ones.
    pub virtual_services: Option<Arc<dyn VirtualServices>>,
}

impl std::fmt::Debug for dyn VirtualServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VirtualServices")
    }
}

/// What one component may use, shared by all its instances.
pub struct ComponentCapabilities {
    /// The component's name, for logs.
    pub name: Arc<str>,
    /// The component's `environment`.
    pub environment: Vec<(String, String)>,
    /// Where its stdout and stderr go.
    pub output: crate::engine::guest_output::ComponentOutput,
    /// Its `allowed_outbound_hosts`, which outbound HTTP and sockets check.
    pub outbound: Arc<OutboundGrant>,
    /// Its `files`, staged; mounted read-only at `/`.
    pub files: Option<files::FilesRoot>,
    /// One grant per capability.
    pub grants: Grants,
}

/// Store data that holds its component's grants and a resource table: what the registry
/// links the capabilities against.
pub trait HasGrants: Send + 'static {
    /// The component's grants, the instance's resources, and its request's deadline.
    fn grants(&mut self) -> (&Grants, &mut ResourceTable, std::time::Instant);
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
            pub fn add_to_linker<T: HasGrants>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
                $(<$capability as Capability>::add_to_linker(linker, |state: &mut T| {
                    let (grants, table, deadline) = state.grants();
                    View {
                        grant: &grants.$field,
                        table,
                        deadline,
                    }
                })?;)*
                Ok(())
            }
        }
    };
}

registry! {
    /// `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue@0.2.0-draft2`.
    key_value: key_value::KeyValue,
    /// `fermyon:spin/sqlite@2.0.0` and `spin:sqlite/sqlite@3.0.0`.
    sqlite: sqlite::Sqlite,
    /// `fermyon:spin/variables@2.0.0`.
    variables: variables::Variables,
    /// `wasi:config/store@0.2.0-draft-2024-09-27`.
    config: config::Config,
    /// `fermyon:spin/postgres@2.0.0`, `spin:postgres/postgres@3.0.0` and `@4.0.0`.
    postgres: postgres::Postgres,
    /// `fermyon:spin/mysql@2.0.0` (and `rdbms-types`).
    mysql: mysql::Mysql,
    /// `fermyon:spin/redis@2.0.0`.
    redis: redis::Redis,
    /// `fermyon:spin/mqtt@2.0.0`.
    mqtt: mqtt::Mqtt,
    /// `fermyon:spin/llm@2.0.0`.
    llm: llm::Llm,
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
    /// `request_deadline` bounds what the host waits for on a request's behalf (a guest's
    /// SQLite statement, say).
    pub fn load(
        manifest: &Manifest,
        options: &StateOptions,
        request_deadline: std::time::Duration,
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
            &options.variables,
            environment,
            &runtime_config.variables_providers,
        ));
        let client_tls = Arc::new(match &options.runtime_config {
            Some(path) => client_tls::ClientTls::load(&runtime_config.client_tls)
                .with_context(|| path.display().to_string())?,
            None => client_tls::ClientTls::platform_only(),
        });
        let capabilities = Capabilities::load(&AppContext {
            manifest,
            runtime_config: &runtime_config,
            state_dir: &state_dir,
            variables: &variables,
            request_deadline,
            virtual_services: options.virtual_services.as_ref(),
        })?;
        let mut components = BTreeMap::new();
        for (name, component) in &manifest.components {
            let component_variables = Arc::new(ComponentVariables::new(
                variables.clone(),
                Manifest::variable_templates(component),
            ));
            let outbound = Arc::new(
                OutboundGrant::new(
                    name,
                    component,
                    component_variables.clone(),
                    client_tls.clone(),
                )
                .with_virtual_services(options.virtual_services.clone()),
            );
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
                    output: crate::engine::guest_output::ComponentOutput::open(
                        name,
                        &options.output,
                    )
                    .with_context(|| format!("the log files of component `{name}`"))?,
                    files: files::stage(manifest, name, component)?,
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

    /// The key-value store `label`, for seeding before serving.
    pub fn key_value_store(&self, label: &str) -> Option<&Arc<dyn key_value::store::Store>> {
        self.capabilities.key_value.get(label)
    }

    /// What component `name` may use; `None` when the manifest has no such component.
    pub fn component(&self, name: &str) -> Option<&Arc<ComponentCapabilities>> {
        self.components.get(name)
    }
}
