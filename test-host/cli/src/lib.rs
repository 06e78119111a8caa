//! The parts of the `rotor` command that tests use too.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod js_build;
pub mod js_modules;
