//! `POST /outbound-late-body`: sends a GET with `content-length: 0` to the URL in the request
//! body through raw `wasi:http`, and writes its (empty) body only after the response has
//! arrived, as Python's `spin-sdk` may when the host is quicker than the guest.
//!
//! Answers `200` with the upstream's status when every step of the late write succeeded, and
//! `500` naming the step that failed otherwise.

use rotor_sdk::http::{Bytes, IntoResponse, Request, Response, StatusCode};
use rotor_sdk::wasi::http::outgoing_handler;
use rotor_sdk::wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

pub fn late_body(request: Request<Bytes>) -> Response {
    match send_then_write(&String::from_utf8_lossy(request.body())) {
        Ok(status) => format!("upstream answered {status}").into_response(),
        Err(step) => (StatusCode::INTERNAL_SERVER_ERROR, step).into_response(),
    }
}

fn send_then_write(url: &str) -> Result<u16, String> {
    let url = url
        .strip_prefix("http://")
        .ok_or("the body must be an http:// URL")?;
    let (authority, path) = url.split_once('/').unwrap_or((url, ""));
    let headers = Fields::from_list(&[("content-length".into(), b"0".to_vec())])
        .map_err(|e| format!("headers: {e:?}"))?;
    let outgoing = OutgoingRequest::new(headers);
    let set = [
        outgoing.set_method(&Method::Get),
        outgoing.set_scheme(Some(&Scheme::Http)),
        outgoing.set_authority(Some(authority)),
        outgoing.set_path_with_query(Some(&format!("/{path}"))),
    ];
    if set.iter().any(Result::is_err) {
        return Err("the host refused a part of the request".into());
    }
    let body = outgoing.body().map_err(|()| "body taken twice")?;
    let pending = outgoing_handler::handle(outgoing, None).map_err(|e| format!("handle: {e:?}"))?;
    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or("no response after it was ready")?
        .map_err(|()| "response taken twice")?
        .map_err(|e| format!("response: {e:?}"))?;

    // Only now, with the response in hand, the guest turns to the request body.
    let stream = body.write().map_err(|()| "write: stream taken twice")?;
    stream
        .check_write()
        .map_err(|e| format!("check-write after the response: {e:?}"))?;
    stream
        .blocking_flush()
        .map_err(|e| format!("flush after the response: {e:?}"))?;
    drop(stream);
    OutgoingBody::finish(body, None).map_err(|e| format!("finish after the response: {e:?}"))?;
    Ok(response.status())
}
