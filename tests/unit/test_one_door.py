"""Issue 12 finding 1, kept true: no module of the tool makes an HTTP request except through
`lti_badger/outbound.py`. The source is read (not imported), so a new direct use of `requests`,
`urllib.request`, `http.client`, `httpx` or `urllib3`, or of pylti1p3's own HTTP (its
service connector), fails here before it is merged. `devtools/` is not the tool: it plays the
LMS and the browser in tests and the demo."""

from __future__ import annotations

import ast
from pathlib import Path

import lti_badger

PACKAGE = Path(lti_badger.__file__).parent
DOOR = PACKAGE / "outbound.py"
HTTP_MODULES = ("requests", "urllib.request", "http.client", "httpx", "urllib3", "aiohttp", "pycurl")
# pylti1p3 methods that send requests with its own `requests.Session`.
PYLTI_HTTP = {"get_ags", "get_nrps", "get_service_connector", "get_access_token", "make_service_request"}


def _is_http(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in HTTP_MODULES)


def direct_http(path: Path) -> list[str]:
    """What in this file reaches the network without the outbound client."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if _is_http(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
            found += [f"from {node.module} import {n.rsplit('.', 1)[1]}" for n in names
                      if _is_http(node.module) or _is_http(n)]
        elif isinstance(node, ast.Attribute) and node.attr in PYLTI_HTTP:
            found.append(f".{node.attr}()")
        elif isinstance(node, ast.Attribute) and node.attr == "create_connection":
            found.append("socket.create_connection")
    return found


def tool_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if p != DOOR and "devtools" not in p.relative_to(PACKAGE).parts]


def test_only_the_outbound_client_speaks_http():
    offenders = [f"{path.relative_to(PACKAGE.parent)}: {hit}" for path in tool_modules() for hit in direct_http(path)]
    assert offenders == [], "send these through lti_badger.outbound (the one outbound client): " + ", ".join(offenders)


def test_the_check_finds_a_direct_call(tmp_path):
    """The check itself can fail: each way around the door is caught."""
    sample = tmp_path / "direct.py"
    sample.write_text("import requests\nfrom urllib.request import urlopen\nimport http.client as hc\n"
                      "from httpx import Client\nfrom requests import Session\nlaunch.get_ags()\n"
                      "socket.create_connection(a)\nfrom urllib.parse import urlsplit\n")
    assert len(direct_http(sample)) == 7
    assert direct_http(DOOR)  # the door itself is the one place that may
    assert len(tool_modules()) > 50 and DOOR not in tool_modules()
