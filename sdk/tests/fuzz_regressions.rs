//! Replays the fuzzers' inputs for the SDK's CloudEvents and filter parsing through the fuzz
//! targets' own code: the seeds in `fuzz/seeds/TARGET/` and every input that once failed,
//! kept in `fuzz/regressions/TARGET/`. None may panic, and an event read from JSON must
//! write back and read again as the same event.

#[path = "../../fuzz/bodies/sdk.rs"]
mod bodies;

#[path = "../../fuzz/bodies/replay.rs"]
mod replay;

fn replay(target: &str, body: fn(&[u8])) {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    replay::replay(&fuzz, target, body);
}

#[test]
fn cloudevents_inputs() {
    replay("cloudevents", bodies::cloudevents);
}

#[test]
fn filter_inputs() {
    replay("filters", bodies::filters);
}
