#![no_main]

#[path = "../bodies/host.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::runtime_config(data));
