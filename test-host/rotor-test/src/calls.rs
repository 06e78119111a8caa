//! What the app asked of the host: [`HostCall`]s, in the order they were made, and
//! assertions over them ([`Calls`]) that print a line diff when they fail.

use std::fmt;

use rotor_host::capabilities::virtual_services::{
    HttpCall, MqttCall, RedisCall, SqlCall, SqlValue,
};

use crate::stubs::{glob_matches, normalize_sql};

/// One call a guest made that changed or left the host: a key written, a statement run, a
/// request sent, a message published. Reads of key-value stores are not recorded; their
/// effect is the response.
#[derive(Debug, Clone, PartialEq)]
pub enum HostCall {
    /// A key-value write: `value` is what the key holds afterwards (for an increment too).
    KeyValueSet {
        /// The store's label.
        store: String,
        /// The key.
        key: String,
        /// The value written.
        value: Vec<u8>,
    },
    /// A key-value delete.
    KeyValueDelete {
        /// The store's label.
        store: String,
        /// The key.
        key: String,
    },
    /// A SQLite statement.
    Sqlite(SqlCall),
    /// A PostgreSQL statement.
    Postgres(SqlCall),
    /// A MySQL statement.
    Mysql(SqlCall),
    /// An outbound HTTP request.
    Http(HttpCall),
    /// A Redis command.
    Redis(RedisCall),
    /// An MQTT message.
    Mqtt(MqttCall),
}

/// Bytes as text where they are text, shortened past 120 characters.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(120).collect::<String>())
    } else {
        text.into_owned()
    }
}

fn with_parameters(f: &mut fmt::Formatter<'_>, call: &SqlCall) -> fmt::Result {
    write!(f, "{}", normalize_sql(&call.statement))?;
    if !call.parameters.is_empty() {
        let parameters: Vec<String> = call.parameters.iter().map(SqlValue::to_string).collect();
        write!(f, " [{}]", parameters.join(", "))?;
    }
    Ok(())
}

/// One line per call, the form [`Calls::assert_lines`] compares against:
///
/// - `key-value default: set todo:1 = {"title":"milk"}`
/// - `key-value default: delete todo:1`
/// - `sqlite default: INSERT INTO notes (title) VALUES (?) ["milk"]`
/// - `postgres postgres://db/test: SELECT id FROM orders WHERE id = $1 [7]`
/// - `mysql mysql://db/test: ...`
/// - `http GET https://api.example.com/users/1`
/// - `redis redis://localhost:6379: PUBLISH orders {"id":7}`
/// - `mqtt mqtt://localhost:1883: publish alerts/high (qos 1) overheated`
impl fmt::Display for HostCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostCall::KeyValueSet { store, key, value } => {
                write!(f, "key-value {store}: set {key} = {}", shown(value))
            }
            HostCall::KeyValueDelete { store, key } => {
                write!(f, "key-value {store}: delete {key}")
            }
            HostCall::Sqlite(call) => {
                write!(f, "sqlite {}: ", call.address)?;
                with_parameters(f, call)
            }
            HostCall::Postgres(call) => {
                write!(f, "postgres {}: ", call.address)?;
                with_parameters(f, call)
            }
            HostCall::Mysql(call) => {
                write!(f, "mysql {}: ", call.address)?;
                with_parameters(f, call)
            }
            HostCall::Http(call) => write!(f, "http {} {}", call.method, call.url),
            HostCall::Redis(call) => {
                write!(f, "redis {}: {}", call.address, call.command)?;
                for argument in &call.arguments {
                    write!(f, " {}", shown(argument))?;
                }
                Ok(())
            }
            HostCall::Mqtt(call) => write!(
                f,
                "mqtt {}: publish {} (qos {}) {}",
                call.address,
                call.topic,
                call.qos,
                shown(&call.payload)
            ),
        }
    }
}

/// The calls made so far, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calls(pub Vec<HostCall>);

