//! Connections to SQLite files: one shared by every request for what the host itself runs
//! (key-value stores, `rotor up --sqlite` scripts), and one per open guest handle for guest
//! SQL, fenced in (see [`GuestConnection`]).

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
        make_parent_dir(&self.path);
        let connection = rusqlite::Connection::open(&self.path)?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.execute_batch("PRAGMA journal_mode = WAL;")?;
        connection.execute_batch(self.setup)?;
        Ok(connection)
    }
}

/// Makes the directory a database file goes in; a `file:` URI (an in-memory database of a
/// unit test) has none.
fn make_parent_dir(path: &std::path::Path) {
    if path.to_str().is_some_and(|text| text.starts_with("file:")) {
        return;
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
}

/// A guest's own connection to a database, made when it opens the database and closed when
/// the handle (or the instance) goes away.
///
/// Guests run arbitrary SQL, so their connection is fenced in: no `ATTACH` (the limit is 0
/// and the authorizer refuses it), no `load_extension`, and a statement still running at its
/// deadline is interrupted. A connection of its own means a transaction a guest leaves open
/// holds only its own work, and SQLite rolls it back when the connection closes with the
/// instance; other requests' writes are never part of it.
pub struct GuestConnection {
    connection: Arc<Mutex<rusqlite::Connection>>,
    /// When the running statement must stop, as milliseconds since `epoch`.
    deadline: Arc<std::sync::atomic::AtomicU64>,
    epoch: std::time::Instant,
    statement_limit: Duration,
}

/// How many SQLite virtual-machine steps run between deadline checks.
const PROGRESS_STEPS: i32 = 10_000;

impl GuestConnection {
    /// Opens `path` for a guest, whose statements may each run for `statement_limit`.
    pub async fn open(path: PathBuf, statement_limit: Duration) -> Result<GuestConnection, String> {
        tokio::task::spawn_blocking(move || GuestConnection::open_blocking(&path, statement_limit))
            .await
            .map_err(|e| format!("the database task failed: {e}"))?
    }

    fn open_blocking(
        path: &std::path::Path,
        statement_limit: Duration,
    ) -> Result<GuestConnection, String> {
        let opened = || -> rusqlite::Result<rusqlite::Connection> {
            make_parent_dir(path);
            let connection = rusqlite::Connection::open(path)?;
            connection.busy_timeout(Duration::from_secs(5))?;
            connection.execute_batch("PRAGMA journal_mode = WAL;")?;
            connection.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0)?;
            connection.authorizer(Some(|context: rusqlite::hooks::AuthContext<'_>| {
                use rusqlite::hooks::{AuthAction, Authorization};
                match context.action {
                    AuthAction::Attach { .. } | AuthAction::Detach { .. } => Authorization::Deny,
                    AuthAction::Function { function_name }
                        if function_name.eq_ignore_ascii_case("load_extension") =>
                    {
                        Authorization::Deny
                    }
                    _ => Authorization::Allow,
                }
            }));
            Ok(connection)
        };
        let connection = opened().map_err(|e| format!("opening {}: {e}", path.display()))?;
        let epoch = std::time::Instant::now();
        let deadline = Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
        let watched = deadline.clone();
        connection.progress_handler(
            PROGRESS_STEPS,
            Some(move || {
                let now = epoch.elapsed().as_millis() as u64;
                now > watched.load(std::sync::atomic::Ordering::Relaxed)
            }),
        );
        Ok(GuestConnection {
            connection: Arc::new(Mutex::new(connection)),
            deadline,
            epoch,
            statement_limit,
        })
    }

    /// Runs `work` on the connection off the async runtime; a statement still running after
    /// the statement limit, or at `until` (the request's deadline) if that comes first, is
    /// interrupted and fails.
    pub async fn run<T: Send + 'static>(
        &self,
        until: std::time::Instant,
        work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let connection = self.connection.clone();
        let deadline = self.deadline.clone();
        let limit_ends = self.epoch.elapsed() + self.statement_limit;
        let stop_at = limit_ends
            .min(until.saturating_duration_since(self.epoch))
            .as_millis() as u64;
        let limit = self.statement_limit;
        tokio::task::spawn_blocking(move || {
            let connection = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            deadline.store(stop_at, std::sync::atomic::Ordering::Relaxed);
            let result = work(&connection);
            deadline.store(u64::MAX, std::sync::atomic::Ordering::Relaxed);
            result.map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::OperationInterrupted) => {
                    format!("the statement ran past its {limit:?} limit and was stopped")
                }
                _ => e.to_string(),
            })
        })
        .await
        .map_err(|e| format!("the database task failed: {e}"))?
    }
}
