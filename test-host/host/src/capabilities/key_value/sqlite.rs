//! Key-value stores as rows of Spin's `spin_key_value` table in a SQLite file, filed under
//! their label so that several stores can share one file.

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use rusqlite::OptionalExtension;

use super::store::Store;
use crate::capabilities::sqlite::connection::SharedConnection;

/// The table every SQLite-backed store lives in (Spin's layout).
const STORE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key)
);";

/// A store filed under one label in a SQLite file, opened on first use.
pub struct SqliteStore {
    file: Arc<SharedConnection>,
    label: Arc<str>,
}

impl SqliteStore {
    /// The store filed under `label` in the SQLite file at `path`.
    pub fn new(path: PathBuf, label: &str) -> SqliteStore {
        SqliteStore {
            file: SharedConnection::new(path, STORE_SCHEMA),
            label: label.into(),
        }
    }

    /// Runs `work` with the label on the connection, without blocking the async runtime.
    fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Connection, &str) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'_, Result<T, String>> {
        let label = self.label.clone();
        Box::pin(async move { self.file.run(move |c| work(c, &label)).await })
    }
}

impl Store for SqliteStore {
    fn get(&self, key: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, String>> {
        self.run(move |c, label| {
            c.query_row(
                "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
                (label, &key),
                |row| row.get::<_, Vec<u8>>(0),
            )
            .optional()
        })
    }

    fn set(&self, key: String, value: Vec<u8>) -> BoxFuture<'_, Result<(), String>> {
        self.run(move |c, label| {
            c.execute(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                (label, &key, &value),
            )
            .map(drop)
        })
    }

    fn delete(&self, key: String) -> BoxFuture<'_, Result<(), String>> {
        self.run(move |c, label| {
            c.execute(
                "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2",
                (label, &key),
            )
            .map(drop)
        })
    }

    fn exists(&self, key: String) -> BoxFuture<'_, Result<bool, String>> {
        self.run(move |c, label| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2)",
                (label, &key),
                |row| row.get::<_, bool>(0),
            )
        })
    }

    fn keys(&self) -> BoxFuture<'_, Result<Vec<String>, String>> {
        self.run(move |c, label| {
            let mut statement =
                c.prepare("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
            let keys = statement.query_map([label], |row| row.get::<_, String>(0))?;
            keys.collect()
        })
    }

    fn increment(&self, key: String, delta: i64) -> BoxFuture<'_, Result<i64, String>> {
        self.run(move |c, label| {
            let transaction = c.unchecked_transaction()?;
            let current: Option<Vec<u8>> = transaction
                .query_row(
                    "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
                    (label, &key),
                    |row| row.get(0),
                )
                .optional()?;
            // Spin keeps counters as 8 little-endian bytes; anything else is not a counter.
            let current = match current {
                None => 0,
                Some(bytes) => match <[u8; 8]>::try_from(bytes.as_slice()) {
                    Ok(bytes) => i64::from_le_bytes(bytes),
                    Err(_) => return Err(not_a_counter(&key)),
                },
            };
            let sum = current
                .checked_add(delta)
                .ok_or_else(|| not_a_counter(&key))?;
            transaction.execute(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                (label, &key, sum.to_le_bytes().as_slice()),
            )?;
            transaction.commit()?;
            Ok(sum)
        })
    }

    fn swap_if(
        &self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> BoxFuture<'_, Result<bool, String>> {
        self.run(move |c, label| {
            let changed = match expected {
                Some(expected) => c.execute(
                    "UPDATE spin_key_value SET value = ?4 WHERE store = ?1 AND key = ?2 AND value = ?3",
                    (label, &key, &expected, &value),
                )?,
                None => c.execute(
                    "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT (store, key) DO NOTHING",
                    (label, &key, &value),
                )?,
            };
            Ok(changed == 1)
        })
    }
}

/// The error for an increment of a value that is not a counter, or one that would overflow.
fn not_a_counter(key: &str) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(
        format!("the value under {key:?} is not a 64-bit counter (8 little-endian bytes), or the sum overflows").into(),
    )
}
