//! Spin's capability interfaces, one module each, and what a component is granted.
//!
//! Deny by default, like Spin: a component reaches only the stores and databases its
//! manifest entry lists, the hosts its `allowed_outbound_hosts` allows and the variables of
//! its own `variables` table; anything else is an error in the guest, and nothing is opened.

pub mod allowed_hosts;
pub mod key_value;
pub mod mqtt;
pub mod mysql;
pub mod outbound_http;
pub mod postgres;
pub mod rdbms;
pub mod redis;
pub mod sockets;
pub mod sqlite;
pub mod variables;
pub mod vault;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use wasmtime::component::{HasSelf, Linker};

use crate::manifest::{Component, Manifest};
use crate::runtime_config::{KeyValueStoreConfig, RuntimeConfigFile, SqliteDatabaseConfig};
use crate::state::HostState;
use crate::template::Template;
use allowed_hosts::AllowedHosts;
use variables::{AppVariables, ComponentVariables};

/// Host bindings generated from the same `wit/` directory the guests use.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
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

/// The file name of the default key-value store, under the state directory (as Spin names it).
pub const DEFAULT_KEY_VALUE_FILE: &str = "sqlite_key_value.db";
/// The file name of the default SQLite database, under the state directory (as Spin names it).
pub const DEFAULT_SQLITE_FILE: &str = "sqlite_db.db";

/// Every store and database an app can use, shared by all its components and requests.
pub struct AppCapabilities {
    key_value_stores: BTreeMap<String, Arc<key_value::StoreBackend>>,
    sqlite_databases: BTreeMap<String, Arc<sqlite::Database>>,
    variables: Arc<AppVariables>,
    postgres: postgres::PostgresPools,
    mysql: mysql::MysqlPools,
    redis: redis::RedisConnections,
}

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

impl AppCapabilities {
    /// Sets up the default store and database and those of the runtime config.
    ///
    /// Backends connect lazily, on first use, so a server that is down fails the requests
    /// that need it rather than the whole app.
    pub fn load(
        manifest: &Manifest,
        options: &StateOptions,
    ) -> anyhow::Result<Arc<AppCapabilities>> {
        let state_dir = options
            .state_dir
            .clone()
            .unwrap_or_else(|| manifest.dir().join(".spin"));
        let config = match &options.runtime_config {
            Some(path) => RuntimeConfigFile::load(path)?,
            None => RuntimeConfigFile::default(),
        };
        let default_kv = state_dir.join(DEFAULT_KEY_VALUE_FILE);
        let mut key_value_stores = BTreeMap::new();
        key_value_stores.insert(
            "default".to_owned(),
            Arc::new(key_value::StoreBackend::sqlite(
                default_kv.clone(),
                "default",
            )),
        );
        for (label, store) in &config.key_value_stores {
            let backend = match store {
                KeyValueStoreConfig::Sqlite(path) => key_value::StoreBackend::sqlite(
                    path.clone().unwrap_or_else(|| default_kv.clone()),
                    label,
                ),
                KeyValueStoreConfig::Redis { url } => key_value::StoreBackend::redis(url)
                    .with_context(|| format!("key-value store `{label}`: bad Redis URL {url:?}"))?,
            };
            key_value_stores.insert(label.clone(), Arc::new(backend));
        }

        let mut sqlite_databases = BTreeMap::new();
        sqlite_databases.insert(
            "default".to_owned(),
            Arc::new(sqlite::Database::new(state_dir.join(DEFAULT_SQLITE_FILE))),
        );
        for (name, SqliteDatabaseConfig::File(path)) in &config.sqlite_databases {
            let path = path
                .clone()
                .unwrap_or_else(|| state_dir.join(format!("sqlite_db_{name}.db")));
            sqlite_databases.insert(name.clone(), Arc::new(sqlite::Database::new(path)));
        }

        let environment: Vec<(String, String)> = match &options.environment {
            Some(environment) => environment.clone().into_iter().collect(),
            None => std::env::vars().collect(),
        };
        let capabilities = AppCapabilities {
            key_value_stores,
            sqlite_databases,
            variables: Arc::new(AppVariables::new(manifest, environment, config.vaults)),
            postgres: postgres::PostgresPools::default(),
            mysql: mysql::MysqlPools::default(),
            redis: redis::RedisConnections::default(),
        };
        for (name, component) in &manifest.components {
            capabilities.check_grants(&manifest.path, name, component)?;
        }
        Ok(Arc::new(capabilities))
    }

