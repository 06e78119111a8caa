//! The glue between `wasi:http/incoming-handler` and handlers written with `http` types.

use std::future::Future;

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri};

use super::body::IncomingBody;
use super::extract::Reads;
use super::response::{IntoResponse, Reply};
use crate::bindings::platform::wasi::http::types as wasi_http;
use crate::executor::block_on;

/// What a component's handler reads of the request ([`Reads`]), as a constant the compiler
/// sees through.
///
/// Implemented by the code `#[http_component]` generates; not meant to be implemented
/// directly.
pub trait HandlerReads {
    /// The union of the handler's extractors' [`Reads`].
    const READS: Reads;
}

/// Runs `handler` for one incoming request and sends its response; the request it gets
/// holds what `R` says the handler reads, the rest left empty.
///
/// Used by the code `#[http_component]` generates; not meant to be called directly.
pub fn serve<R, H, Fut>(
    request: wasi_http::IncomingRequest,
    response_out: wasi_http::ResponseOutparam,
    handler: H,
) where
    R: HandlerReads,
    H: FnOnce(Request<IncomingBody>) -> Fut,
    Fut: Future<Output = Reply>,
{
    block_on(async move {
        let response = match to_http_request::<R>(request) {
            Ok(request) => handler(request).await,
            Err(reason) => {
                crate::diagnostics::report!(
                    "rejecting a request the SDK cannot represent: {reason}"
                );
                (StatusCode::BAD_REQUEST, "Bad Request").into_reply()
            }
        };
        send_response(response_out, response).await;
    });
}

// Generic over `R` so that each component gets its own copy in which `R::READS` is a
// constant: the parts its handler does not read are left out, with the code that would
// convert them. Inlined into `serve`, its one caller, where a function of its own would
// only add a call and a name to the component.
#[inline(always)]
fn to_http_request<R: HandlerReads>(
    request: wasi_http::IncomingRequest,
) -> Result<Request<IncomingBody>, String> {
    let reads = R::READS;
    let mut parts = Request::new(()).into_parts().0;
    if reads.method {
        parts.method = match request.method() {
            wasi_http::Method::Get => Method::GET,
            wasi_http::Method::Head => Method::HEAD,
            wasi_http::Method::Post => Method::POST,
            wasi_http::Method::Put => Method::PUT,
            wasi_http::Method::Delete => Method::DELETE,
            wasi_http::Method::Connect => Method::CONNECT,
            wasi_http::Method::Options => Method::OPTIONS,
            wasi_http::Method::Trace => Method::TRACE,
            wasi_http::Method::Patch => Method::PATCH,
            wasi_http::Method::Other(other) => Method::from_bytes(other.as_bytes())
                .map_err(|e| format!("method `{other}`: {e}"))?,
        };
    }
    let path = request.path_with_query().unwrap_or_else(|| "/".to_owned());
    let mut uri = http::uri::Parts::default();
    uri.path_and_query =
        Some(PathAndQuery::try_from(path.as_str()).map_err(|e| format!("path `{path}`: {e}"))?);
    // Asked of the host only when read: each call is a copy across the component boundary.
    let authority = if reads.authority {
        request.authority()
    } else {
        None
    };
    if let Some(authority) = authority {
        uri.scheme = Some(match request.scheme() {
            Some(wasi_http::Scheme::Https) => Scheme::HTTPS,
            Some(wasi_http::Scheme::Other(other)) => {
                Scheme::try_from(other.as_str()).map_err(|e| format!("scheme `{other}`: {e}"))?
            }
            Some(wasi_http::Scheme::Http) | None => Scheme::HTTP,
        });
        uri.authority = Some(
            Authority::try_from(authority.as_str())
                .map_err(|e| format!("authority `{authority}`: {e}"))?,
        );
    }
    parts.uri = Uri::from_parts(uri).map_err(|e| format!("URI `{path}`: {e}"))?;

    if reads.headers {
        for (name, value) in request.headers().entries() {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("header `{name}`: {e}"))?;
            let value = HeaderValue::from_bytes(&value)
                .map_err(|e| format!("value of header {name}: {e}"))?;
            parts.headers.append(name, value);
        }
    }
    let body = request
        .consume()
        .map_err(|()| "the request body was already consumed".to_owned())?;
    let body = IncomingBody::from_host(body).map_err(|e| e.to_string())?;
    Ok(Request::from_parts(parts, body))
}

async fn send_response(response_out: wasi_http::ResponseOutparam, reply: Reply) {
    let (status, entries, body) = match reply {
        Reply::Full(response) => {
            let (parts, body) = response.into_parts();
            let entries: Vec<(String, Vec<u8>)> = parts
                .headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect();
            (parts.status, entries, body)
        }
        Reply::Plain {
            status,
            content_type,
            body,
        } => {
            let entries = content_type
                .map(|value| ("content-type".to_owned(), value.as_bytes().to_vec()))
                .into_iter()
                .collect();
            (status, entries, body)
        }
    };
    let headers = match wasi_http::Fields::from_list(&entries) {
        Ok(headers) => headers,
        Err(error) => {
            crate::diagnostics::report!(
                "the response has headers the host refuses ({error:?}); answering 500"
            );
            let headers = wasi_http::Fields::new();
            let outgoing = wasi_http::OutgoingResponse::new(headers);
            let _ = outgoing.set_status_code(500);
            if let Ok(body) = outgoing.body() {
                wasi_http::ResponseOutparam::set(response_out, Ok(outgoing));
                let _ = wasi_http::OutgoingBody::finish(body, None);
            }
            return;
        }
    };
    let outgoing = wasi_http::OutgoingResponse::new(headers);
    // Every `http::StatusCode` is in 100..=999, which the host accepts.
    let _ = outgoing.set_status_code(status.as_u16());
    let outgoing_body = outgoing
        .body()
        .expect("a new response hands out its body once");
    wasi_http::ResponseOutparam::set(response_out, Ok(outgoing));
    if let Err(error) = body.send(outgoing_body).await {
        // The status is already on its way: cutting the body short is the only way left to
        // tell the client something went wrong.
        crate::diagnostics::report!("sending the response body failed: {error}");
    }
}
