#![no_main]

#[path = "../bodies/sdk.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::cloudevents(data));