    /// Refuses a manifest that grants a store or database nobody configured, as Spin does.
    fn check_grants(
        &self,
        manifest: &Path,
        name: &str,
        component: &Component,
    ) -> anyhow::Result<()> {
        for label in &component.key_value_stores {
            if !self.key_value_stores.contains_key(label) {
                anyhow::bail!(
                    "{}: component `{name}` uses key-value store `{label}`, which is neither `default` nor defined in the runtime config (`[key_value_store.{label}]`)",
                    manifest.display()
                );
            }
        }
        for database in &component.sqlite_databases {
            if !self.sqlite_databases.contains_key(database) {
                anyhow::bail!(
                    "{}: component `{name}` uses SQLite database `{database}`, which is neither `default` nor defined in the runtime config (`[sqlite_database.{database}]`)",
                    manifest.display()
                );
            }
        }
        Ok(())
    }

    /// Checks, before serving, what can only be checked with the providers at hand: every
    /// required variable has a value, and every component's `allowed_outbound_hosts`
    /// templates fill into valid entries.
    pub async fn check(self: &Arc<Self>, manifest: &Manifest) -> anyhow::Result<()> {
        self.variables.check_required(&manifest.path).await?;
        for (name, component) in &manifest.components {
            self.grants_for(component)
                .allowed_outbound_hosts()
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{}: at `component.{name}.allowed_outbound_hosts`: {e}",
                        manifest.path.display()
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

    /// What `component` may open.
    pub fn grants_for(self: &Arc<Self>, component: &Component) -> Arc<ComponentGrants> {
        let outbound_templates = component
            .allowed_outbound_hosts
            .iter()
            .filter_map(|entry| Template::parse(entry.get_ref()).ok())
            .collect();
        Arc::new(ComponentGrants {
            app: self.clone(),
            key_value_stores: component.key_value_stores.iter().cloned().collect(),
            sqlite_databases: component.sqlite_databases.iter().cloned().collect(),
            variables: ComponentVariables::new(
                self.variables.clone(),
                Manifest::variable_templates(component),
            ),
            outbound_templates,
            allowed_outbound_hosts: tokio::sync::OnceCell::new(),
        })
    }

    /// The SQLite database `name`, for running migrations before serving.
    pub fn sqlite_database(&self, name: &str) -> Option<&Arc<sqlite::Database>> {
        self.sqlite_databases.get(name)
    }
}

/// What one component may open, by label or name, read and call.
pub struct ComponentGrants {
    app: Arc<AppCapabilities>,
    key_value_stores: HashSet<String>,
    sqlite_databases: HashSet<String>,
    variables: ComponentVariables,
    outbound_templates: Vec<Template>,
    allowed_outbound_hosts: tokio::sync::OnceCell<Arc<AllowedHosts>>,
}

impl ComponentGrants {
    /// Whether `allowed_outbound_hosts` has any entry at all.
    pub fn may_connect_out(&self) -> bool {
        !self.outbound_templates.is_empty()
    }

    /// The component's `allowed_outbound_hosts`, its templates filled from the variables on
    /// first use and kept from then on.
    pub async fn allowed_outbound_hosts(&self) -> Result<Arc<AllowedHosts>, String> {
        self.allowed_outbound_hosts
            .get_or_try_init(|| async {
                let mut entries = Vec::new();
                for template in &self.outbound_templates {
                    entries.push(
                        template
                            .render_async(|name| async move {
                                self.variables.resolve_for_outbound(&name).await
                            })
                            .await?,
                    );
                }
                AllowedHosts::parse(entries.iter().map(String::as_str)).map(Arc::new)
            })
            .await
            .cloned()
    }
}

/// Adds every capability interface to `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    use bindings::fermyon::spin2_0_0;
    spin2_0_0::key_value::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    spin2_0_0::sqlite::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    spin2_0_0::variables::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    spin2_0_0::rdbms_types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    spin2_0_0::postgres::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    bindings::spin::postgres::postgres::add_to_linker::<HostState, HasSelf<HostState>>(
        linker,
        |state| state,
    )?;
    spin2_0_0::mysql::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    spin2_0_0::redis::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    spin2_0_0::mqtt::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    Ok(())
}
