//! `rotor-host`: the wasmtime-based host behind the `rotor` command.
//!
//! - [`manifest`]: Spin's `spin.toml`, parsed and checked.
//! - [`routes`]: Spin's route matching.
//! - [`runtime`]: the engine, deadlines, memory caps and the compiled-code cache.
//! - [`capabilities`]: Spin's key-value, SQLite and variables interfaces and outbound HTTP,
//!   deny by default.
//! - [`template`]: Spin's `{{ variable }}` templates.
//! - [`runtime_config`]: `runtime-config.toml`, where stores and databases live and which
//!   Vault provides variables.
//! - [`http_trigger`]: the HTTP server that runs a fresh instance per request.
//! - [`redis_trigger`]: the Redis subscriber that runs a fresh instance per message.
//! - [`wagi`]: the WAGI executor, for CGI-style WASI preview 1 modules.
//! - [`build_command`]: `rotor build`; [`js_build`]: `rotor js build`, JavaScript apps as
//!   components.
//! - [`conformance`]: the spec format and its runner, `rotor test`.
//! - [`fixtures`]: stand-in neighbours for tests: an HTTP backend, a Vault.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod build_command;
pub mod capabilities;
pub mod cargo_wasm;
pub mod client;
pub mod conformance;
pub mod fixtures;
pub mod guest_output;
pub mod http_trigger;
pub mod js_build;
pub mod manifest;
pub mod redis_trigger;
pub mod routes;
pub mod runtime;
pub mod runtime_config;
pub mod state;
pub mod template;
pub mod toml_file;
pub mod wagi;
