//! What the app answered a request, read whole.

use http_body_util::BodyExt as _;
use rotor_host::capabilities::outbound_http::HostBody;

/// A response, body read to the end.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl TestResponse {
    pub(crate) async fn read(response: http::Response<HostBody>) -> TestResponse {
        let (parts, body) = response.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(error) => format!("<the body failed: {error}>").into_bytes(),
        };
        TestResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics, showing the body, when it is not.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the body is not JSON ({e}); status {}, body: {}",
                self.status,
                self.text()
            )
        })
    }

    /// The value of header `name`, if any and if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status; the failure shows the body, which usually says why.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &TestResponse {
        assert_eq!(
            self.status,
            status,
            "expected status {status}, got {}; body: {}",
            self.status,
            self.text()
        );
        self
    }
}
