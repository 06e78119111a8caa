//! A JSON REST resource, `/books`, with typed path parameters, open to one browser origin
//! through CORS.
//!
//! The data lives in memory and every request gets a fresh instance, so the catalogue starts
//! from the same seed on each request; a write answers as if it was stored. Swap `Catalogue`
//! for key-value or SQLite storage to keep what clients write.
#![forbid(unsafe_code)]

use std::time::Duration;

use rotor_sdk::http::layers::Cors;
use rotor_sdk::http::{
    Bytes, IncomingBody, IntoResponse, Json, Method, Path, Rejection, Request, Response, Router,
    StatusCode,
};
use serde::{Deserialize, Serialize};

/// A book as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Book {
    id: u32,
    title: String,
    author: String,
}

/// The fields a client sends to create a book.
#[derive(Debug, Deserialize)]
struct NewBook {
    title: String,
    author: String,
}

/// The books every instance starts with.
struct Catalogue {
    books: Vec<Book>,
}

impl Catalogue {
    fn seeded() -> Self {
        let book = |id, title: &str, author: &str| Book {
            id,
            title: title.to_owned(),
            author: author.to_owned(),
        };
        Catalogue {
            books: vec![
                book(1, "The Left Hand of Darkness", "Ursula K. Le Guin"),
                book(2, "Kindred", "Octavia E. Butler"),
            ],
        }
    }

    fn find(&self, id: u32) -> Option<&Book> {
        self.books.iter().find(|book| book.id == id)
    }
}

/// A JSON error body, so that clients can always parse what they get.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// The `:id` of the path as a number; taking the `Result` lets a bad id get this API's JSON
/// error instead of the SDK's plain-text rejection.
type BookId = Result<Path<u32>, Rejection>;

fn bad_id() -> Response {
    error(StatusCode::BAD_REQUEST, "book ids are positive integers")
}

fn list_books() -> impl IntoResponse {
    Json(Catalogue::seeded().books)
}

fn get_book(id: BookId) -> Response {
    let Ok(Path(id)) = id else {
        return bad_id();
    };
    match Catalogue::seeded().find(id) {
        Some(book) => Json(book.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such book"),
    }
}

fn create_book(request: Request<Bytes>) -> Response {
    let new_book = match Json::<NewBook>::from_bytes(request.body()) {
        Ok(Json(new_book)) => new_book,
        Err(rejection) => return error(rejection.status(), rejection.message()),
    };
    if new_book.title.trim().is_empty() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "a book needs a title");
    }
    let catalogue = Catalogue::seeded();
    let id = catalogue.books.iter().map(|b| b.id).max().unwrap_or(0) + 1;
    let book = Book {
        id,
        title: new_book.title,
        author: new_book.author,
    };
    let mut response = (StatusCode::CREATED, Json(book)).into_response();
    if let Ok(location) = format!("/books/{id}").parse() {
        response.headers_mut().insert("location", location);
    }
    response
}

fn delete_book(id: BookId) -> Response {
    let Ok(Path(id)) = id else {
        return bad_id();
    };
    match Catalogue::seeded().find(id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(StatusCode::NOT_FOUND, "no such book"),
    }
}

/// Lets pages from the bookshop's site call the API from a browser.
fn cors() -> Cors {
    Cors::new()
        .allow_origin("https://books.example")
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers(["content-type"])
        .max_age(Duration::from_secs(600))
}

/// Routes `/books` and `/books/:id`.
#[rotor_sdk::http_component]
async fn handle(request: Request<IncomingBody>) -> Response {
    Router::new()
        .get("/books", list_books)
        .post("/books", create_book)
        .get("/books/:id", get_book)
        .delete("/books/:id", delete_book)
        .layer(cors())
        .handle(request)
        .await
}
