//! A todo API kept in a key-value store: each todo is a JSON value under `todo:{id}`, and
//! the next id is a counter under `next-id`.
#![forbid(unsafe_code)]

use rotor_sdk::http::{
    Bytes, IntoResponse, Json, Params, Rejection, Request, Response, Router, StatusCode,
};
use rotor_sdk::key_value::{self, Store};
use serde::{Deserialize, Serialize};

/// A todo item as stored and as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Todo {
    id: u64,
    title: String,
    done: bool,
}

/// What a client sends to create or change a todo.
#[derive(Debug, Deserialize)]
struct TodoInput {
    title: Option<String>,
    done: Option<bool>,
}

const PREFIX: &str = "todo:";

fn key(id: u64) -> String {
    format!("{PREFIX}{id}")
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// A store failure is the server's problem: log it, answer 500.
fn store_failure(failure: key_value::Error) -> Response {
    eprintln!("key-value store: {failure}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "storage is unavailable")
}

fn parse_input(request: &Request<Bytes>) -> Result<TodoInput, Rejection> {
    Json::<TodoInput>::from_bytes(request.body()).map(|Json(input)| input)
}

fn bad_input(rejection: Rejection) -> Response {
    error(rejection.status(), rejection.message())
}

/// The `:id` of the path, if it is a number.
fn todo_id(params: &Params) -> Option<u64> {
    params.get("id").and_then(|id| id.parse().ok())
}

fn bad_id() -> Response {
    error(StatusCode::BAD_REQUEST, "todo ids are positive integers")
}

fn list(store: &Store) -> Result<Vec<Todo>, key_value::Error> {
    let mut todos = Vec::new();
    for key in store.get_keys()?.iter().filter(|k| k.starts_with(PREFIX)) {
        if let Some(todo) = store.get_json::<Todo>(key)? {
            todos.push(todo);
        }
    }
    todos.sort_by_key(|todo| todo.id);
    Ok(todos)
}

fn create(store: &Store, input: TodoInput) -> Result<Response, key_value::Error> {
    let Some(title) = input.title.filter(|t| !t.trim().is_empty()) else {
        return Ok(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a todo needs a title",
        ));
    };
    let id = store.get_json::<u64>("next-id")?.unwrap_or(1);
    store.set_json("next-id", &(id + 1))?;
    let todo = Todo {
        id,
        title,
        done: input.done.unwrap_or(false),
    };
    store.set_json(&key(id), &todo)?;
    let mut response = (StatusCode::CREATED, Json(todo)).into_response();
    if let Ok(location) = format!("/todos/{id}").parse() {
        response.headers_mut().insert("location", location);
    }
    Ok(response)
}

fn update(store: &Store, id: u64, input: TodoInput) -> Result<Response, key_value::Error> {
    let Some(mut todo) = store.get_json::<Todo>(&key(id))? else {
        return Ok(error(StatusCode::NOT_FOUND, "no such todo"));
    };
    if let Some(title) = input.title {
        if title.trim().is_empty() {
            return Ok(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "a todo needs a title",
            ));
        }
        todo.title = title;
    }
    if let Some(done) = input.done {
        todo.done = done;
    }
    store.set_json(&key(id), &todo)?;
    Ok(Json(todo).into_response())
}

/// Runs `work` against the default store, turning store errors into a 500.
fn with_store(work: impl FnOnce(&Store) -> Result<Response, key_value::Error>) -> Response {
    Store::open_default()
        .and_then(|store| work(&store))
        .unwrap_or_else(store_failure)
}

fn list_todos() -> Response {
    with_store(|store| list(store).map(|todos| Json(todos).into_response()))
}

fn create_todo(request: Request<Bytes>) -> Response {
    match parse_input(&request) {
        Ok(input) => with_store(|store| create(store, input)),
        Err(rejection) => bad_input(rejection),
    }
}

fn get_todo(params: Params) -> Response {
    let Some(id) = todo_id(&params) else {
        return bad_id();
    };
    with_store(|store| {
        Ok(match store.get_json::<Todo>(&key(id))? {
            Some(todo) => Json(todo).into_response(),
            None => error(StatusCode::NOT_FOUND, "no such todo"),
        })
    })
}

fn update_todo(params: Params, request: Request<Bytes>) -> Response {
    let Some(id) = todo_id(&params) else {
        return bad_id();
    };
    match parse_input(&request) {
        Ok(input) => with_store(|store| update(store, id, input)),
        Err(rejection) => bad_input(rejection),
    }
}

fn delete_todo(params: Params) -> Response {
    let Some(id) = todo_id(&params) else {
        return bad_id();
    };
    with_store(|store| {
        if !store.exists(&key(id))? {
            return Ok(error(StatusCode::NOT_FOUND, "no such todo"));
        }
        store.delete(&key(id))?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

/// Routes `/todos` and `/todos/:id`.
#[rotor_sdk::http_component]
async fn handle(request: Request<Bytes>) -> Response {
    Router::new()
        .get("/todos", list_todos)
        .post("/todos", create_todo)
        .get("/todos/:id", get_todo)
        .patch("/todos/:id", update_todo)
        .delete("/todos/:id", delete_todo)
        .handle(request)
        .await
}
