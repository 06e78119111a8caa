//! The host's own HTTP requests (downloading sources, Vault, model servers): one request,
//! its whole answer read into memory up to a bound.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use wasmtime_wasi_http::RequestOptions;

/// Sends `request` and reads the answer's body, at most `max_body` bytes. An error is a
/// message: why the request could not be sent, or why its answer could not be read.
pub async fn send_and_read(
    request: http::Request<Bytes>,
    options: Option<RequestOptions>,
    max_body: usize,
) -> Result<http::Response<Bytes>, String> {
    let request = request.map(|body| Full::new(body).map_err(|never| match never {}));
    let (response, connection) = wasmtime_wasi_http::default_send_request(request, options)
        .await
        .map_err(|e| e.to_string())?;
    let connection = tokio::spawn(connection);
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, max_body)
        .collect()
        .await
        .map(|collected| collected.to_bytes());
    connection.abort();
    let body = body.map_err(|e| format!("reading the answer: {e}"))?;
    Ok(http::Response::from_parts(parts, body))
}
