//! An aggregator: `GET /users/:id/summary` calls a backend for the user and for their todos,
//! and answers one small JSON document made from both.
//!
//! The backend's address is the variable `backend_url`; `allowed_outbound_hosts` grants that
//! address and nothing else.
#![forbid(unsafe_code)]

use std::time::Duration;

use rotor_sdk::http::outbound::{self, SendError, SendErrorKind, Timeouts};
use rotor_sdk::http::{Bytes, IntoResponse, Json, Params, Request, Response, Router, StatusCode};
use rotor_sdk::variables;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// How long the backend may take, per phase, before the summary gives up.
const BACKEND_TIMEOUT: Duration = Duration::from_secs(5);

/// A user as the backend sends it (fields we do not use are ignored).
#[derive(Deserialize)]
struct User {
    id: u64,
    name: String,
    email: String,
    address: Option<Address>,
}

#[derive(Deserialize)]
struct Address {
    city: String,
}

/// A todo as the backend sends it.
#[derive(Deserialize)]
struct Todo {
    completed: bool,
}

/// What this service answers.
#[derive(Serialize)]
struct Summary {
    id: u64,
    name: String,
    email_domain: String,
    city: Option<String>,
    todos: TodoCounts,
}

#[derive(Serialize)]
struct TodoCounts {
    total: usize,
    done: usize,
}

#[rotor_sdk::http_component]
async fn handle(request: Request<Bytes>) -> Response {
    Router::new()
        .get("/users/:id/summary", summary)
        .handle(request)
        .await
}

async fn summary(params: Params) -> Response {
    let Some(id) = params.get("id").and_then(|id| id.parse::<u64>().ok()) else {
        return problem(StatusCode::BAD_REQUEST, "the user id must be a number");
    };
    let backend = match variables::get("backend_url") {
        Ok(url) => url.trim_end_matches('/').to_owned(),
        Err(error) => {
            eprintln!("cannot read backend_url: {error}");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "misconfigured");
        }
    };
    let user: User = match fetch(&format!("{backend}/users/{id}")).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let todos: Vec<Todo> = match fetch(&format!("{backend}/users/{id}/todos")).await {
        Ok(todos) => todos,
        Err(response) => return response,
    };
    Json(Summary {
        id: user.id,
        email_domain: user
            .email
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_ascii_lowercase())
            .unwrap_or_default(),
        name: user.name,
        city: user.address.map(|a| a.city),
        todos: TodoCounts {
            total: todos.len(),
            done: todos.iter().filter(|t| t.completed).count(),
        },
    })
    .into_response()
}

/// GETs `url` as JSON; a failure is already the response to give the client.
async fn fetch<T: DeserializeOwned>(url: &str) -> Result<T, Response> {
    let mut request = Request::get(url)
        .header("accept", "application/json")
        .body(())
        .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))?;
    request
        .extensions_mut()
        .insert(Timeouts::all(BACKEND_TIMEOUT));
    let response = outbound::send(request).await.map_err(backend_failure)?;
    match response.status() {
        StatusCode::NOT_FOUND => Err(problem(StatusCode::NOT_FOUND, "no such user")),
        status if !status.is_success() => {
            eprintln!("{url} answered {status}");
            Err(problem(StatusCode::BAD_GATEWAY, "the backend failed"))
        }
        _ => response.into_body().json().await.map_err(|error| {
            eprintln!("{url} sent unexpected JSON: {error}");
            problem(
                StatusCode::BAD_GATEWAY,
                "the backend sent something unexpected",
            )
        }),
    }
}

fn backend_failure(error: SendError) -> Response {
    eprintln!("calling the backend failed: {error}");
    match error.kind() {
        SendErrorKind::Timeout => problem(StatusCode::GATEWAY_TIMEOUT, "the backend is too slow"),
        _ => problem(StatusCode::BAD_GATEWAY, "the backend is unavailable"),
    }
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
