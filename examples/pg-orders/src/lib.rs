//! A REST orders service on PostgreSQL:
//!
//! - `GET /orders` (optionally `?customer=NAME`), `GET /orders/:id`;
//! - `POST /orders` with `{customer, item, quantity, unit_price_cents, note?}`;
//! - `POST /orders/:id/ship`, `DELETE /orders/:id`.
//!
//! The database address is the variable `database_url`; the schema is `schema.sql`.
#![forbid(unsafe_code)]

use rotor_sdk::http::{Bytes, IntoResponse, Json, Params, Request, Response, Router, StatusCode};
use rotor_sdk::pg::{self, params, Connection};
use rotor_sdk::variables;
use serde::{Deserialize, Serialize};

const COLUMNS: &str = "id, customer, item, quantity, unit_price_cents, shipped, note";

/// An order as the API shows it (and as a row maps into it).
#[derive(Serialize, Deserialize)]
struct Order {
    id: i32,
    customer: String,
    item: String,
    quantity: i32,
    unit_price_cents: i64,
    shipped: bool,
    note: Option<String>,
}

#[derive(Serialize)]
struct OrderView {
    #[serde(flatten)]
    order: Order,
    total_cents: i64,
}

impl From<Order> for OrderView {
    fn from(order: Order) -> Self {
        OrderView {
            total_cents: i64::from(order.quantity) * order.unit_price_cents,
            order,
        }
    }
}

/// What a client sends to place an order.
#[derive(Deserialize)]
struct NewOrder {
    customer: String,
    item: String,
    quantity: i32,
    unit_price_cents: i64,
    #[serde(default)]
    note: Option<String>,
}

#[rotor_sdk::http_component]
async fn handle(request: Request<Bytes>) -> Response {
    Router::new()
        .get("/orders", list)
        .post("/orders", create)
        .get("/orders/:id", show)
        .delete("/orders/:id", remove)
        .post("/orders/:id/ship", ship)
        .handle(request)
        .await
}

fn list(request: Request<Bytes>) -> Response {
    let customer = request.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("customer="))
            .map(str::to_owned)
    });
    let result = connect().and_then(|db| match &customer {
        Some(customer) => db
            .query(
                &format!("SELECT {COLUMNS} FROM orders WHERE customer = $1 ORDER BY id"),
                params![customer],
            )
            .map_err(Failure::from),
        None => db
            .query(&format!("SELECT {COLUMNS} FROM orders ORDER BY id"), &[])
            .map_err(Failure::from),
    });
    match result.and_then(|rows| rows.deserialize::<Order>().map_err(Failure::from)) {
        Ok(orders) => {
            Json(orders.into_iter().map(OrderView::from).collect::<Vec<_>>()).into_response()
        }
        Err(failure) => failure.into_response(),
    }
}

fn create(request: Request<Bytes>) -> Response {
    let order: NewOrder = match Json::from_bytes(request.body()) {
        Ok(Json(order)) => order,
        Err(rejection) => return rejection.into_response(),
    };
    if order.quantity <= 0 || order.unit_price_cents < 0 || order.customer.trim().is_empty() {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "customer must be set, quantity positive and unit_price_cents not negative",
        );
    }
    let inserted = connect().and_then(|db| {
        db.query(
            &format!(
                "INSERT INTO orders (customer, item, quantity, unit_price_cents, note) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
            ),
            params![
                order.customer.as_str(),
                order.item.as_str(),
                order.quantity,
                order.unit_price_cents,
                order.note.as_deref()
            ],
        )
        .map_err(Failure::from)
    });
    match inserted.and_then(|rows| one(rows.deserialize::<Order>())) {
        Ok(Some(order)) => {
            let location = format!("/orders/{}", order.id);
            let mut response = (StatusCode::CREATED, Json(OrderView::from(order))).into_response();
            if let Ok(value) = location.parse() {
                response.headers_mut().insert("location", value);
            }
            response
        }
        Ok(None) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the insert returned nothing",
        ),
        Err(failure) => failure.into_response(),
    }
}

fn show(params: Params) -> Response {
    let Some(id) = order_id(&params) else {
        return problem(StatusCode::BAD_REQUEST, "the id must be a number");
    };
    let found = connect().and_then(|db| {
        db.query(
            &format!("SELECT {COLUMNS} FROM orders WHERE id = $1"),
            params![id],
        )
        .map_err(Failure::from)
    });
    match found.and_then(|rows| one(rows.deserialize::<Order>())) {
        Ok(Some(order)) => Json(OrderView::from(order)).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, "no such order"),
        Err(failure) => failure.into_response(),
    }
}

fn ship(params: Params) -> Response {
    let Some(id) = order_id(&params) else {
        return problem(StatusCode::BAD_REQUEST, "the id must be a number");
    };
    let updated = connect().and_then(|db| {
        db.query(
            &format!("UPDATE orders SET shipped = true WHERE id = $1 RETURNING {COLUMNS}"),
            params![id],
        )
        .map_err(Failure::from)
    });
    match updated.and_then(|rows| one(rows.deserialize::<Order>())) {
        Ok(Some(order)) => Json(OrderView::from(order)).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, "no such order"),
        Err(failure) => failure.into_response(),
    }
}

fn remove(params: Params) -> Response {
    let Some(id) = order_id(&params) else {
        return problem(StatusCode::BAD_REQUEST, "the id must be a number");
    };
    let deleted = connect().and_then(|db| {
        db.execute("DELETE FROM orders WHERE id = $1", params![id])
            .map_err(Failure::from)
    });
    match deleted {
        Ok(0) => problem(StatusCode::NOT_FOUND, "no such order"),
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(failure) => failure.into_response(),
    }
}

fn order_id(params: &Params) -> Option<i32> {
    params.get("id")?.parse().ok()
}

fn connect() -> Result<Connection, Failure> {
    let address = variables::get("database_url").map_err(|e| Failure(e.to_string()))?;
    Ok(Connection::open(&address)?)
}

fn one<T>(rows: Result<Vec<T>, pg::RowError>) -> Result<Option<T>, Failure> {
    Ok(rows?.into_iter().next())
}

/// A failure on the server side: logged in full, answered with a generic 500.
struct Failure(String);

impl From<pg::Error> for Failure {
    fn from(error: pg::Error) -> Self {
        Failure(format!("{error:?}"))
    }
}

impl From<pg::RowError> for Failure {
    fn from(error: pg::RowError) -> Self {
        Failure(error.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        eprintln!("orders: {}", self.0);
        problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the orders database failed",
        )
    }
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
