//! The component ABI is the product: a component built with rotor-sdk must carry exactly the
//! names Spin looks for.

mod common;

use common::spin_world::{interfaces, is_spin_import, SPIN3_POSTGRES};

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
    assert!(is_spin_import("wasi:keyvalue/store@0.2.0-draft2"));
    assert!(is_spin_import("spin:sqlite/sqlite@3.0.0"));
    assert!(!is_spin_import("spin:sqlite/sqlite@3.1.0"));
    assert!(is_spin_import("fermyon:spin/llm@2.0.0"));
    assert!(!is_spin_import("wasi:io/poll"));
}
