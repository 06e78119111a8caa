//! Which crates of the workspace are guests, and for which target: read by `cargo xtask test`
//! and, through `#[path]`, by the host's tests, which build the same guests.

/// Every crate that is built for wasm32-wasip2 rather than for the host.
pub const GUEST_CRATES: &[&str] = &[
    "http-hello",
    "http-router",
    "kv-todo",
    "sqlite-notes",
    "http-outbound",
    "config",
    "pg-orders",
    "mysql-inventory",
    "pubsub-publisher",
    "pubsub-subscriber",
    "mqtt-alerts",
    "static-site",
    "probe",
    "redis-probe",
    "extractor-probe",
    "wasi-hello",
];

/// Every crate that is built for wasm32-wasip1: plain WASI modules for the WAGI executor, and
/// an HTTP and a Redis component built as core modules, as Spin's own Rust and Go templates
/// build them, which the host adapts into components.
pub const WASIP1_CRATES: &[&str] = &["wagi-hello", "wagi-probe", "http-hello", "redis-probe"];
