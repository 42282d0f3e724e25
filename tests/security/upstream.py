"""A hostile upstream for outbound tests: a real HTTP server on a loopback address whose answer
per path a test chooses (JSON, a redirect, an error with a secret body, a huge body, a slow
drip), recording every request it receives, so a test can tell that nothing was fetched."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SECRET = "UPSTREAM-SECRET-4f1c"  # put in bodies that must never reach a person
MIB = 1024 * 1024


class Upstream:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Callable[[Request], Response]] = {}
        self.hits: list[str] = []
        self.bytes_sent = 0
        self._server = make_server(host, 0, self._wsgi, threaded=True)
        self.base = f"http://{host}:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        self.hits.append(request.path)
        handler = self.routes.get(request.path)
        response = handler(request) if handler else Response("no such path", status=404)
        return response(environ, start_response)

    # -- answers ---------------------------------------------------------------------------

    def json(self, path: str, body: dict, status: int = 200) -> None:
        self.routes[path] = lambda _r: Response(json.dumps(body), status=status, mimetype="application/json")

    def redirect(self, path: str, to: str) -> None:
        self.routes[path] = lambda _r: Response("", status=302, headers={"Location": to})

    def secret_error(self, path: str, status: int = 500) -> None:
        body = f"<html>internal stack trace {SECRET} " + "x" * 400 + "</html>"
        self.routes[path] = lambda _r: Response(body, status=status, mimetype="text/html")

    def huge(self, path: str, mib: int = 200) -> None:
        """`mib` MiB of JSON-looking bytes, streamed without a Content-Length."""
        def chunks() -> Iterator[bytes]:
            yield b'{"issuer": "'
            for _ in range(mib):
                self.bytes_sent += MIB
                yield b"a" * MIB
            yield b'"}'
        self.routes[path] = lambda _r: Response(chunks(), mimetype="application/json", direct_passthrough=True)

    def drip(self, path: str, every: float = 0.25, total: float = 60.0) -> None:
        """Headers at once, then one byte every `every` seconds for `total` seconds."""
        def chunks() -> Iterator[bytes]:
            ends = time.monotonic() + total
            yield b"{"
            while time.monotonic() < ends:
                time.sleep(every)
                yield b" "
            yield b"}"
        self.routes[path] = lambda _r: Response(chunks(), mimetype="application/json", direct_passthrough=True)
