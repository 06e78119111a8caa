//! The threads that serve HTTP connections: each runs a single-threaded tokio runtime, so a
//! connection, its requests and their guests stay on one thread and one event loop.
//!
//! On a shared work-stealing pool, requests cross threads (the socket's readiness comes
//! from one event loop, the guest's task can be taken by another worker), and under many
//! connections the wake-ups between threads cost more than the hello's guest: on 2 cores,
//! the hello at 16 connections went from 40,400 to 53,900 requests/s with one thread per
//! core. A single client is answered sooner by the shared pool (p50 1.18x a native server's
//! against 1.58x), so it stays the default (`cargo xtask bench --only hello` measures both).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::runtime::Handle;

/// One serving thread: where to spawn on it, and how many connections it holds.
struct ServerThread {
    handle: Handle,
    connections: Arc<AtomicUsize>,
}

/// Threads for one server; they stop when this is dropped, dropping whatever still runs on
/// them (the server drains its connections first).
pub(super) struct ServerThreads {
    threads: Vec<ServerThread>,
    /// Closed on drop, which ends every thread's event loop.
    _stop: tokio::sync::watch::Sender<()>,
}

/// A connection counted on its thread until this is dropped.
pub(super) struct Load(Option<Arc<AtomicUsize>>);

impl Drop for Load {
    fn drop(&mut self) {
        if let Some(count) = &self.0 {
            count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl ServerThreads {
    /// Starts `count` threads. With 0, or when no thread can be started, connections run
    /// on the caller's runtime.
    pub(super) fn start(count: usize) -> ServerThreads {
        let (stop, stopped) = tokio::sync::watch::channel(());
        let threads = (0..count)
            .map_while(|index| match spawn(index, stopped.clone()) {
                Ok(handle) => Some(ServerThread {
                    handle,
                    connections: Arc::new(AtomicUsize::new(0)),
                }),
                Err(error) => {
                    tracing::warn!("HTTP server thread {index} did not start: {error}");
                    None
                }
            })
            .collect();
        ServerThreads {
            threads,
            _stop: stop,
        }
    }

    /// The thread holding the fewest connections, and the count to hold while one runs
    /// there; the caller's runtime when there are no threads.
    pub(super) fn least_loaded(&mut self) -> (Handle, Load) {
        match self
            .threads
            .iter()
            .min_by_key(|thread| thread.connections.load(Ordering::Relaxed))
        {
            Some(thread) => {
                thread.connections.fetch_add(1, Ordering::Relaxed);
                (
                    thread.handle.clone(),
                    Load(Some(thread.connections.clone())),
                )
            }
            None => (Handle::current(), Load(None)),
        }
    }
}

/// A thread running a single-threaded runtime until `stopped` closes; its handle.
fn spawn(index: usize, mut stopped: tokio::sync::watch::Receiver<()>) -> std::io::Result<Handle> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name(format!("rotor-http-{index}"))
        .spawn(move || {
            runtime.block_on(async move {
                // Ends with an error once the sender is dropped.
                while stopped.changed().await.is_ok() {}
            });
        })?;
    Ok(handle)
}
