//! Matching a received response against the one a spec expects.

use std::fmt::Write as _;

use super::spec::SpecResponse;
use crate::client::ReceivedResponse;

/// Compares a received response with what the spec expects; lists every difference. A
/// header that is neither listed nor among `optional_headers` is a difference, unless the
/// response allows `extra_headers`.
pub fn check(
    expected: &SpecResponse,
    actual: &ReceivedResponse,
    optional_headers: &[String],
) -> Result<(), String> {
    let mut problems = String::new();
    if actual.status.as_u16() != expected.status {
        let _ = write!(
            problems,
            "\n  status: expected {}, got {}",
            expected.status,
            actual.status.as_u16()
        );
    }
    for header in &expected.headers {
        match (actual.headers.get(header.name.as_str()), &header.value) {
            (None, _) if header.optional => {}
            (None, _) => {
                let _ = write!(problems, "\n  header {}: missing", header.name);
            }
            (Some(got), Some(want)) if !got.as_bytes().eq_ignore_ascii_case(want.as_bytes()) => {
                let _ = write!(
                    problems,
                    "\n  header {}: expected {want:?}, got {got:?}",
                    header.name
                );
            }
            (Some(_), _) => {}
        }
    }
    if !expected.extra_headers {
        for (name, value) in &actual.headers {
            let listed = expected
                .headers
                .iter()
                .map(|h| &h.name)
                .chain(optional_headers)
                .any(|listed| listed.eq_ignore_ascii_case(name.as_str()));
            if !listed {
                let _ = write!(problems, "\n  header {name}: not expected, got {value:?}");
            }
        }
    }
    for name in &expected.absent_headers {
        if let Some(value) = actual.headers.get(name.as_str()) {
            let _ = write!(problems, "\n  header {name}: must be absent, got {value:?}");
        }
    }
    let text = actual.text();
    let body_unchecked =
        expected.body.is_none() && expected.json.is_none() && expected.body_contains.is_empty();
    let exact_body = match &expected.body {
        Some(body) => Some(body.as_str()),
        None if body_unchecked => Some(""),
        None => None,
    };
    if let Some(body) = exact_body {
        if text != body {
            let _ = write!(problems, "\n  body: expected {body:?}, got {text:?}");
        }
    }
    if let Some(json) = &expected.json {
        match serde_json::from_slice::<serde_json::Value>(&actual.body) {
            Ok(got) if &got == json => {}
            Ok(got) => {
                let _ = write!(problems, "\n  json body: expected {json}, got {got}");
            }
            Err(e) => {
                let _ = write!(
                    problems,
                    "\n  json body: expected {json}, got invalid JSON ({e}): {text:?}"
                );
            }
        }
    }
    for needle in &expected.body_contains {
        if !text.contains(needle.as_str()) {
            let _ = write!(
                problems,
                "\n  body: expected to contain {needle:?}, got {text:?}"
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
