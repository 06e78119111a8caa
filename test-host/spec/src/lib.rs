//! `rotor-spec`: conformance specs and their runner, the library behind `rotor test`.
//!
//! - [`conformance`]: the spec format (Spin's `test.json5` and Rotor's additions), its
//!   preconditions and the runner, which loads each app with [`rotor_host::App`].
//! - [`fixtures`]: stand-in neighbours specs and tests need: an HTTP backend, a Vault.
//! - [`client`]: a minimal HTTP/1.1 client that reads a whole response.
//!
//! Other SDKs' test suites can use it as a library: [`conformance::run_spec`] runs one spec
//! against one app and reports each case.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod conformance;
pub mod fixtures;
