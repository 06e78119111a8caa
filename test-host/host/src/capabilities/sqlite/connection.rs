//! One connection to a SQLite file, shared by every request: what SQLite databases and
//! SQLite-backed key-value stores are kept in.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One connection to a SQLite file, opened on first use and shared by every request.
///
/// SQLite serializes writers anyway; one connection behind a lock keeps that simple and loses
/// no write, and work on it runs on tokio's blocking pool so it never stalls other requests.
pub struct SharedConnection {
    path: PathBuf,
    setup: &'static str,
    connection: Mutex<Option<rusqlite::Connection>>,
}

impl SharedConnection {
    /// A connection to `path`; `setup` runs once when it opens (schema, pragmas).
    pub fn new(path: PathBuf, setup: &'static str) -> Arc<SharedConnection> {
        Arc::new(SharedConnection {
            path,
            setup,
            connection: Mutex::new(None),
        })
    }

    /// Runs `work` on the connection, opening it first if needed, off the async runtime.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let shared = self.clone();
        tokio::task::spawn_blocking(move || shared.run_blocking(work))
            .await
            .map_err(|e| format!("the database task failed: {e}"))?
    }

    /// Runs `work` on the connection on the current thread.
    pub fn run_blocking<T>(
        &self,
        work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, String> {
        let mut guard = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            *guard = Some(
                self.open()
                    .map_err(|e| format!("opening {}: {e}", self.path.display()))?,
            );
        }
        work(guard.as_ref().expect("opened above")).map_err(|e| e.to_string())
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let connection = rusqlite::Connection::open(&self.path)?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.execute_batch("PRAGMA journal_mode = WAL;")?;
        connection.execute_batch(self.setup)?;
        Ok(connection)
    }
}
