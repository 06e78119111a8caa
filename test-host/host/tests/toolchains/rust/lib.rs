//! The conformance app of ../test.json5, written against Spin's own Rust SDK and built as
//! Spin's http-rust template builds it: for wasm32-wasip1, a core module.
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::sqlite::{Connection, Value};
use spin_sdk::variables;

fn text(status: u16, body: impl Into<String>) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.into())
        .build()
}

#[http_component]
async fn handle(request: Request) -> anyhow::Result<impl IntoResponse> {
    let path = request.path().to_owned();
    if path == "/hello" {
        return Ok(text(200, "Hello, world!"));
    }
    if let Some(key) = path.strip_prefix("/kv/") {
        let store = Store::open_default()?;
        if *request.method() == Method::Put {
            store.set(key, request.body())?;
            return Ok(Response::builder().status(204).build());
        }
        return Ok(match store.get(key)? {
            Some(value) => text(200, String::from_utf8_lossy(&value)),
            None => text(404, "no such key"),
        });
    }
    if let Some(name) = path.strip_prefix("/var/") {
        return Ok(text(200, variables::get(name)?));
    }
    if path == "/sql" {
        let db = Connection::open_default()?;
        db.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)", &[])?;
        let body = String::from_utf8_lossy(request.body()).into_owned();
        db.execute("INSERT INTO notes (body) VALUES (?)", &[Value::Text(body)])?;
        let last = db.execute("SELECT last_insert_rowid()", &[])?;
        let last: i64 = last.rows[0].get(0).unwrap_or(0);
        let result = db.execute("SELECT id, body FROM notes ORDER BY id", &[])?;
        let rows: Vec<serde_json::Value> = result
            .rows
            .iter()
            .map(|row| {
                let id: i64 = row.get(0).unwrap_or(0);
                let body: &str = row.get(1).unwrap_or("");
                serde_json::json!([id, body])
            })
            .collect();
        let json = serde_json::json!({ "rows": rows, "last": last }).to_string();
        return Ok(Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(json)
            .build());
    }
    if path == "/outbound" {
        let url = format!("{}/greeting", variables::get("backend_url")?);
        let upstream: Response = spin_sdk::http::send(Request::get(url)).await?;
        let said = String::from_utf8_lossy(upstream.body()).into_owned();
        return Ok(text(200, format!("upstream said: {said}")));
    }
    Ok(text(404, "Not Found"))
}
