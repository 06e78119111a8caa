//! CloudEvents on the `cloudevents-sdk` crate (feature `cloudevents`): build events, carry
//! them in Redis messages (structured JSON) and in HTTP requests and responses (binary mode,
//! with `ce-*` headers, or structured mode, `application/cloudevents+json`), and filter
//! them with the CloudEvents Subscriptions API dialects ([`Filter`]).
//!
//! ```no_run
//! use rotor_sdk::cloudevents::{self, EventBuilder, EventBuilderV10, Mode};
//!
//! # fn main() -> Result<(), rotor_sdk::cloudevents::Error> {
//! let event = EventBuilderV10::new()
//!     .id("order-17")
//!     .source("/shop/orders")
//!     .ty("com.example.order.created")
//!     .data("application/json", serde_json::json!({ "total_cents": 1350 }))
//!     .build()?;
//! let payload = cloudevents::to_json(&event)?;              // for redis publish
//! let back = cloudevents::from_json(&payload)?;             // in the subscriber
//! let response = cloudevents::to_response(&back, Mode::Binary)?; // over HTTP
//! # let _ = response; Ok(()) }
//! ```

mod filter;

use std::fmt;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderName, HeaderValue, Request};

#[doc(inline)]
pub use cloudevents::{
    AttributesReader, AttributesWriter, Data, Event, EventBuilder, EventBuilderV10,
};
pub use filter::{Filter, FilterError};

use crate::http::Response;

/// The media type of a structured-mode event.
pub const STRUCTURED_CONTENT_TYPE: &str = "application/cloudevents+json";

/// The attributes every event must carry.
const REQUIRED: [&str; 4] = ["specversion", "id", "source", "type"];

/// How an event travels over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Attributes in `ce-*` headers, the data as the body with its own `content-type`.
    Binary,
    /// The whole event as a JSON body, `content-type: application/cloudevents+json`.
    Structured,
}

