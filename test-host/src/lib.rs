//! `rotor-host`: the wasmtime-based host behind the `rotor` command.
//!
//! - [`manifest`]: Spin's `spin.toml`, parsed and checked.
//! - [`routes`]: Spin's route matching.
//! - [`runtime`]: the engine, deadlines, memory caps and the compiled-code cache.
//! - [`capabilities`]: Spin's key-value and SQLite interfaces, deny by default.
//! - [`runtime_config`]: `runtime-config.toml`, where stores and databases live.
//! - [`http_trigger`]: the HTTP server that runs a fresh instance per request.
//! - [`build_command`]: `rotor build`.
//! - [`conformance`]: the spec format and its runner, `rotor test`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod build_command;
pub mod capabilities;
pub mod client;
pub mod conformance;
pub mod guest_output;
pub mod http_trigger;
pub mod manifest;
pub mod routes;
pub mod runtime;
pub mod runtime_config;
pub mod state;
pub mod toml_file;
