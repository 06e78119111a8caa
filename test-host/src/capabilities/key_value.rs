//! `fermyon:spin/key-value@2.0.0`: stores kept in a SQLite file (the default) or on a Redis
//! server.

use std::path::PathBuf;
use std::sync::Arc;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use rusqlite::OptionalExtension;
use wasmtime::component::Resource;

use super::bindings::fermyon::spin2_0_0::key_value::{self, Error};
use super::sqlite::SharedConnection;
use crate::state::HostState;

/// A store the guest has opened: the handle behind the `store` resource.
pub struct OpenStore {
    backend: Arc<StoreBackend>,
}

/// Where a store's data lives.
pub enum StoreBackend {
    /// Rows of the `spin_key_value` table in a SQLite file, under this store's label.
    Sqlite {
        /// The file, opened on first use.
        file: Arc<SharedConnection>,
        /// The label the rows are filed under, so that several stores can share a file.
        label: String,
    },
    /// Keys of a Redis database.
    Redis {
        /// The server.
        client: redis::Client,
        /// One multiplexed connection shared by every request, made on first use.
        connection: tokio::sync::OnceCell<ConnectionManager>,
    },
}

/// The table every SQLite-backed store lives in (Spin's layout).
const STORE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key)
);";

impl StoreBackend {
    /// A store filed under `label` in the SQLite file at `path`.
    pub fn sqlite(path: PathBuf, label: &str) -> StoreBackend {
        StoreBackend::Sqlite {
            file: SharedConnection::new(path, STORE_SCHEMA),
            label: label.to_owned(),
        }
    }

    /// A store on the Redis server at `url`.
    pub fn redis(url: &str) -> anyhow::Result<StoreBackend> {
        Ok(StoreBackend::Redis {
            client: redis::Client::open(url)?,
            connection: tokio::sync::OnceCell::new(),
        })
    }

    async fn redis_connection(
        client: &redis::Client,
        cell: &tokio::sync::OnceCell<ConnectionManager>,
    ) -> Result<ConnectionManager, Error> {
        cell.get_or_try_init(|| {
            ConnectionManager::new_with_config(client.clone(), super::redis::connection_config())
        })
        .await
        .cloned()
        .map_err(|e| Error::Other(format!("connecting to Redis: {e}")))
    }

    /// Runs `work` on the SQLite connection without blocking the async runtime.
    async fn on_sqlite<T: Send + 'static>(
        file: &Arc<SharedConnection>,
        label: &str,
        work: impl FnOnce(&rusqlite::Connection, &str) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, Error> {
        let label = label.to_owned();
        file.run(move |c| work(c, &label))
            .await
            .map_err(Error::Other)
    }

    /// The value under `key`.
    pub async fn get(&self, key: String) -> Result<Option<Vec<u8>>, Error> {
        match self {
            StoreBackend::Sqlite { file, label } => {
                Self::on_sqlite(file, label, move |c, label| {
                    c.query_row(
                        "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
                        (label, &key),
                        |row| row.get::<_, Vec<u8>>(0),
                    )
                    .optional()
                })
                .await
            }
            StoreBackend::Redis { client, connection } => {
                let mut redis = Self::redis_connection(client, connection).await?;
                redis.get(key).await.map_err(redis_error)
            }
        }
    }

    /// Writes `value` under `key`.
    pub async fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
        match self {
            StoreBackend::Sqlite { file, label } => {
                Self::on_sqlite(file, label, move |c, label| {
                    c.execute(
                        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                        (label, &key, &value),
                    )
                    .map(drop)
                })
                .await
            }
            StoreBackend::Redis { client, connection } => {
                let mut redis = Self::redis_connection(client, connection).await?;
                redis.set(key, value).await.map_err(redis_error)
            }
        }
    }

    /// Removes `key`.
    pub async fn delete(&self, key: String) -> Result<(), Error> {
        match self {
            StoreBackend::Sqlite { file, label } => {
                Self::on_sqlite(file, label, move |c, label| {
                    c.execute(
                        "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2",
                        (label, &key),
                    )
                    .map(drop)
                })
                .await
            }
            StoreBackend::Redis { client, connection } => {
                let mut redis = Self::redis_connection(client, connection).await?;
                redis.del(key).await.map_err(redis_error)
            }
        }
    }

    /// Whether `key` holds a value.
    pub async fn exists(&self, key: String) -> Result<bool, Error> {
        match self {
            StoreBackend::Sqlite { file, label } => {
                Self::on_sqlite(file, label, move |c, label| {
                    c.query_row(
                        "SELECT EXISTS (SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2)",
                        (label, &key),
                        |row| row.get::<_, bool>(0),
                    )
                })
                .await
            }
            StoreBackend::Redis { client, connection } => {
                let mut redis = Self::redis_connection(client, connection).await?;
                redis.exists(key).await.map_err(redis_error)
            }
        }
    }

    /// Every key in the store.
    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        match self {
            StoreBackend::Sqlite { file, label } => {
                Self::on_sqlite(file, label, move |c, label| {
                    let mut statement =
                        c.prepare("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
                    let keys = statement.query_map([label], |row| row.get::<_, String>(0))?;
                    keys.collect()
                })
                .await
            }
            StoreBackend::Redis { client, connection } => {
                let mut redis = Self::redis_connection(client, connection).await?;
                let mut keys: Vec<String> = redis.keys("*").await.map_err(redis_error)?;
                keys.sort();
                Ok(keys)
            }
        }
    }
}

fn redis_error(error: redis::RedisError) -> Error {
    Error::Other(format!("Redis: {error}"))
}

impl HostState {
    fn open_store(&self, store: &Resource<OpenStore>) -> Result<Arc<StoreBackend>, Error> {
        self.table
            .get(store)
            .map(|open| open.backend.clone())
            .map_err(|e| Error::Other(format!("invalid store handle: {e}")))
    }
}

impl key_value::Host for HostState {}

impl key_value::HostStore for HostState {
    async fn open(&mut self, label: String) -> Result<Resource<OpenStore>, Error> {
        if !self.grants.key_value_stores.contains(&label) {
            return Err(Error::AccessDenied);
        }
        let Some(backend) = self.grants.app.key_value_stores.get(&label) else {
            return Err(Error::NoSuchStore);
        };
        let backend = backend.clone();
        self.table
            .push(OpenStore { backend })
            .map_err(|_| Error::StoreTableFull)
    }

    async fn get(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> Result<Option<Vec<u8>>, Error> {
        self.open_store(&store)?.get(key).await
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        self.open_store(&store)?.set(key, value).await
    }

    async fn delete(&mut self, store: Resource<OpenStore>, key: String) -> Result<(), Error> {
        self.open_store(&store)?.delete(key).await
    }

    async fn exists(&mut self, store: Resource<OpenStore>, key: String) -> Result<bool, Error> {
        self.open_store(&store)?.exists(key).await
    }

    async fn get_keys(&mut self, store: Resource<OpenStore>) -> Result<Vec<String>, Error> {
        self.open_store(&store)?.keys().await
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
