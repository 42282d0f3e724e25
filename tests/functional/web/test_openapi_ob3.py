"""The OpenAPI path items of the standard APIs describe routes that exist, with their methods,
and the OB 3.0 discovery document carries exactly the OB 3.0 ones."""

from __future__ import annotations

from lti_badger.web.openapi_ob3 import OB3, OB3_PATHS, PATHS, SECURITY_SCHEMES


def test_every_documented_operation_is_a_route(app):
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(rule.rule, set()).update(m.lower() for m in rule.methods)
    for path, item in PATHS.items():
        assert path in routes, path
        assert set(item) <= routes[path], (path, set(item) - routes[path])
        for operation in item.values():
            assert operation["operationId"] and operation["responses"]
            for requirement in operation.get("security", []):
                assert set(requirement) <= set(SECURITY_SCHEMES)


def test_discovery_lists_the_ob3_operations(client):
    paths = client.get(f"{OB3}/discovery").get_json()["paths"]
    assert {OB3 + p for p in paths} == set(OB3_PATHS)