/// Why an event could not be built, read or written. The message names the attribute when
/// one is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An attribute is missing or has an invalid value.
    InvalidAttribute {
        /// The attribute's name, as the specification spells it (`source`, `time`, ...).
        attribute: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The payload or body is not an event at all (not JSON, not an object, no `ce-*`
    /// headers).
    NotAnEvent(String),
}

impl Error {
    fn attribute(attribute: &str, reason: impl Into<String>) -> Self {
        Error::InvalidAttribute {
            attribute: attribute.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidAttribute { attribute, reason } => {
                write!(f, "attribute `{attribute}`: {reason}")
            }
            Error::NotAnEvent(reason) => write!(f, "not a CloudEvent: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<cloudevents::event::EventBuilderError> for Error {
    fn from(error: cloudevents::event::EventBuilderError) -> Self {
        use cloudevents::event::EventBuilderError as E;
        match &error {
            E::MissingRequiredAttribute { attribute_name } => {
                Error::attribute(attribute_name, "is required")
            }
            E::ParseTimeError { attribute_name, .. }
            | E::ParseUrlError { attribute_name, .. }
            | E::InvalidUriRefError { attribute_name } => {
                Error::attribute(attribute_name, error.to_string())
            }
        }
    }
}

/// The event as structured-mode JSON, the usual payload of a Redis message.
pub fn to_json(event: &Event) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(event).map_err(|e| Error::NotAnEvent(e.to_string()))
}

/// Reads a structured-mode JSON event, checking the required attributes first so that the
/// error names the one at fault.
pub fn from_json(payload: &[u8]) -> Result<Event, Error> {
    let document: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| Error::NotAnEvent(format!("the payload is not JSON: {e}")))?;
    let Some(object) = document.as_object() else {
        return Err(Error::NotAnEvent("the JSON is not an object".into()));
    };
    for attribute in REQUIRED {
        match object.get(attribute) {
            None => return Err(Error::attribute(attribute, "is required")),
            Some(serde_json::Value::String(value)) if !value.is_empty() => {}
            Some(_) => return Err(Error::attribute(attribute, "must be a non-empty string")),
        }
    }
    if let Some(version) = object.get("specversion").and_then(|v| v.as_str()) {
        if version != "1.0" && version != "0.3" {
            return Err(Error::attribute(
                "specversion",
                format!("{version:?} is not a supported version (1.0, 0.3)"),
            ));
        }
    }
    serde_json::from_value(document.clone()).map_err(|e| {
        // The crate's messages do not say which attribute failed (a bad `time` reads
        // "premature end of input"): find the one whose removal makes the event valid.
        let culprit = [
            "time",
            "dataschema",
            "datacontenttype",
            "subject",
            "data",
            "data_base64",
        ]
        .into_iter()
        .chain(
            object
                .keys()
                .map(String::as_str)
                .filter(|k| !REQUIRED.contains(k)),
        )
        .find(|attribute| {
            let mut without = document.clone();
            without
                .as_object_mut()
                .and_then(|o| o.remove(*attribute))
                .is_some()
                && serde_json::from_value::<Event>(without).is_ok()
        });
        match culprit {
            Some(attribute) => Error::attribute(attribute, format!("invalid value: {e}")),
            None => Error::NotAnEvent(e.to_string()),
        }
    })
}

/// Reads an event from an HTTP request in either mode: structured when the `content-type`
/// is `application/cloudevents+json`, binary when it carries `ce-specversion`.
pub fn from_request(request: &Request<Bytes>) -> Result<Event, Error> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with(STRUCTURED_CONTENT_TYPE) {
        return from_json(request.body());
    }
    if !request.headers().contains_key("ce-specversion") {
        return Err(Error::NotAnEvent(
            "neither a ce-specversion header (binary mode) nor content-type application/cloudevents+json (structured mode)".into(),
        ));
    }
    let header = |name: &str| -> Result<Option<String>, Error> {
        match request.headers().get(format!("ce-{name}")) {
            None => Ok(None),
            Some(value) => value
                .to_str()
                .map(|v| Some(v.to_owned()))
                .map_err(|_| Error::attribute(name, "the header is not text")),
        }
    };
    let version = header("specversion")?.unwrap_or_default();
    if version != "1.0" {
        return Err(Error::attribute(
            "specversion",
            format!("{version:?} is not supported in binary mode (1.0)"),
        ));
    }
    let mut builder = EventBuilderV10::new();
    for attribute in ["id", "source", "type"] {
        match header(attribute)? {
            Some(value) if !value.is_empty() => {
                builder = match attribute {
                    "id" => builder.id(value),
                    "source" => builder.source(value),
                    _ => builder.ty(value),
                };
            }
            _ => {
                return Err(Error::attribute(
                    attribute,
                    "is required (header ce-".to_owned() + attribute + ")",
                ))
            }
        }
    }
    if let Some(subject) = header("subject")? {
        builder = builder.subject(subject);
    }
    if let Some(time) = header("time")? {
        builder = builder.time(time);
    }
    for (name, value) in request.headers() {
        let Some(extension) = name.as_str().strip_prefix("ce-") else {
            continue;
        };
        if [
            "specversion",
            "id",
            "source",
            "type",
            "subject",
            "time",
            "dataschema",
        ]
        .contains(&extension)
        {
            continue;
        }
        let value = value
            .to_str()
            .map_err(|_| Error::attribute(extension, "the header is not text"))?;
        builder = builder.extension(extension, value);
    }
    let body = request.body();
    if !body.is_empty() {
        let content_type = if content_type.is_empty() {
            "application/octet-stream"
        } else {
            content_type
        };
        let data = if content_type.contains("json") {
            match serde_json::from_slice::<serde_json::Value>(body) {
                Ok(json) => Data::Json(json),
                Err(e) => {
                    return Err(Error::attribute(
                        "data",
                        format!("declared JSON but is not: {e}"),
                    ))
                }
            }
        } else if content_type.starts_with("text/") {
            Data::String(String::from_utf8_lossy(body).into_owned())
        } else {
            Data::Binary(body.to_vec())
        };
        builder = match header("dataschema")? {
            Some(schema) => builder.data_with_schema(content_type, schema, data),
            None => builder.data(content_type, data),
        };
    }
    Ok(builder.build()?)
}

/// An HTTP request carrying `event` in `mode`, to send with `http::outbound::send`.
pub fn to_request(event: &Event, mode: Mode, uri: &str) -> Result<Request<Vec<u8>>, Error> {
    let (headers, body) = encode(event, mode)?;
    let mut request = Request::post(uri)
        .body(body)
        .map_err(|e| Error::NotAnEvent(format!("invalid URI {uri:?}: {e}")))?;
    request.headers_mut().extend(headers);
    Ok(request)
}

/// A `200 OK` response carrying `event` in `mode`.
pub fn to_response(event: &Event, mode: Mode) -> Result<Response, Error> {
    let (headers, body) = encode(event, mode)?;
    let mut response = http::Response::new(crate::http::Body::from(body));
    response.headers_mut().extend(headers);
    Ok(response)
}

fn encode(event: &Event, mode: Mode) -> Result<(http::HeaderMap, Vec<u8>), Error> {
    let mut headers = http::HeaderMap::new();
    let value = |attribute: &str, text: &str| {
        HeaderValue::from_str(text)
            .map_err(|_| Error::attribute(attribute, "cannot be carried in an HTTP header"))
    };
    if mode == Mode::Structured {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(STRUCTURED_CONTENT_TYPE),
        );
        return Ok((headers, to_json(event)?));
    }
    for (name, attribute) in event.iter() {
        if name == "datacontenttype" {
            continue;
        }
        let header = HeaderName::from_bytes(format!("ce-{name}").as_bytes())
            .map_err(|_| Error::attribute(name, "is not a valid header name"))?;
        headers.insert(header, value(name, &attribute.to_string())?);
    }
    if let Some(content_type) = event.datacontenttype() {
        headers.insert(CONTENT_TYPE, value("datacontenttype", content_type)?);
    }
    let body = match event.data() {
        None => Vec::new(),
        Some(Data::Binary(bytes)) => bytes.clone(),
        Some(Data::String(text)) => text.clone().into_bytes(),
        Some(Data::Json(json)) => {
            serde_json::to_vec(json).map_err(|e| Error::attribute("data", e.to_string()))?
        }
    };
    Ok((headers, body))
}

