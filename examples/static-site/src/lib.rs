//! A static website: `GET /PATH` answers with the file `PATH` of the files the manifest mounts
//! (`public/`, seen by the guest as `/`), and a directory with its `index.html`.
//!
//! The host mounts the files read-only and the guest sees nothing outside them, so a path
//! with `..` cannot reach the host's disk; the check below only makes such a request a 404
//! instead of an error.
#![forbid(unsafe_code)]

use std::path::{Component, Path, PathBuf};

use rotor_sdk::http::{
    header, HeaderValue, IncomingBody, IntoResponse, Method, Request, Response, StatusCode,
};

/// Serves the file the path names.
#[rotor_sdk::http_component]
fn serve(request: Request<IncomingBody>) -> impl IntoResponse {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n").into_response();
    }
    let Some(path) = file_path(request.uri().path()) else {
        return not_found();
    };
    match std::fs::read(&path) {
        Ok(contents) => {
            let body = if request.method() == Method::HEAD {
                Vec::new()
            } else {
                contents
            };
            let mut response = body.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            );
            response
        }
        Err(_) => not_found(),
    }
}

/// The file a request path names: below `/`, with `index.html` for a directory.
fn file_path(request_path: &str) -> Option<PathBuf> {
    let relative = Path::new(request_path.trim_start_matches('/'));
    if !relative
        .components()
        .all(|part| matches!(part, Component::Normal(_)))
    {
        return None;
    }
    let path = Path::new("/").join(relative);
    if request_path.ends_with('/') || path.is_dir() {
        Some(path.join("index.html"))
    } else {
        Some(path)
    }
}

/// The media type for a file, from its extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found\n").into_response()
}
