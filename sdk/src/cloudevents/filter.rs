//! Subscriber-side filters in the dialects of the CloudEvents Subscriptions API: `exact`,
//! `prefix` and `suffix` over one attribute or extension, and `all`, `any` and `not` to
//! combine them.
//!
//! ```no_run
//! use rotor_sdk::cloudevents::Filter;
//!
//! // In code...
//! let filter = Filter::all([
//!     Filter::prefix("type", "com.example.order."),
//!     Filter::not(Filter::exact("source", "/test")),
//! ]);
//! // ...or from JSON, for example from a variable.
//! let same = Filter::from_json(r#"{"all": [
//!     {"prefix": {"type": "com.example.order."}},
//!     {"not": {"exact": {"source": "/test"}}}
//! ]}"#)?;
//! assert_eq!(filter, same);
//! # Ok::<(), rotor_sdk::cloudevents::FilterError>(())
//! ```

use std::fmt;

use serde_json::Value;

use cloudevents::Event;

/// A filter over events. An attribute an event does not have matches no `exact`, `prefix`
/// or `suffix` filter (so `not` of such a filter matches it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// The attribute's value is exactly this (case-sensitive).
    Exact {
        /// The attribute or extension name.
        attribute: String,
        /// The value it must have.
        value: String,
    },
    /// The attribute's value starts with this.
    Prefix {
        /// The attribute or extension name.
        attribute: String,
        /// The start it must have.
        value: String,
    },
    /// The attribute's value ends with this.
    Suffix {
        /// The attribute or extension name.
        attribute: String,
        /// The end it must have.
        value: String,
    },
    /// Every filter matches (true when empty).
    All(Vec<Filter>),
    /// At least one filter matches (false when empty).
    Any(Vec<Filter>),
    /// The filter does not match.
    Not(Box<Filter>),
}

/// Why a filter expression could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Where in the expression, as a JSON pointer (`/all/1/prefix`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "filter at {path}: {}", self.message)
    }
}

impl std::error::Error for FilterError {}

impl Filter {
    /// `exact`: `attribute` is exactly `value`.
    pub fn exact(attribute: impl Into<String>, value: impl Into<String>) -> Filter {
        Filter::Exact {
            attribute: attribute.into(),
            value: value.into(),
        }
    }

    /// `prefix`: `attribute` starts with `value`.
    pub fn prefix(attribute: impl Into<String>, value: impl Into<String>) -> Filter {
        Filter::Prefix {
            attribute: attribute.into(),
            value: value.into(),
        }
    }

    /// `suffix`: `attribute` ends with `value`.
    pub fn suffix(attribute: impl Into<String>, value: impl Into<String>) -> Filter {
        Filter::Suffix {
            attribute: attribute.into(),
            value: value.into(),
        }
    }

    /// `all`: every one of `filters` matches.
    pub fn all(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter::All(filters.into_iter().collect())
    }

    /// `any`: at least one of `filters` matches.
    pub fn any(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter::Any(filters.into_iter().collect())
    }

    /// `not`: `filter` does not match.
    #[allow(clippy::should_implement_trait)]
    pub fn not(filter: Filter) -> Filter {
        Filter::Not(Box::new(filter))
    }

    /// Reads a filter expression in the Subscriptions API's JSON form: an object with one
    /// dialect as its key, such as `{"exact": {"type": "x"}}`, `{"all": [...]}` or
    /// `{"not": {...}}`. A top-level array is read as `all`.
    pub fn from_json(text: &str) -> Result<Filter, FilterError> {
        let value: Value = serde_json::from_str(text).map_err(|e| FilterError {
            path: String::new(),
            message: format!("not JSON: {e}"),
        })?;
        match value {
            Value::Array(items) => Ok(Filter::All(parse_list(&items, "")?)),
            other => parse(&other, ""),
        }
    }

    /// Whether `event` passes the filter.
    pub fn matches(&self, event: &Event) -> bool {
        let attribute = |name: &str| {
            event
                .iter()
                .find(|(attribute, _)| *attribute == name)
                .map(|(_, value)| value.to_string())
        };
        match self {
            Filter::Exact {
                attribute: a,
                value,
            } => attribute(a).is_some_and(|v| v == *value),
            Filter::Prefix {
                attribute: a,
                value,
            } => attribute(a).is_some_and(|v| v.starts_with(value.as_str())),
            Filter::Suffix {
                attribute: a,
                value,
            } => attribute(a).is_some_and(|v| v.ends_with(value.as_str())),
            Filter::All(filters) => filters.iter().all(|f| f.matches(event)),
            Filter::Any(filters) => filters.iter().any(|f| f.matches(event)),
            Filter::Not(filter) => !filter.matches(event),
        }
    }
}

