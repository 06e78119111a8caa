//! # rotor-sdk
//!
//! Write WebAssembly microservices in Rust that run on Spin, SpinKube, `wasmtime serve` (HTTP
//! only) and Rotor's own host, `rotor up`. Build for `wasm32-wasip2`:
//!
//! ```no_run
//! use rotor_sdk::http::Query;
//!
//! #[derive(serde::Deserialize)]
//! struct Greeting { name: Option<String> }
//!
//! #[rotor_sdk::http_component]
//! fn hello(Query(greeting): Query<Greeting>) -> String {
//!     format!("Hello, {}!\n", greeting.name.as_deref().unwrap_or("world"))
//! }
//! ```
//!
//! with `crate-type = ["cdylib"]` in `Cargo.toml`, then `cargo build --release --target
//! wasm32-wasip2`; a `spin.toml` routes requests to the component.
//!
//! - [`http`]: requests, responses, extractors, the [`http::Router`], and outbound requests
//!   ([`http::outbound`]).
//! - [`key_value`]: key-value stores, with JSON values.
//! - [`sqlite`]: SQLite databases, with typed row access and serde mapping.
//! - [`pg`]: PostgreSQL with its richer types (Spin 3's `spin:postgres/postgres@4.0.0`).
//! - [`mysql`]: MySQL/MariaDB, on [`rdbms`]'s types.
//! - [`rows`]: typed row access and serde mapping, shared by the three databases.
//! - [`redis`]: Redis commands and publishing.
//! - [`mqtt`]: publishing to MQTT brokers.
//! - [`variables`]: application variables and secrets.
//! - `cloudevents` (feature `cloudevents`): CloudEvents in Redis messages and HTTP, and
//!   subscriber-side filters.
//! - [`inbound_redis`]: what `#[redis_component]` handlers take and return.
//! - [`executor`]: runs `async` code over `wasi:io` pollables; `async fn` handlers use it.
//! - [`wasi`] and [`spin`]: the raw generated bindings, for anything the friendly modules do
//!   not cover yet.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod bindings;
#[cfg(feature = "cloudevents")]
pub mod cloudevents;
mod diagnostics;
pub mod executor;
pub mod http;
pub mod inbound_redis;
pub mod key_value;
pub mod mqtt;
pub mod mysql;
pub mod pg;
pub mod rdbms;
pub mod redis;
pub mod rows;
pub mod sqlite;
pub mod variables;

pub use rotor_macro::{http_component, redis_component};

/// Raw bindings for the WASI 0.2.0 interfaces a guest may import.
pub mod wasi {
    pub use crate::bindings::platform::wasi::*;
}

/// Raw bindings for the `fermyon:spin@2.0.0` capability interfaces.
pub mod spin {
    pub use crate::bindings::platform::fermyon::spin2_0_0::*;
}

#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::http_trigger;
    pub use crate::bindings::http_trigger::export_http_trigger;
    pub use crate::bindings::http_trigger::exports::wasi::http::incoming_handler::Guest as IncomingHandler;
    pub use crate::bindings::platform::wasi::http::types::{IncomingRequest, ResponseOutparam};
    pub use crate::bindings::redis_trigger;
    pub use crate::bindings::redis_trigger::export_redis_trigger;
    pub use crate::bindings::redis_trigger::exports::fermyon::spin::inbound_redis::Guest as InboundRedis;
    pub use crate::bindings::redis_trigger::fermyon::spin::redis_types::Error as RedisTriggerError;
    pub use crate::http::serve::HandlerReads;
}
