//! The component ABI is the product: a component built with rotor-sdk must carry exactly the
//! names Spin looks for.

mod common;

use wasmtime::component::Component;
use wasmtime::Engine;

/// The interfaces of Spin 2's `fermyon:spin/platform` world that WASI provides
/// (`wasi:cli/imports` plus outgoing HTTP), as `package/interface`.
const SPIN_WASI_INTERFACES: &[&str] = &[
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
const SPIN3_POSTGRES: &str = "spin:postgres/postgres@4.0.0";

/// Spin's own capability interfaces, all at `@2.0.0`.
const SPIN_CAPABILITIES: &[&str] = &[
    "fermyon:spin/key-value",
    "fermyon:spin/sqlite",
    "fermyon:spin/redis",
    "fermyon:spin/postgres",
    "fermyon:spin/mysql",
    "fermyon:spin/rdbms-types",
    "fermyon:spin/variables",
    "fermyon:spin/mqtt",
];

/// WASI 0.2 patch releases up to 0.2.6 are semver-compatible with 0.2.0; Spin 3.6 links
/// them all. (The Rust standard library for wasm32-wasip2 brings 0.2.6 type information, so
/// its interfaces appear at that version.)
const NEWEST_WASI_PATCH: u32 = 6;

fn interfaces(path: &std::path::Path) -> (Vec<String>, Vec<String>) {
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

fn is_spin_import(name: &str) -> bool {
    // The types of Spin's Redis trigger live in an unversioned, type-only interface that
    // every Redis component imports; Spin's own Rust SDK components do too.
    if name == "fermyon:spin/redis-types" || name == SPIN3_POSTGRES {
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

#[test]
fn hello_exports_exactly_the_spin_http_handler() {
    let (imports, exports) = interfaces(&common::guest("http-hello"));
    assert_eq!(exports, vec!["wasi:http/incoming-handler@0.2.0".to_owned()]);
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("wasi:http/types@0.2.")),
        "{imports:?}"
    );
    let foreign: Vec<&String> = imports.iter().filter(|i| !is_spin_import(i)).collect();
    assert!(
        foreign.is_empty(),
        "imports Spin does not offer: {foreign:?}"
    );
}

#[test]
fn every_guest_exports_only_the_http_handler() {
    for guest in [
        "http-router",
        "kv-todo",
        "sqlite-notes",
        "http-outbound",
        "config",
        "pg-orders",
        "mysql-inventory",
        "probe",
    ] {
        let (imports, exports) = interfaces(&common::guest(guest));
        assert_eq!(
            exports,
            vec!["wasi:http/incoming-handler@0.2.0".to_owned()],
            "{guest}"
        );
        let foreign: Vec<&String> = imports.iter().filter(|i| !is_spin_import(i)).collect();
        assert!(
            foreign.is_empty(),
            "{guest} imports what Spin does not offer: {foreign:?}"
        );
    }
}

#[test]
fn storage_examples_import_spins_interfaces() {
    let (imports, _) = interfaces(&common::guest("kv-todo"));
    assert!(
        imports.contains(&"fermyon:spin/key-value@2.0.0".to_owned()),
        "{imports:?}"
    );
    let (imports, _) = interfaces(&common::guest("sqlite-notes"));
    assert!(
        imports.contains(&"fermyon:spin/sqlite@2.0.0".to_owned()),
        "{imports:?}"
    );
    let (imports, _) = interfaces(&common::guest("pg-orders"));
    assert!(imports.contains(&SPIN3_POSTGRES.to_owned()), "{imports:?}");
    let (imports, _) = interfaces(&common::guest("mysql-inventory"));
    assert!(
        imports.contains(&"fermyon:spin/mysql@2.0.0".to_owned()),
        "{imports:?}"
    );
}

#[test]
fn outbound_and_config_examples_import_spins_interfaces() {
    let (imports, _) = interfaces(&common::guest("http-outbound"));
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("wasi:http/outgoing-handler@0.2.")),
        "{imports:?}"
    );
    let (imports, _) = interfaces(&common::guest("config"));
    assert!(
        imports.contains(&"fermyon:spin/variables@2.0.0".to_owned()),
        "{imports:?}"
    );
}

#[test]
fn a_redis_component_exports_exactly_spins_redis_handler() {
    let (imports, exports) = interfaces(&common::guest("redis-probe"));
    assert_eq!(exports, vec!["fermyon:spin/inbound-redis".to_owned()]);
    let foreign: Vec<&String> = imports.iter().filter(|i| !is_spin_import(i)).collect();
    assert!(
        foreign.is_empty(),
        "imports Spin does not offer: {foreign:?}"
    );
    assert!(
        imports.contains(&"fermyon:spin/redis@2.0.0".to_owned()),
        "{imports:?}"
    );
}

#[test]
fn the_import_check_rejects_what_spin_lacks() {
    assert!(is_spin_import("wasi:io/poll@0.2.0"));
    assert!(is_spin_import("fermyon:spin/key-value@2.0.0"));
    assert!(!is_spin_import("fermyon:spin/key-value@3.0.0"));
    assert!(!is_spin_import("wasi:io/poll@0.3.0"));
    assert!(!is_spin_import("wasi:keyvalue/store@0.2.0"));
    assert!(!is_spin_import("wasi:io/poll"));
}