fn error(path: &str, message: impl Into<String>) -> FilterError {
    FilterError {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn parse(value: &Value, path: &str) -> Result<Filter, FilterError> {
    let Some(object) = value.as_object() else {
        return Err(error(
            path,
            "a filter is an object such as {\"exact\": {\"type\": \"...\"}}",
        ));
    };
    let mut entries = object.iter();
    let (Some((dialect, argument)), None) = (entries.next(), entries.next()) else {
        return Err(error(path, "a filter has exactly one dialect key"));
    };
    let here = format!("{path}/{dialect}");
    match dialect.as_str() {
        "exact" | "prefix" | "suffix" => {
            let Some(pairs) = argument.as_object() else {
                return Err(error(&here, "expected {\"attribute\": \"value\"}"));
            };
            let mut pairs = pairs.iter();
            let (Some((attribute, value)), None) = (pairs.next(), pairs.next()) else {
                return Err(error(&here, "names exactly one attribute"));
            };
            let Some(value) = value.as_str() else {
                return Err(error(
                    &format!("{here}/{attribute}"),
                    "the value is a string",
                ));
            };
            if attribute.is_empty() {
                return Err(error(&here, "the attribute name is empty"));
            }
            if dialect != "exact" && value.is_empty() {
                return Err(error(&format!("{here}/{attribute}"), "the value is empty"));
            }
            Ok(match dialect.as_str() {
                "exact" => Filter::exact(attribute, value),
                "prefix" => Filter::prefix(attribute, value),
                _ => Filter::suffix(attribute, value),
            })
        }
        "all" | "any" => {
            let Some(items) = argument.as_array() else {
                return Err(error(&here, "expected a list of filters"));
            };
            let filters = parse_list(items, &here)?;
            Ok(if dialect == "all" {
                Filter::All(filters)
            } else {
                Filter::Any(filters)
            })
        }
        "not" => Ok(Filter::not(parse(argument, &here)?)),
        "sql" => Err(error(&here, "the sql dialect is not supported")),
        other => Err(error(
            path,
            format!("unknown dialect {other:?}; use exact, prefix, suffix, all, any or not"),
        )),
    }
}

fn parse_list(items: &[Value], path: &str) -> Result<Vec<Filter>, FilterError> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| parse(item, &format!("{path}/{index}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudevents::EventBuilderV10;
    use cloudevents::EventBuilder as _;

    fn event(ty: &str, source: &str) -> Event {
        EventBuilderV10::new()
            .id("1")
            .ty(ty)
            .source(source)
            .extension("tenant", "acme")
            .extension("priority", 3i64)
            .build()
            .unwrap()
    }

    #[test]
    fn exact() {
        let e = event("order.created", "/shop");
        assert!(Filter::exact("type", "order.created").matches(&e));
        assert!(!Filter::exact("type", "order.Created").matches(&e));
        assert!(!Filter::exact("type", "order").matches(&e));
        assert!(Filter::exact("tenant", "acme").matches(&e));
        assert!(Filter::exact("priority", "3").matches(&e));
        assert!(Filter::exact("specversion", "1.0").matches(&e));
        assert!(
            !Filter::exact("subject", "").matches(&e),
            "absent attributes never match"
        );
    }

    #[test]
    fn prefix_and_suffix() {
        let e = event("com.example.order.created", "/shop/eu");
        assert!(Filter::prefix("type", "com.example.").matches(&e));
        assert!(!Filter::prefix("type", "org.").matches(&e));
        assert!(Filter::suffix("type", ".created").matches(&e));
        assert!(!Filter::suffix("type", ".deleted").matches(&e));
        assert!(Filter::suffix("source", "/eu").matches(&e));
        assert!(!Filter::prefix("missing", "x").matches(&e));
        assert!(!Filter::suffix("missing", "x").matches(&e));
    }

    #[test]
    fn all_any_not_and_nesting() {
        let e = event("order.created", "/shop");
        let yes = Filter::exact("type", "order.created");
        let no = Filter::exact("type", "order.deleted");
        assert!(Filter::all([yes.clone(), yes.clone()]).matches(&e));
        assert!(!Filter::all([yes.clone(), no.clone()]).matches(&e));
        assert!(Filter::all([]).matches(&e));
        assert!(Filter::any([no.clone(), yes.clone()]).matches(&e));
        assert!(!Filter::any([no.clone(), no.clone()]).matches(&e));
        assert!(!Filter::any([]).matches(&e));
        assert!(Filter::not(no.clone()).matches(&e));
        assert!(!Filter::not(yes.clone()).matches(&e));
        assert!(Filter::not(Filter::exact("missing", "x")).matches(&e));
        let nested = Filter::all([
            Filter::any([no.clone(), Filter::prefix("source", "/sh")]),
            Filter::not(Filter::all([yes, no])),
        ]);
        assert!(nested.matches(&e));
        assert!(!Filter::not(nested).matches(&e));
    }

    #[test]
    fn json_expressions() {
        let parsed = Filter::from_json(
            r#"{"all": [{"exact": {"type": "a"}}, {"any": [{"prefix": {"source": "/x"}}, {"suffix": {"subject": "!"}}]}, {"not": {"exact": {"tenant": "b"}}}]}"#,
        )
        .unwrap();
        assert_eq!(
            parsed,
            Filter::all([
                Filter::exact("type", "a"),
                Filter::any([
                    Filter::prefix("source", "/x"),
                    Filter::suffix("subject", "!")
                ]),
                Filter::not(Filter::exact("tenant", "b")),
            ])
        );
        assert_eq!(
            Filter::from_json(r#"[{"exact": {"type": "a"}}]"#).unwrap(),
            Filter::all([Filter::exact("type", "a")])
        );
    }

    #[test]
    fn bad_expressions_say_where() {
        let cases = [
            ("nope", ""),
            (r#"{"exact": {"type": "a"}, "prefix": {"type": "b"}}"#, ""),
            (r#"{"exact": {"type": "a", "source": "b"}}"#, "/exact"),
            (r#"{"prefix": {"type": ""}}"#, "/prefix/type"),
            (r#"{"all": [{"exact": {"type": 1}}]}"#, "/all/0/exact/type"),
            (r#"{"any": {"exact": {}}}"#, "/any"),
            (r#"{"not": {"glob": {"type": "*"}}}"#, "/not"),
            (r#"{"sql": "type = 'a'"}"#, "/sql"),
        ];
        for (text, path) in cases {
            let error = Filter::from_json(text).unwrap_err();
            assert_eq!(error.path, path, "{text}: {error}");
        }
    }
}
