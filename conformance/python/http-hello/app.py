# The http-hello app of Rotor's conformance kit (../../http-hello/test.json5), written with
# Python's spin-sdk 3.4 and built with componentize-py: a worked example of an SDK other than
# Rotor's passing the kit.
from urllib.parse import parse_qs, urlsplit

from spin_sdk import http
from spin_sdk.http import Request, Response


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        query = parse_qs(urlsplit(request.uri).query)
        name = query.get("name", ["world"])[0]
        return Response(
            200,
            {"content-type": "text/plain; charset=utf-8"},
            f"Hello, {name}!\n".encode(),
        )