impl crate::inbound_redis::FromPayload for Event {
    fn from_payload(payload: Vec<u8>) -> Result<Self, String> {
        from_json(&payload).map_err(|e| e.to_string())
    }
}

/// Where `#[redis_component(filter = ...)]` finds its filter.
#[doc(hidden)]
pub enum FilterSource<'a> {
    /// The filter itself, as JSON.
    Json(&'a str),
    /// The name of a component variable holding the filter as JSON.
    Variable(&'a str),
}

/// Whether `event` passes the filter; `Err` when the filter cannot be read.
///
/// Used by the code `#[redis_component(filter = ...)]` generates; not meant to be called
/// directly.
#[doc(hidden)]
pub fn passes_filter(event: &Event, source: FilterSource<'_>) -> Result<bool, String> {
    let text = match source {
        FilterSource::Json(text) => text.to_owned(),
        FilterSource::Variable(name) => crate::variables::get(name)
            .map_err(|e| format!("cannot read the filter variable `{name}`: {e}"))?,
    };
    let filter = Filter::from_json(&text).map_err(|e| e.to_string())?;
    Ok(filter.matches(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        EventBuilderV10::new()
            .id("A-1")
            .source("/shop/orders")
            .ty("com.example.order.created")
            .subject("order-1")
            .time("2026-11-25T08:00:00Z")
            .extension("tenant", "acme")
            .data("application/json", serde_json::json!({ "total": 12 }))
            .build()
            .unwrap()
    }

    fn as_request(response: Response) -> Request<Bytes> {
        let (parts, body) = response.into_parts();
        let body = crate::executor::block_on(body.collect()).unwrap();
        let mut request = Request::new(body);
        *request.headers_mut() = parts.headers;
        request
    }

    #[test]
    fn json_round_trips() {
        let event = event();
        assert_eq!(from_json(&to_json(&event).unwrap()).unwrap(), event);
    }

    #[test]
    fn binary_and_structured_http_round_trip() {
        for mode in [Mode::Binary, Mode::Structured] {
            let event = event();
            let request = as_request(to_response(&event, mode).unwrap());
            assert_eq!(from_request(&request).unwrap(), event, "{mode:?}");
            let outgoing = to_request(&event, mode, "http://example.com/hook").unwrap();
            let (parts, body) = outgoing.into_parts();
            let mut request = Request::new(Bytes::from(body));
            *request.headers_mut() = parts.headers;
            assert_eq!(from_request(&request).unwrap(), event, "{mode:?}");
        }
        let request = as_request(to_response(&event(), Mode::Binary).unwrap());
        assert_eq!(request.headers()["ce-tenant"], "acme");
        assert_eq!(request.headers()["content-type"], "application/json");
    }

    #[test]
    fn text_and_binary_data_survive_binary_mode() {
        for (content_type, data) in [
            ("text/plain", Data::String("hello".into())),
            ("application/octet-stream", Data::Binary(vec![0, 1, 255])),
        ] {
            let event = EventBuilderV10::new()
                .id("1")
                .source("/s")
                .ty("t")
                .data(content_type, data)
                .build()
                .unwrap();
            let request = as_request(to_response(&event, Mode::Binary).unwrap());
            assert_eq!(from_request(&request).unwrap(), event);
        }
    }

    #[test]
    fn errors_name_the_attribute() {
        let attribute = |payload: &str| match from_json(payload.as_bytes()) {
            Err(Error::InvalidAttribute { attribute, .. }) => attribute,
            other => panic!("{payload}: {other:?}"),
        };
        assert_eq!(
            attribute(r#"{"specversion":"1.0","id":"1","type":"t"}"#),
            "source"
        );
        assert_eq!(
            attribute(r#"{"specversion":"1.0","id":"","source":"/s","type":"t"}"#),
            "id"
        );
        assert_eq!(
            attribute(r#"{"specversion":"2.0","id":"1","source":"/s","type":"t"}"#),
            "specversion"
        );
        assert_eq!(
            attribute(
                r#"{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"yesterday"}"#
            ),
            "time"
        );
        assert!(matches!(from_json(b"not json"), Err(Error::NotAnEvent(_))));
        assert!(matches!(from_json(b"[1]"), Err(Error::NotAnEvent(_))));

        let mut request = Request::new(Bytes::new());
        request
            .headers_mut()
            .insert("ce-specversion", HeaderValue::from_static("1.0"));
        request
            .headers_mut()
            .insert("ce-id", HeaderValue::from_static("1"));
        request
            .headers_mut()
            .insert("ce-type", HeaderValue::from_static("t"));
        match from_request(&request) {
            Err(Error::InvalidAttribute { attribute, .. }) => assert_eq!(attribute, "source"),
            other => panic!("{other:?}"),
        }
        let error = EventBuilderV10::new()
            .id("1")
            .source("/s")
            .build()
            .unwrap_err();
        assert_eq!(Error::from(error), Error::attribute("type", "is required"));
    }
}
