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

use tokio::net::TcpStream;
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

/// A connection and the runtime to serve it on.
pub(super) struct Assigned {
    pub(super) runtime: Handle,
    pub(super) stream: Socket,
    pub(super) load: Load,
}

/// A connection's socket: still on the accepting runtime, or on its way to another.
pub(super) enum Socket {
    Here(TcpStream),
    Moving(std::net::TcpStream),
}

impl Socket {
    /// The socket on the runtime this is called on.
    pub(super) fn arrive(self) -> std::io::Result<TcpStream> {
        match self {
            Socket::Here(stream) => Ok(stream),
            Socket::Moving(stream) => TcpStream::from_std(stream),
        }
    }
}

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

    /// Where `stream` is to be served: the thread holding the fewest connections, with the
    /// socket readied to move to its event loop and the count to hold while it runs there;
    /// or the caller's runtime, the socket untouched, when there are no threads.
    pub(super) fn assign(&self, stream: TcpStream) -> std::io::Result<Assigned> {
        let Some(thread) = self
            .threads
            .iter()
            .min_by_key(|thread| thread.connections.load(Ordering::Relaxed))
        else {
            return Ok(Assigned {
                runtime: Handle::current(),
                stream: Socket::Here(stream),
                load: Load(None),
            });
        };
        // Out of this event loop now; into the thread's once the connection runs there.
        let stream = Socket::Moving(stream.into_std()?);
        thread.connections.fetch_add(1, Ordering::Relaxed);
        Ok(Assigned {
            runtime: thread.handle.clone(),
            stream,
            load: Load(Some(thread.connections.clone())),
        })
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
