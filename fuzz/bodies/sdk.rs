//! What each SDK fuzz target does with one input; shared by the fuzz targets and by the
//! SDK's regression test, which replays every input in `fuzz/regressions/`. Each must never
//! panic, whatever the input.

use bytes::Bytes;
use rotor_sdk::cloudevents::{self, Filter};

/// A structured-mode CloudEvent, and the same bytes as the body of a binary-mode request
/// whose headers come from the first line (`name: value;name: value`).
pub fn cloudevents(data: &[u8]) {
    if let Ok(event) = cloudevents::from_json(data) {
        let json = cloudevents::to_json(&event).expect("an event read from JSON writes back");
        let again = cloudevents::from_json(&json).expect("what was written reads back");
        assert_eq!(event, again);
    }
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let mut request = http::Request::builder().method("POST").uri("/");
    for header in String::from_utf8_lossy(head).split(';') {
        if let Some((name, value)) = header.split_once(':') {
            request = request.header(name.trim(), value.trim());
        }
    }
    if let Ok(request) = request.body(Bytes::copy_from_slice(body)) {
        let _ = cloudevents::from_request(&request);
    }
}

/// A subscription filter in JSON, then (after the first newline) an event to test it on.
pub fn filters(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (filter, event) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(filter) = Filter::from_json(filter) else {
        return;
    };
    if let Ok(event) = cloudevents::from_json(event.as_bytes()) {
        let _ = filter.matches(&event);
    }
}
