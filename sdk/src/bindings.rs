//! Bindings generated from the WIT in `wit/`: the repository's `wit/` directory, which the
//! package carries as `sdk/wit` (a link in the repository, files in the published crate).
//!
//! Imports are generated once, for the whole `rotor:sdk/platform` world. Each trigger's export
//! is generated separately and reuses those imports, so that a component exports only the one
//! trigger interface its `#[..._component]` macro asks for.
#![allow(missing_docs, unsafe_code, clippy::all)]

/// Every interface a guest may import: WASI 0.2.0 and `fermyon:spin@2.0.0`.
pub mod platform {
    wit_bindgen::generate!({
        world: "rotor:sdk/platform",
        path: "wit",
        generate_all,
    });
}

/// The `wasi:http/incoming-handler@0.2.0` export used by `#[http_component]`.
pub mod http_trigger {
    wit_bindgen::generate!({
        inline: "
            package rotor:http-export;
            world http-export {
                export wasi:http/incoming-handler@0.2.0;
            }
        ",
        world: "rotor:http-export/http-export",
        path: "wit",
        with: {
            "wasi:http/types@0.2.0": crate::bindings::platform::wasi::http::types,
            "wasi:io/streams@0.2.0": crate::bindings::platform::wasi::io::streams,
            "wasi:io/error@0.2.0": crate::bindings::platform::wasi::io::error,
            "wasi:io/poll@0.2.0": crate::bindings::platform::wasi::io::poll,
            "wasi:clocks/monotonic-clock@0.2.0": crate::bindings::platform::wasi::clocks::monotonic_clock,
        },
        pub_export_macro: true,
        export_macro_name: "export_http_trigger",
        default_bindings_module: "::rotor_sdk::__private::http_trigger",
    });
}

/// The `fermyon:spin/inbound-redis` export used by `#[redis_component]`.
pub mod redis_trigger {
    wit_bindgen::generate!({
        inline: "
            package rotor:redis-export;
            world redis-export {
                export fermyon:spin/inbound-redis;
            }
        ",
        world: "rotor:redis-export/redis-export",
        path: "wit",
        with: { "fermyon:spin/redis-types": generate },
        pub_export_macro: true,
        export_macro_name: "export_redis_trigger",
        default_bindings_module: "::rotor_sdk::__private::redis_trigger",
    });
}
