"""The outbound client against real loopback HTTP servers: redirects to another port, a slow
drip, a 200 MiB answer, an error with a body; and its address policy on names that resolve to
private addresses, IPv6 forms embedding IPv4, and the allow-list."""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lti_badger.errors import UpstreamError
from lti_badger.outbound import OutboundClient, OutboundError, OutboundPolicy, is_public_address

LOOPBACK = OutboundPolicy.from_setting("127.0.0.0/8")
SECRET_BODY = "internal-secret-do-not-echo"


class Handler(BaseHTTPRequestHandler):
    other_port = 0
    hits: list[str] = []

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        type(self).hits.append(self.path)
        if self.path == "/json":
            self._send(200, json.dumps({"ok": True, "auth": self.headers.get("Authorization")}).encode(),
                       [("Content-Type", "application/json")])
        elif self.path == "/redirect-other-port":
            self._send(302, headers=[("Location", f"http://127.0.0.1:{self.other_port}/json")])
        elif self.path == "/redirect-loop":
            self._send(302, headers=[("Location", "/redirect-loop")])
        elif self.path == "/redirect-private":
            self._send(302, headers=[("Location", "http://10.0.0.1/json")])
        elif self.path == "/drip":
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.25)
        elif self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            chunk = b"x" * (1024 * 1024)
            try:
                for _ in range(200):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif self.path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(200 * 1024 * 1024))
            self.end_headers()
        elif self.path == "/error":
            self._send(500, SECRET_BODY.encode())
        else:
            self._send(404)

    def do_POST(self):
        type(self).hits.append(self.path)
        length = int(self.headers.get("Content-Length", 0))
        got = self.rfile.read(length)
        if self.path == "/redirect-other-port":
            self._send(307, headers=[("Location", f"http://127.0.0.1:{self.other_port}/json")])
        else:
            self._send(200, json.dumps({"body": got.decode(), "type": self.headers["Content-Type"]}).encode())


@pytest.fixture
def servers():
    made = [ThreadingHTTPServer(("127.0.0.1", 0), Handler) for _ in range(2)]
    made[0].daemon_threads = made[1].daemon_threads = True
    Handler.other_port = made[1].server_port
    Handler.hits = []
    for server in made:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [f"http://127.0.0.1:{s.server_port}" for s in made]
    for server in made:
        server.shutdown()
        server.server_close()


def fixed_resolver(answer: list[str]):
    return lambda host, port: answer


def test_get_json_and_post_form(servers):
    client = OutboundClient(LOOPBACK)
    assert client.get_json(servers[0] + "/json", purpose="the test server")["ok"] is True
    answer = client.request("POST", servers[0] + "/form", purpose="the test server", data={"a": "1 2"}).json()
    assert answer == {"body": "a=1+2", "type": "application/x-www-form-urlencoded"}


def test_redirect_to_another_port_is_followed_and_vetted(servers):
    client = OutboundClient(LOOPBACK)
    response = client.request("GET", servers[0] + "/redirect-other-port", purpose="the test server",
                              headers={"Authorization": "Bearer t"})
    assert response.status == 200 and response.url == servers[1] + "/json"
    assert response.json()["auth"] == "Bearer t"  # same host name: the header is kept


def test_redirect_to_a_private_address_is_refused(servers):
    with pytest.raises(OutboundError, match="address this tool does not connect to"):
        OutboundClient(LOOPBACK).request("GET", servers[0] + "/redirect-private", purpose="the test server")


def test_redirects_are_few(servers):
    response = OutboundClient(LOOPBACK).request("GET", servers[0] + "/redirect-loop", purpose="the test server")
    assert response.status == 302 and Handler.hits.count("/redirect-loop") == LOOPBACK.max_redirects + 1


def test_post_does_not_follow_redirects(servers):
    response = OutboundClient(LOOPBACK).request("POST", servers[0] + "/redirect-other-port", purpose="the test",
                                                data=b"x")
    assert response.status == 307 and Handler.hits == ["/redirect-other-port"]


def test_slow_drip_is_cut_at_the_deadline(servers):
    started = time.monotonic()
    with pytest.raises(OutboundError, match="did not answer within 1 s"):
        OutboundClient(LOOPBACK).request("GET", servers[0] + "/drip", purpose="the test server", timeout=1)
    assert time.monotonic() - started < 2


def test_default_deadline_is_a_few_seconds():
    assert 1 <= OutboundPolicy().deadline <= 10


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
def test_a_huge_answer_is_cut_at_the_cap(servers, path):
    started = time.monotonic()
    with pytest.raises(OutboundError, match="sent more than 1024 KiB"):
        OutboundClient(LOOPBACK).get_json(servers[0] + path, purpose="the test server")
    assert time.monotonic() - started < 3


def test_an_error_answer_shows_the_status_not_the_body(servers, caplog):
    client = OutboundClient(LOOPBACK)
    with caplog.at_level(logging.WARNING, logger="lti_badger.outbound"):
        with pytest.raises(OutboundError) as caught:
            client.get_json(servers[0] + "/error", purpose="the LMS token endpoint")
    assert caught.value.message == "the LMS token endpoint answered 500"
    assert caught.value.status_code == 500 and isinstance(caught.value, UpstreamError)
    assert SECRET_BODY not in json.dumps(caught.value.to_dict())
    assert any(SECRET_BODY in getattr(r, "body", "") for r in caplog.records)  # the detail is logged


def test_unreachable_port_says_could_not_reach():
    with pytest.raises(OutboundError, match="could not reach the test server"):
        OutboundClient(LOOPBACK).request("GET", "http://127.0.0.1:1/", purpose="the test server")


