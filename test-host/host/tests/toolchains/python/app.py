# The conformance app of ../test.json5, written against Python's spin-sdk 3.4 (componentize-py).
import json

from spin_sdk import http, key_value, variables
from spin_sdk.http import Request, Response, send
# spin-sdk 3.4's `spin_sdk.sqlite` does not import under componentize-py 0.17; Spin 3's
# interface, which it also binds, does.
from spin_sdk.wit.imports import spin_sqlite_sqlite as sqlite


def text(status, body):
    return Response(status, {"content-type": "text/plain"}, body.encode())


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        path = request.uri.split("?")[0]
        if path == "/hello":
            return text(200, "Hello, world!")
        if path.startswith("/kv/"):
            key = path[len("/kv/"):]
            with key_value.open_default() as store:
                if request.method == "PUT":
                    store.set(key, request.body or b"")
                    return Response(204, {}, None)
                value = store.get(key)
                if value is None:
                    return text(404, "no such key")
                return Response(200, {"content-type": "text/plain"}, value)
        if path.startswith("/var/"):
            return text(200, variables.get(path[len("/var/"):]))
        if path == "/sql":
            with sqlite.Connection.open("default") as db:
                db.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)", [])
                db.execute(
                    "INSERT INTO notes (body) VALUES (?)",
                    [sqlite.Value_Text((request.body or b"").decode())],
                )
                last = db.last_insert_rowid()
                result = db.execute("SELECT id, body FROM notes ORDER BY id", [])
                rows = [[value.value for value in row.values] for row in result.rows]
                body = json.dumps({"rows": rows, "last": last})
                return Response(200, {"content-type": "application/json"}, body.encode())
        if path == "/outbound":
            upstream = send(Request("GET", variables.get("backend_url") + "/greeting", {}, None))
            return text(200, "upstream said: " + (upstream.body or b"").decode())
        return text(404, "Not Found")
