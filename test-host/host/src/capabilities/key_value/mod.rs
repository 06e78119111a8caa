//! `fermyon:spin/key-value@2.0.0` and the `wasi:keyvalue` draft Spin 3 links ([`wasi`]):
//! stores behind the [`Store`] trait, kept in a SQLite file
//! (the default, [`sqlite`]) or on a Redis server ([`redis`]), as `runtime-config.toml`'s
//! `[key_value_store.LABEL]` says.
//!
//! Every app has a `default` store in `<state dir>/sqlite_key_value.db`; a component opens
//! only the labels its `key_value_stores` lists (`access-denied` otherwise).

pub mod redis;
pub mod sqlite;
pub mod store;
pub mod wasi;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::Context as _;
use wasmtime::component::{Linker, Resource};

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use crate::manifest::runtime_config::KeyValueStoreConfig;
use bindings::fermyon::spin2_0_0::key_value::{self, Error};
use store::Store;

/// Host bindings of `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue@0.2.0-draft2`, from
/// `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/key-value-host",
        imports: { default: async },
        with: {
            "fermyon:spin/key-value@2.0.0.store": super::OpenStore,
            "wasi:keyvalue/store@0.2.0-draft2.bucket": super::OpenStore,
            "wasi:keyvalue/atomics@0.2.0-draft2.cas": super::wasi::Cas,
        },
    });
}

/// The file name of the default key-value store, under the state directory (as Spin names it).
pub const DEFAULT_KEY_VALUE_FILE: &str = "sqlite_key_value.db";

/// The key-value capability.
pub struct KeyValue;

/// The stores one component may open, by label.
pub struct KeyValueGrant {
    stores: HashMap<String, Arc<dyn Store>>,
}

/// A store the guest has opened: the handle behind the `store` resource.
pub struct OpenStore {
    store: Arc<dyn Store>,
}

impl Capability for KeyValue {
    type App = BTreeMap<String, Arc<dyn Store>>;
    type Grant = KeyValueGrant;

    fn load(app: &AppContext<'_>) -> anyhow::Result<Self::App> {
        if let Some(services) = app.virtual_services {
            // A unit test holds every store a component may name, configured or not.
            let labels = std::iter::once("default").chain(
                app.manifest
                    .components
                    .values()
                    .flat_map(|c| c.key_value_stores.iter().map(String::as_str)),
            );
            return Ok(labels
                .map(|label| (label.to_owned(), services.key_value_store(label)))
                .collect());
        }
        let default_file = app.state_dir.join(DEFAULT_KEY_VALUE_FILE);
        let mut stores: Self::App = BTreeMap::new();
        stores.insert(
            "default".to_owned(),
            Arc::new(sqlite::SqliteStore::new(default_file.clone(), "default")),
        );
        for (label, config) in &app.runtime_config.key_value_stores {
            let store: Arc<dyn Store> = match config {
                KeyValueStoreConfig::Sqlite(path) => Arc::new(sqlite::SqliteStore::new(
                    path.clone().unwrap_or_else(|| default_file.clone()),
                    label,
                )),
                KeyValueStoreConfig::Redis { url, prefix } => {
                    let prefix = prefix.clone().unwrap_or_else(|| format!("{label}:"));
                    Arc::new(redis::RedisStore::new(url, &prefix).with_context(|| {
                        format!("key-value store `{label}`: bad Redis URL {url:?}")
                    })?)
                }
            };
            stores.insert(label.clone(), store);
        }
        Ok(stores)
    }

    fn grant(app: &Self::App, component: &ComponentContext<'_>) -> anyhow::Result<KeyValueGrant> {
        let mut stores = HashMap::new();
        for label in &component.component.key_value_stores {
            let Some(store) = app.get(label) else {
                anyhow::bail!(
                    "{}: component `{}` uses key-value store `{label}`, which is neither `default` nor defined in the runtime config (`[key_value_store.{label}]`)",
                    component.manifest.path.display(),
                    component.name
                );
            };
            stores.insert(label.clone(), store.clone());
        }
        Ok(KeyValueGrant { stores })
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, KeyValueGrant>,
    ) -> wasmtime::Result<()> {
        key_value::add_to_linker::<_, HasView<KeyValueGrant>>(linker, view)?;
        use bindings::wasi::keyvalue::{atomics, batch, store};
        store::add_to_linker::<_, HasView<KeyValueGrant>>(linker, view)?;
        atomics::add_to_linker::<_, HasView<KeyValueGrant>>(linker, view)?;
        batch::add_to_linker::<_, HasView<KeyValueGrant>>(linker, view)
    }
}

impl View<'_, KeyValueGrant> {
    fn store(&self, store: &Resource<OpenStore>) -> Result<Arc<dyn Store>, Error> {
        self.table
            .get(store)
            .map(|open| open.store.clone())
            .map_err(|e| Error::Other(format!("invalid store handle: {e}")))
    }
}

impl key_value::Host for View<'_, KeyValueGrant> {}

impl key_value::HostStore for View<'_, KeyValueGrant> {
    async fn open(&mut self, label: String) -> Result<Resource<OpenStore>, Error> {
        let Some(store) = self.grant.stores.get(&label) else {
            return Err(Error::AccessDenied);
        };
        let store = store.clone();
        self.table
            .push(OpenStore { store })
            .map_err(|_| Error::StoreTableFull)
    }

    async fn get(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> Result<Option<Vec<u8>>, Error> {
        self.store(&store)?.get(key).await.map_err(Error::Other)
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        self.store(&store)?
            .set(key, value)
            .await
            .map_err(Error::Other)
    }

    async fn delete(&mut self, store: Resource<OpenStore>, key: String) -> Result<(), Error> {
        self.store(&store)?.delete(key).await.map_err(Error::Other)
    }

    async fn exists(&mut self, store: Resource<OpenStore>, key: String) -> Result<bool, Error> {
        self.store(&store)?.exists(key).await.map_err(Error::Other)
    }

    async fn get_keys(&mut self, store: Resource<OpenStore>) -> Result<Vec<String>, Error> {
        self.store(&store)?.keys().await.map_err(Error::Other)
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
