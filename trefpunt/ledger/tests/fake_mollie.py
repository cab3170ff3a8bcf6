"""A local fake of the Mollie payments API (the part the adapter uses), served over real
HTTP on 127.0.0.1 for the tests: create a payment, read it back, and let the test decide
what happened to it."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "test_trefpuntfakekey000000000000"


@dataclass
class FakeMollie:
    url: str
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)

    def settle(self, payment_id: str, status: str, **changes: Any) -> None:
        self.payments[payment_id].update(status=status, **changes)


@contextmanager
def fake_mollie() -> Iterator[FakeMollie]:
    box: list[FakeMollie] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/hal+json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {API_KEY}":
                return True
            self._answer(401, {"status": 401, "title": "Unauthorized Request", "detail": "key"})
            return False

        def do_POST(self) -> None:
            if not self._authorised():
                return
            if self.path.rstrip("/") != "/v2/payments":
                self._answer(404, {"status": 404, "title": "Not Found", "detail": self.path})
                return
            data = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            payment_id = "tr_" + secrets.token_hex(5)
            payment = {
                "resource": "payment",
                "id": payment_id,
                "status": "open",
                "amount": data["amount"],
                "description": data.get("description", ""),
                "metadata": data.get("metadata"),
                "redirectUrl": data.get("redirectUrl"),
                "webhookUrl": data.get("webhookUrl"),
                "_links": {
                    "checkout": {
                        "href": f"{box[0].url}/checkout/{payment_id}",
                        "type": "text/html",
                    }
                },
            }
            with lock:
                box[0].created.append(data)
                box[0].payments[payment_id] = payment
            self._answer(201, payment)

        def do_GET(self) -> None:
            if not self._authorised():
                return
            prefix = "/v2/payments/"
            payment = box[0].payments.get(self.path.removeprefix(prefix).split("?")[0])
            if not self.path.startswith(prefix) or payment is None:
                self._answer(
                    404,
                    {"status": 404, "title": "Not Found", "detail": "No payment exists"},
                )
                return
            self._answer(200, payment)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(FakeMollie(url=f"http://127.0.0.1:{server.server_port}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
