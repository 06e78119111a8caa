use rotor_sdk::http::{HeaderMap, IntoResponse, Json, Method, Query, StatusCode, Uri};

#[derive(serde::Deserialize)]
struct Options {
    dry_run: Option<bool>,
}

#[derive(serde::Deserialize, serde::Serialize)]
struct Item {
    name: String,
}

#[rotor_sdk::http_component]
async fn create(
    method: Method,
    uri: Uri,
    Query(options): Query<Options>,
    headers: HeaderMap,
    Json(item): Json<Item>,
) -> impl IntoResponse {
    let _ = (method, uri, options.dry_run, headers.len());
    (StatusCode::CREATED, Json(item))
}

fn main() {}
