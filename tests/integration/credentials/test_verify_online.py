"""Online verification: status lists and key documents come from a real HTTP server on
loopback through the real outbound client (its allow-list opened for 127.0.0.0/8, as in the
demo); the HTTP cache honours max-age, no-store and ETag revalidation, and the result says
what was fetched and how long ago. Without the allow-list the same address is refused."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lti_badger.credentials.eddsa import sign
from lti_badger.credentials.fetching import FetchingSource, HttpCache
from lti_badger.credentials.services import verify_submitted
from lti_badger.credentials.verify import REVOKED, MapSource, verify_credential
from lti_badger.outbound import OutboundClient, OutboundPolicy
from tests.make_verify_corpus import ISSUER, base, bitstring_list, entry

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


class Server:
    def __init__(self) -> None:
        self.documents: dict[str, tuple[dict, dict[str, str]]] = {}
        self.requests: list[tuple[str, str | None]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                owner.requests.append((self.path, self.headers.get("If-None-Match")))
                found = owner.documents.get(self.path)
                if found is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                document, headers = found
                etag = headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    return
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def _credential(server: Server, path: str, index: int, revoked: set[int], headers: dict[str, str]) -> dict:
    url = server.url + path
    server.documents[path] = (bitstring_list(url, "revocation", {i: 1 for i in revoked}), headers)
    return sign(base(credentialStatus=entry("BitstringStatusListEntry", "revocation", url, index)), ISSUER,
                "2025-01-15T10:00:00Z")


def _verify(credential, client, cache, clock):
    return verify_credential(credential, status_source=FetchingSource(client, cache, clock=clock), now=NOW)


def test_status_list_is_fetched_cached_for_max_age_then_revalidated_with_its_etag(server):
    client = OutboundClient(OutboundPolicy.from_setting("127.0.0.0/8"))
    cache, now = HttpCache(), [1000.0]
    credential = _credential(server, "/lists/1", 3, {7}, {"Cache-Control": "max-age=60", "ETag": '"v1"'})
    first = _verify(credential, client, cache, lambda: now[0])
    assert first.valid, first.verdict
    assert first.fetched == [{"url": server.url + "/lists/1", "cached": False, "fetched_at": "1970-01-01T00:16:40Z",
                              "age_seconds": 0}]
    now[0] += 30  # within max-age: not asked again, reported as 30 s old
    second = _verify(credential, client, cache, lambda: now[0])
    assert second.valid and second.fetched[0]["cached"] is True and second.fetched[0]["age_seconds"] == 30
    assert len(server.requests) == 1
    now[0] += 60  # stale: revalidated with If-None-Match, answered 304
    third = _verify(credential, client, cache, lambda: now[0])
    assert third.valid and server.requests[-1] == ("/lists/1", '"v1"') and third.fetched[0]["age_seconds"] == 0


def test_no_store_is_fetched_every_time_and_a_revocation_shows_at_once(server):
    client = OutboundClient(OutboundPolicy.from_setting("127.0.0.0/8"))
    cache = HttpCache()
    credential = _credential(server, "/lists/2", 7, set(), {"Cache-Control": "no-store"})
    assert _verify(credential, client, cache, lambda: 5.0).valid
    server.documents["/lists/2"] = (bitstring_list(server.url + "/lists/2", "revocation", {7: 1}),
                                    {"Cache-Control": "no-store"})
    result = _verify(credential, client, cache, lambda: 6.0)
    assert result.verdict == f"FAILED: {REVOKED}" and len(server.requests) == 2


def test_a_missing_list_is_not_checked_and_says_why(server):
    client = OutboundClient(OutboundPolicy.from_setting("127.0.0.0/8"))
    credential = _credential(server, "/lists/3", 1, set(), {})
    del server.documents["/lists/3"]
    result = _verify(credential, client, HttpCache(), lambda: 1.0)
    assert result.valid and result.state_of("status") == "not checked"
    assert "answered 404" in result.fetched[0]["error"]


def test_the_outbound_policy_refuses_loopback_without_the_allow_list(server):
    credential = _credential(server, "/lists/4", 1, {1}, {})
    result = verify_submitted(credential, local=MapSource({}), now=NOW, fetcher=OutboundClient(OutboundPolicy()))
    assert server.requests == [] and result.state_of("status") == "not checked"
    assert result.fetched and "error" in result.fetched[0]