impl Calls {
    /// Each call's line (see [`HostCall`]'s `Display`).
    pub fn lines(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// The outbound HTTP requests.
    pub fn http(&self) -> Vec<&HttpCall> {
        self.0
            .iter()
            .filter_map(|call| match call {
                HostCall::Http(call) => Some(call),
                _ => None,
            })
            .collect()
    }

    /// The statements run on any database, SQLite, PostgreSQL or MySQL.
    pub fn statements(&self) -> Vec<&SqlCall> {
        self.0
            .iter()
            .filter_map(|call| match call {
                HostCall::Sqlite(call) | HostCall::Postgres(call) | HostCall::Mysql(call) => {
                    Some(call)
                }
                _ => None,
            })
            .collect()
    }

    /// The messages published, to Redis channels and MQTT topics: `(channel or topic,
    /// payload)`.
    pub fn published(&self) -> Vec<(String, Vec<u8>)> {
        self.0
            .iter()
            .filter_map(|call| match call {
                HostCall::Redis(call) if call.command == "PUBLISH" => {
                    let mut arguments = call.arguments.iter();
                    let channel = arguments.next()?;
                    let payload = arguments.next()?;
                    Some((
                        String::from_utf8_lossy(channel).into_owned(),
                        payload.clone(),
                    ))
                }
                HostCall::Mqtt(call) => Some((call.topic.clone(), call.payload.clone())),
                _ => None,
            })
            .collect()
    }

    /// Only the calls whose line matches `pattern` (`*` for any run of characters).
    pub fn matching(&self, pattern: &str) -> Calls {
        Calls(
            self.0
                .iter()
                .filter(|call| glob_matches(pattern, &call.to_string()))
                .cloned()
                .collect(),
        )
    }

    /// Asserts that the calls are exactly `expected`, line by line, each a pattern (`*` for
    /// any run of characters). On failure, prints a diff: `-` for an expected line no call
    /// matched, `+` for a call nothing expected.
    #[track_caller]
    pub fn assert_lines(&self, expected: &[&str]) {
        let actual = self.lines();
        let steps = diff(expected, &actual);
        if steps.iter().any(|step| !matches!(step, Step::Same(..))) {
            panic!(
                "the host calls differ from what was expected (- expected, + made):\n{}",
                render(&steps)
            );
        }
    }

    /// Asserts that calls matching `expected` were made in this order, with any others
    /// before, between or after them.
    #[track_caller]
    pub fn assert_includes(&self, expected: &[&str]) {
        let actual = self.lines();
        let mut remaining = actual.iter();
        for (index, pattern) in expected.iter().enumerate() {
            if !remaining.any(|line| glob_matches(pattern, line)) {
                let listing: Vec<String> =
                    actual.iter().map(|line| format!("    {line}")).collect();
                panic!(
                    "no host call matches `{pattern}` (expected line {} of {}) in order; the calls were:\n{}",
                    index + 1,
                    expected.len(),
                    if listing.is_empty() { "    (none)".to_owned() } else { listing.join("\n") }
                );
            }
        }
    }

    /// Asserts that no call matches `pattern`.
    #[track_caller]
    pub fn assert_none(&self, pattern: &str) {
        let found = self.matching(pattern).lines();
        assert!(
            found.is_empty(),
            "host calls matching `{pattern}` were made:\n    {}",
            found.join("\n    ")
        );
    }
}

/// One line of a diff between patterns and lines.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Same(&'a str),
    Missing(&'a str),
    Extra(&'a str),
}

/// The longest common subsequence of `expected` (patterns) and `actual`, as diff steps.
fn diff<'a>(expected: &[&'a str], actual: &'a [String]) -> Vec<Step<'a>> {
    let (n, m) = (expected.len(), actual.len());
    // lengths[i][j]: the longest match of expected[i..] and actual[j..].
    let mut lengths = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lengths[i][j] = if glob_matches(expected[i], &actual[j]) {
                lengths[i + 1][j + 1] + 1
            } else {
                lengths[i + 1][j].max(lengths[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut steps = Vec::new();
    while i < n && j < m {
        if glob_matches(expected[i], &actual[j]) && lengths[i][j] == lengths[i + 1][j + 1] + 1 {
            steps.push(Step::Same(&actual[j]));
            i += 1;
            j += 1;
        } else if lengths[i + 1][j] >= lengths[i][j + 1] {
            steps.push(Step::Missing(expected[i]));
            i += 1;
        } else {
            steps.push(Step::Extra(&actual[j]));
            j += 1;
        }
    }
    steps.extend(expected[i..].iter().map(|line| Step::Missing(line)));
    steps.extend(actual[j..].iter().map(|line| Step::Extra(line)));
    steps
}

fn render(steps: &[Step<'_>]) -> String {
    steps
        .iter()
        .map(|step| match step {
            Step::Same(line) => format!("    {line}"),
            Step::Missing(line) => format!("  - {line}"),
            Step::Extra(line) => format!("  + {line}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(key: &str, value: &str) -> HostCall {
        HostCall::KeyValueSet {
            store: "default".into(),
            key: key.into(),
            value: value.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_diff_marks_what_is_missing_and_what_is_extra() {
        let actual = vec!["a".to_owned(), "x".to_owned(), "c".to_owned()];
        let steps = diff(&["a", "b", "c"], &actual);
        assert_eq!(
            steps,
            vec![
                Step::Same("a"),
                Step::Missing("b"),
                Step::Extra("x"),
                Step::Same("c")
            ]
        );
    }

    #[test]
    fn lines_match_patterns_and_a_mismatch_shows_a_diff() {
        let calls = Calls(vec![set("todo:1", "milk"), set("todo:2", "eggs")]);
        calls.assert_lines(&[
            "key-value default: set todo:1 = *",
            "key-value default: set todo:2 = eggs",
        ]);
        let failure = std::panic::catch_unwind(|| {
            calls.assert_lines(&[
                "key-value default: set todo:1 = milk",
                "key-value default: delete todo:2",
            ]);
        })
        .expect_err("the second line differs");
        let message = failure
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert!(
            message.contains("  - key-value default: delete todo:2"),
            "{message}"
        );
        assert!(
            message.contains("  + key-value default: set todo:2 = eggs"),
            "{message}"
        );
        assert!(
            message.contains("    key-value default: set todo:1 = milk"),
            "{message}"
        );
    }

    #[test]
    fn includes_wants_the_lines_in_order() {
        let calls = Calls(vec![set("a", "1"), set("b", "2"), set("c", "3")]);
        calls.assert_includes(&["* set a = 1", "* set c = *"]);
        let out_of_order =
            std::panic::catch_unwind(|| calls.assert_includes(&["* set c = 3", "* set a = 1"]));
        assert!(out_of_order.is_err());
    }

    #[test]
    fn published_reads_redis_and_mqtt_messages() {
        let calls = Calls(vec![
            HostCall::Redis(RedisCall {
                component: "c".into(),
                address: "redis://localhost".into(),
                command: "PUBLISH".into(),
                arguments: vec![b"orders".to_vec(), b"{}".to_vec()],
            }),
            HostCall::Mqtt(MqttCall {
                component: "c".into(),
                address: "mqtt://localhost".into(),
                username: String::new(),
                topic: "alerts".into(),
                payload: b"hot".to_vec(),
                qos: 1,
            }),
        ]);
        assert_eq!(
            calls.published(),
            vec![
                ("orders".to_owned(), b"{}".to_vec()),
                ("alerts".to_owned(), b"hot".to_vec())
            ]
        );
        assert_eq!(
            calls.lines()[1],
            "mqtt mqtt://localhost: publish alerts (qos 1) hot"
        );
    }
}
