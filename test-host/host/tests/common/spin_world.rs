//! What Spin offers a component, for the tests that check our components ask for no more.

use wasmtime::component::Component;
use wasmtime::Engine;

/// The interfaces of Spin 2's `fermyon:spin/platform` world that WASI provides
/// (`wasi:cli/imports` plus outgoing HTTP), as `package/interface`.
pub const SPIN_WASI_INTERFACES: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/ip-name-lookup",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
];

/// Spin 3's PostgreSQL interface, which `rotor_sdk::pg` uses (Spin 3.6 has it; its
/// conformance suite's `postgres` test imports it).
pub const SPIN3_POSTGRES: &str = "spin:postgres/postgres@4.0.0";

/// The WASI configuration interface Spin 3 links, answered from a component's variables.
pub const SPIN3_CONFIG: &str = "wasi:config/store@0.2.0-draft-2024-09-27";

/// The rest of what Spin 3.6's `platform` world (`spin:up@3.6.0`) adds to Spin 2's, as
/// written in Spin v3.6.3's `wit/`: the `wasi:keyvalue` draft, Spin 3.0's SQLite and
/// PostgreSQL interfaces.
pub const SPIN3_INTERFACES: &[&str] = &[
    "wasi:keyvalue/store@0.2.0-draft2",
    "wasi:keyvalue/atomics@0.2.0-draft2",
    "wasi:keyvalue/batch@0.2.0-draft2",
    "spin:sqlite/sqlite@3.0.0",
    "spin:postgres/postgres@3.0.0",
];

/// Spin's own capability interfaces, all at `@2.0.0`.
pub const SPIN_CAPABILITIES: &[&str] = &[
    "fermyon:spin/key-value",
    "fermyon:spin/sqlite",
    "fermyon:spin/redis",
    "fermyon:spin/postgres",
    "fermyon:spin/mysql",
    "fermyon:spin/rdbms-types",
    "fermyon:spin/variables",
    "fermyon:spin/mqtt",
    "fermyon:spin/llm",
];

/// WASI 0.2 patch releases up to 0.2.6 are semver-compatible with 0.2.0; Spin 3.6 links
/// them all. (The Rust standard library for wasm32-wasip2 brings 0.2.6 type information, so
/// its interfaces appear at that version.)
pub const NEWEST_WASI_PATCH: u32 = 6;

/// The imports and exports of the component at `path`, by name.
pub fn interfaces(path: &std::path::Path) -> (Vec<String>, Vec<String>) {
    let engine = Engine::default();
    let component = Component::from_file(&engine, path).unwrap();
    let ty = component.component_type();
    let imports = ty
        .imports(&engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let exports = ty
        .exports(&engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    (imports, exports)
}

/// Whether Spin (3.6) offers the import `name`.
pub fn is_spin_import(name: &str) -> bool {
    // The types of Spin's Redis trigger live in an unversioned, type-only interface that
    // every Redis component imports; Spin's own Rust SDK components do too.
    if name == "fermyon:spin/redis-types"
        || name == SPIN3_POSTGRES
        || name == SPIN3_CONFIG
        || SPIN3_INTERFACES.contains(&name)
    {
        return true;
    }
    let Some((interface, version)) = name.split_once('@') else {
        return false;
    };
    if SPIN_CAPABILITIES.contains(&interface) {
        return version == "2.0.0";
    }
    if SPIN_WASI_INTERFACES.contains(&interface) {
        return match version.strip_prefix("0.2.") {
            Some(patch) => patch.parse::<u32>().is_ok_and(|p| p <= NEWEST_WASI_PATCH),
            None => false,
        };
    }
    false
}
