//! A stock inventory on MySQL or MariaDB:
//!
//! - `GET /items`, `GET /items/:sku`;
//! - `PUT /items/:sku` with `{name, quantity}` creates or replaces an item;
//! - `POST /items/:sku/adjust` with `{delta}` adds to or takes from the stock, never below 0.
//!
//! The database address is the variable `database_url`; the schema is `schema.sql`.
#![forbid(unsafe_code)]

use rotor_sdk::http::{Bytes, IntoResponse, Json, Params, Request, Response, Router, StatusCode};
use rotor_sdk::mysql::{self, params, Connection};
use rotor_sdk::variables;
use serde::{Deserialize, Serialize};

/// An item as the API shows it (and as a row maps into it).
#[derive(Serialize, Deserialize)]
struct Item {
    sku: String,
    name: String,
    quantity: u32,
}

#[derive(Deserialize)]
struct ItemFields {
    name: String,
    quantity: u32,
}

#[derive(Deserialize)]
struct Adjustment {
    delta: i64,
}

#[rotor_sdk::http_component]
async fn handle(request: Request<Bytes>) -> Response {
    Router::new()
        .get("/items", list)
        .get("/items/:sku", show)
        .put("/items/:sku", replace)
        .post("/items/:sku/adjust", adjust)
        .handle(request)
        .await
}

fn list() -> Response {
    let items = connect().and_then(|db| {
        Ok(db
            .query("SELECT sku, name, quantity FROM stock ORDER BY sku", &[])?
            .deserialize::<Item>()?)
    });
    match items {
        Ok(items) => Json(items).into_response(),
        Err(failure) => failure.into_response(),
    }
}

fn find(db: &Connection, sku: &str) -> Result<Option<Item>, Failure> {
    Ok(db
        .query(
            "SELECT sku, name, quantity FROM stock WHERE sku = ?",
            params![sku],
        )?
        .deserialize::<Item>()?
        .into_iter()
        .next())
}

fn show(params: Params) -> Response {
    let sku = params.get("sku").unwrap_or_default();
    match connect().and_then(|db| find(&db, sku)) {
        Ok(Some(item)) => Json(item).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, "no such item"),
        Err(failure) => failure.into_response(),
    }
}

fn replace(params: Params, request: Request<Bytes>) -> Response {
    let sku = params.get("sku").unwrap_or_default().to_owned();
    let fields: ItemFields = match Json::from_bytes(request.body()) {
        Ok(Json(fields)) => fields,
        Err(rejection) => return rejection.into_response(),
    };
    if sku.len() > 32 || fields.name.trim().is_empty() {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the sku has at most 32 characters and the name must be set",
        );
    }
    let stored = connect().and_then(|db| {
        db.execute(
            "INSERT INTO stock (sku, name, quantity) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE name = VALUES(name), quantity = VALUES(quantity)",
            params![sku.as_str(), fields.name.as_str(), fields.quantity],
        )?;
        find(&db, &sku)
    });
    match stored {
        Ok(Some(item)) => Json(item).into_response(),
        Ok(None) => problem(StatusCode::INTERNAL_SERVER_ERROR, "the item vanished"),
        Err(failure) => failure.into_response(),
    }
}

fn adjust(params: Params, request: Request<Bytes>) -> Response {
    let sku = params.get("sku").unwrap_or_default().to_owned();
    let Adjustment { delta } = match Json::from_bytes(request.body()) {
        Ok(Json(adjustment)) => adjustment,
        Err(rejection) => return rejection.into_response(),
    };
    let outcome = connect().and_then(|db| {
        if delta != 0 {
            // One statement, so two requests at once cannot both take the last item.
            db.execute(
                "UPDATE stock SET quantity = quantity + ? WHERE sku = ? AND CAST(quantity AS SIGNED) + ? >= 0",
                params![delta, sku.as_str(), delta],
            )?;
            let changed: i64 = db
                .query("SELECT ROW_COUNT() AS changed", &[])?
                .rows()
                .next()
                .map(|row| row.get("changed"))
                .transpose()?
                .unwrap_or(0);
            if changed == 0 {
                return Ok(find(&db, &sku)?.map(Err));
            }
        }
        Ok(find(&db, &sku)?.map(Ok))
    });
    match outcome {
        Ok(None) => problem(StatusCode::NOT_FOUND, "no such item"),
        Ok(Some(Err(item))) => problem(
            StatusCode::CONFLICT,
            &format!("only {} in stock", item.quantity),
        ),
        Ok(Some(Ok(item))) => Json(item).into_response(),
        Err(failure) => failure.into_response(),
    }
}

fn connect() -> Result<Connection, Failure> {
    let address = variables::get("database_url").map_err(|e| Failure(e.to_string()))?;
    Ok(Connection::open(&address)?)
}

/// A failure on the server side: logged in full, answered with a generic 500.
struct Failure(String);

impl From<mysql::Error> for Failure {
    fn from(error: mysql::Error) -> Self {
        Failure(format!("{error:?}"))
    }
}

impl From<mysql::RowError> for Failure {
    fn from(error: mysql::RowError) -> Self {
        Failure(error.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        eprintln!("inventory: {}", self.0);
        problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the inventory database failed",
        )
    }
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
