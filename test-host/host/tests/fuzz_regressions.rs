//! Replays the fuzzers' inputs for the host's parsers (the manifest, the runtime config, the
//! route table, `allowed_outbound_hosts`, WAGI output) through the fuzz targets' own code:
//! the seeds in `fuzz/seeds/TARGET/` and every input that once failed, kept in
//! `fuzz/regressions/TARGET/`. None may panic, and the targets' checks (a found route is one
//! of the table's, an allowed URL is allowed by `*://*:*`) must hold.

#[path = "../../../fuzz/bodies/host.rs"]
mod bodies;

#[path = "../../../fuzz/bodies/replay.rs"]
mod replay;

fn replay(target: &str, body: fn(&[u8])) {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    replay::replay(&fuzz, target, body);
}

#[test]
fn manifest_inputs() {
    replay("manifest", bodies::manifest);
}

#[test]
fn runtime_config_inputs() {
    replay("runtime_config", bodies::runtime_config);
}

#[test]
fn route_inputs() {
    replay("routes", bodies::routes);
}

#[test]
fn allowed_hosts_inputs() {
    replay("allowed_hosts", bodies::allowed_hosts);
}

#[test]
fn wagi_output_inputs() {
    replay("wagi_output", bodies::wagi_output);
}
