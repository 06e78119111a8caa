use rotor_sdk::http::{Bytes, Request, Router};

#[rotor_sdk::http_component]
async fn handle(request: Request<Bytes>) -> rotor_sdk::http::Response {
    Router::new()
        .post("/notes", |first: String, second: String| first + &second)
        .handle(request)
        .await
}

fn main() {}
