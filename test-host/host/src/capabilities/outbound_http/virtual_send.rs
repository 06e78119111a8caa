//! Outbound requests in a unit test: handed to the test's [`VirtualServices`] as an
//! [`HttpCall`], never sent.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::{Error, WasiBody};

use crate::capabilities::virtual_services::{HttpCall, HttpFailure, VirtualServices};

/// Reads the guest's whole request and answers it from `services`.
pub async fn send(
    services: &Arc<dyn VirtualServices>,
    component: &str,
    request: http::Request<WasiBody>,
) -> Result<http::Response<WasiBody>, Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes().to_vec();
    let call = HttpCall {
        component: component.to_owned(),
        method: parts.method.to_string(),
        url: parts.uri.to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let reply = services.http(call).await.map_err(|failure| match failure {
        HttpFailure::ConnectionRefused => Error::ConnectionRefused,
        HttpFailure::DnsError => Error::DnsError {
            rcode: Some("NXDOMAIN".into()),
            info_code: None,
        },
        HttpFailure::Timeout => Error::ConnectionReadTimeout,
        HttpFailure::Other(message) => Error::InternalError(Some(message)),
    })?;
    let mut response = http::Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    response
        .body(
            Full::new(Bytes::from(reply.body))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .map_err(|e| Error::InternalError(Some(format!("the stub's response: {e}"))))
}
