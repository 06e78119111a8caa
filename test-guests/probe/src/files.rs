//! `POST /files`: reads the paths of `read` and tries to create `write`, through the files
//! the manifest mounts; answers `{ "read": { PATH: CONTENTS or null }, "written": bool }`.

use std::collections::BTreeMap;

use rotor_sdk::http::{Bytes, IntoResponse, Json, Request, Response};
use serde::Deserialize;

#[derive(Deserialize)]
struct FilesCall {
    #[serde(default)]
    read: Vec<String>,
    #[serde(default)]
    write: Option<String>,
}

pub fn files_call(request: Request<Bytes>) -> Response {
    let call: FilesCall = match Json::from_bytes(request.body()) {
        Ok(Json(call)) => call,
        Err(rejection) => return rejection.into_response(),
    };
    let read: BTreeMap<String, Option<String>> = call
        .read
        .into_iter()
        .map(|path| {
            let contents = std::fs::read_to_string(&path).ok();
            (path, contents)
        })
        .collect();
    let written = call
        .write
        .is_some_and(|path| std::fs::write(path, "written by the guest").is_ok());
    Json(serde_json::json!({ "read": read, "written": written })).into_response()
}