def test_without_allow_list_loopback_and_http_are_refused(servers):
    client = OutboundClient()
    with pytest.raises(OutboundError, match="address this tool does not connect to"):
        client.get_json(servers[0] + "/json", purpose="the test server")
    assert Handler.hits == []
    with pytest.raises(OutboundError, match="must be an https URL"):
        OutboundClient(resolver=fixed_resolver(["93.184.216.34"])).vet("http://lms.example/", "the LMS")


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:8.8.8.8", "2002:7f00:1::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "64:ff9b::7f00:1",
])
def test_non_public_addresses_are_refused(address):
    assert not is_public_address(ipaddress.ip_address(address))
    client = OutboundClient(resolver=fixed_resolver([address]))
    with pytest.raises(OutboundError, match="address this tool does not connect to"):
        client.vet("https://lms.example.edu/.well-known/openid-configuration", "the LMS")


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_pass(address):
    assert is_public_address(ipaddress.ip_address(address))
    OutboundClient(resolver=fixed_resolver([address])).vet("https://lms.example.edu/", "the LMS")


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    client = OutboundClient(resolver=fixed_resolver(["93.184.216.34", "10.0.0.5"]))
    with pytest.raises(OutboundError, match="address this tool does not connect to"):
        client.vet("https://lms.example.edu/", "the LMS")


def test_ipv4_mapped_literal_is_refused_without_connecting():
    with pytest.raises(OutboundError, match="address this tool does not connect to"):
        OutboundClient().request("GET", "https://[::ffff:127.0.0.1]:1/", purpose="the LMS")


def test_a_name_resolving_to_loopback_is_refused_then_opened_by_the_allow_list(servers):
    port = servers[0].rsplit(":", 1)[1]
    url = f"http://lms.internal.test:{port}/json"
    loopback = fixed_resolver(["127.0.0.1"])
    with pytest.raises(OutboundError, match="address this tool does not connect to"):
        OutboundClient(resolver=loopback).get_json(url, purpose="the LMS")
    by_name = OutboundPolicy.from_setting("lms.internal.test")
    assert OutboundClient(by_name, resolver=loopback).get_json(url, purpose="the LMS")["ok"] is True
    by_network = OutboundPolicy.from_setting("10.0.0.0/8, 127.0.0.1")
    assert OutboundClient(by_network, resolver=loopback).get_json(url, purpose="the LMS")["ok"] is True
    assert Handler.hits == ["/json", "/json"]


def test_the_connection_goes_to_the_vetted_address():
    """A resolver that answers a public address first: the client connects there (not to a
    second lookup's answer), so the loopback server is never hit."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    client = OutboundClient(OutboundPolicy(deadline=0.5), resolver=lambda host, port: next(answers))
    with pytest.raises(OutboundError):
        client.request("GET", "https://rebind.example/", purpose="the LMS")
    assert next(answers) == ["127.0.0.1"]  # resolved once only


def test_allow_list_setting_parses_hosts_and_networks():
    policy = OutboundPolicy.from_setting("127.0.0.0/8 ::1, LMS.Example.")
    assert policy.opens_host("lms.example") and not policy.opens_host("other.example")
    assert policy.opens_address(ipaddress.ip_address("127.5.5.5"))
    assert policy.opens_address(ipaddress.ip_address("::1"))
    assert not policy.opens_address(ipaddress.ip_address("10.0.0.1"))


class KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    peers: list[int] = []
    sni: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).peers.append(self.client_address[1])
        if self.path == "/drip-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for _ in range(40):
                self.wfile.write(b"X-Slow: 1\r\n")
                self.wfile.flush()
                time.sleep(0.25)
            return
        body = json.dumps({"host": self.headers["Host"]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(server):
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_keep_alive_reuses_one_connection():
    server = _serve(ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveHandler))
    KeepAliveHandler.peers = []
    try:
        client = OutboundClient(LOOPBACK)
        for _ in range(3):
            assert client.get_json(f"http://127.0.0.1:{server.server_port}/", purpose="the test server")
        assert len(KeepAliveHandler.peers) == 3 and len(set(KeepAliveHandler.peers)) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_slow_headers_are_cut_at_the_deadline():
    server = _serve(ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveHandler))
    try:
        started = time.monotonic()
        with pytest.raises(OutboundError, match="did not answer within 1 s"):
            OutboundClient(LOOPBACK).request("GET", f"http://127.0.0.1:{server.server_port}/drip-headers",
                                             purpose="the test server", timeout=1)
        assert time.monotonic() - started < 2
    finally:
        server.shutdown()
        server.server_close()


def _certificate(name: str):
    """A self-signed certificate for `name` (PEM certificate, PEM key)."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@pytest.fixture
def tls_server(tmp_path):
    import ssl

    cert, key = _certificate("lms.example.test")
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    KeepAliveHandler.sni = []
    context.sni_callback = lambda sock, name, ctx: KeepAliveHandler.sni.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _serve(server)
    yield server.server_port, ssl.create_default_context(cadata=cert.decode())
    server.shutdown()
    server.server_close()


def test_https_connects_to_the_vetted_address_with_the_name_for_sni_and_host(tls_server):
    port, trust = tls_server
    client = OutboundClient(LOOPBACK, resolver=fixed_resolver(["127.0.0.1"]), tls=trust)
    answer = client.get_json(f"https://lms.example.test:{port}/", purpose="the LMS")
    assert answer == {"host": f"lms.example.test:{port}"} and KeepAliveHandler.sni == ["lms.example.test"]


def test_https_checks_the_certificate_of_the_name(tls_server):
    port, trust = tls_server
    client = OutboundClient(LOOPBACK, resolver=fixed_resolver(["127.0.0.1"]), tls=trust)
    with pytest.raises(OutboundError, match="could not reach the LMS"):
        client.get_json(f"https://other.example.test:{port}/", purpose="the LMS")
