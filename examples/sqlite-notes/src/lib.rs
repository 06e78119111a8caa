//! Notes kept in SQLite: create, read, update, delete, with rows mapped to structs.
#![forbid(unsafe_code)]

use rotor_sdk::http::{Bytes, IntoResponse, Json, Params, Request, Response, Router, StatusCode};
use rotor_sdk::sqlite::{self, params, Connection};
use serde::{Deserialize, Serialize};

/// A note as stored and as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
struct Note {
    id: i64,
    title: String,
    body: Option<String>,
    pinned: bool,
}

/// What a client sends to create or change a note.
#[derive(Debug, Deserialize)]
struct NoteInput {
    title: Option<String>,
    body: Option<String>,
    pinned: Option<bool>,
}

const COLUMNS: &str = "id, title, body, pinned";

/// Why a request failed: a client mistake, or a database failure the client is not shown.
enum Failure {
    Client(StatusCode, &'static str),
    Database(String),
}

impl From<sqlite::Error> for Failure {
    fn from(error: sqlite::Error) -> Failure {
        Failure::Database(error.to_string())
    }
}

impl From<sqlite::RowError> for Failure {
    fn from(error: sqlite::RowError) -> Failure {
        Failure::Database(error.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Failure::Client(status, message) => (status, message),
            Failure::Database(detail) => {
                eprintln!("database: {detail}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the database is unavailable",
                )
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

fn note_id(params: &Params) -> Result<i64, Failure> {
    params
        .get("id")
        .and_then(|id| id.parse().ok())
        .ok_or(Failure::Client(
            StatusCode::BAD_REQUEST,
            "note ids are integers",
        ))
}

fn input(request: &Request<Bytes>) -> Result<NoteInput, Failure> {
    Json::<NoteInput>::from_bytes(request.body())
        .map(|Json(input)| input)
        .map_err(|_| Failure::Client(StatusCode::BAD_REQUEST, "the body must be a JSON note"))
}

fn find(db: &Connection, id: i64) -> Result<Note, Failure> {
    let result = db.execute(
        &format!("SELECT {COLUMNS} FROM notes WHERE id = ?"),
        params![id],
    )?;
    result
        .deserialize::<Note>()?
        .pop()
        .ok_or(Failure::Client(StatusCode::NOT_FOUND, "no such note"))
}

fn list() -> Result<Json<Vec<Note>>, Failure> {
    let db = Connection::open_default()?;
    let result = db.execute(
        &format!("SELECT {COLUMNS} FROM notes ORDER BY pinned DESC, id"),
        &[],
    )?;
    Ok(Json(result.deserialize()?))
}

fn create(request: Request<Bytes>) -> Result<Response, Failure> {
    let input = input(&request)?;
    let title = input
        .title
        .filter(|t| !t.trim().is_empty())
        .ok_or(Failure::Client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a note needs a title",
        ))?;
    let db = Connection::open_default()?;
    let inserted = db.execute(
        "INSERT INTO notes (title, body, pinned) VALUES (?, ?, ?) RETURNING id",
        params![title, input.body, input.pinned.unwrap_or(false)],
    )?;
    let id: i64 = inserted
        .rows()
        .next()
        .ok_or_else(|| Failure::Database("INSERT returned no id".into()))?
        .get("id")?;
    let note = find(&db, id)?;
    let mut response = (StatusCode::CREATED, Json(note)).into_response();
    if let Ok(location) = format!("/notes/{id}").parse() {
        response.headers_mut().insert("location", location);
    }
    Ok(response)
}

fn get(params: Params) -> Result<Json<Note>, Failure> {
    let id = note_id(&params)?;
    Ok(Json(find(&Connection::open_default()?, id)?))
}

fn update(params: Params, request: Request<Bytes>) -> Result<Json<Note>, Failure> {
    let id = note_id(&params)?;
    let input = input(&request)?;
    if input.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(Failure::Client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a note needs a title",
        ));
    }
    let db = Connection::open_default()?;
    let current = find(&db, id)?;
    db.execute(
        "UPDATE notes SET title = ?, body = ?, pinned = ? WHERE id = ?",
        params![
            input.title.unwrap_or(current.title),
            input.body.or(current.body),
            input.pinned.unwrap_or(current.pinned),
            id
        ],
    )?;
    Ok(Json(find(&db, id)?))
}

fn delete(params: Params) -> Result<StatusCode, Failure> {
    let id = note_id(&params)?;
    let db = Connection::open_default()?;
    find(&db, id)?;
    db.execute("DELETE FROM notes WHERE id = ?", params![id])?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns a handler's `Result<T, Failure>` into a response.
fn respond<T: IntoResponse>(result: Result<T, Failure>) -> Response {
    match result {
        Ok(value) => value.into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// Routes `/notes` and `/notes/:id`.
#[rotor_sdk::http_component]
async fn handle(request: Request<Bytes>) -> Response {
    Router::new()
        .get("/notes", || respond(list()))
        .post("/notes", |r: Request<Bytes>| respond(create(r)))
        .get("/notes/:id", |p: Params| respond(get(p)))
        .patch("/notes/:id", |p: Params, r: Request<Bytes>| {
            respond(update(p, r))
        })
        .delete("/notes/:id", |p: Params| respond(delete(p)))
        .handle(request)
        .await
}
