//! `rotor-host`: the wasmtime-based runtime behind the `rotor` command, in layers that only
//! import downward (see `ARCHITECTURE.md` at the repository root):
//!
//! 1. [`manifest`]: Spin's `spin.toml` and `runtime-config.toml`, `{{ variable }}` templates
//!    and `allowed_outbound_hosts` entries, parsed and checked. Pure data.
//! 2. [`engine`]: the wasmtime engine, compilation and its cache, stores with deadlines and
//!    memory caps.
//! 3. [`capabilities`]: Spin's interfaces, one folder each (key-value, SQLite, variables,
//!    `wasi:config`, PostgreSQL, MySQL, Redis, MQTT, outbound HTTP, sockets), deny by default.
//! 4. [`triggers`]: the HTTP trigger (Spin's routes, WAGI) and the Redis trigger.
//! 5. [`app`]: [`App::load`](app::App::load) and [`App::serve`](app::App::serve), the one
//!    assembly of the layers above.
//!
//! Beside them, [`build`] runs the components' build commands (`rotor build`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod build;
pub mod capabilities;
pub mod engine;
pub mod manifest;
pub mod secret;
pub mod triggers;

pub use app::{App, AppOptions, Serving};
