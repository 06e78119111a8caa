use rotor_sdk::http::{IntoResponse, Json, StatusCode};

#[derive(serde::Deserialize, serde::Serialize)]
struct Item {
    name: String,
}

#[rotor_sdk::http_component]
async fn create(Json(item): Json<Item>) -> impl IntoResponse {
    (StatusCode::CREATED, Json(item))
}

fn main() {}
