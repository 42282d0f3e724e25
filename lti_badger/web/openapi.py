"""The OpenAPI 3.1 document served at /openapi.json: every JSON endpoint of the tool (event
ingest, verification and VC-API, the OB 2.0 backpack API, public documents, the admin and
health endpoints).

Other parts add their paths without touching this file: any module `lti_badger/web/openapi_*.py`
with a `PATHS` dict (and optionally `SCHEMAS`, `SECURITY_SCHEMES` and `TAGS`) is merged in; the
helpers here (`operation`, `json_answer`, `errors`, `path_param`, ...) are there to use. A
fragment's operation replaces the one here for the same path and method; two fragments
documenting the same operation are an error. A test checks that every JSON route of the app is
documented."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from ..credentials.checks import CODES as CHECK_CODES

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
LD_JSON = "application/ld+json"
FRAGMENT_PREFIX = "openapi_"


# --- helpers for fragments -----------------------------------------------------------------

def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_answer(description: str, schema: dict[str, Any] | None = None, *, media: str = JSON,
                headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description,
                              "content": {media: {"schema": schema or {"type": "object"}}}}
    if headers:
        answer["headers"] = headers
    return answer


def json_body(schema: dict[str, Any], *, media: str = JSON, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {media: {"schema": schema}}}


_ERROR_TEXT = {400: "Bad input: the message says what", 401: "Missing or wrong credentials",
               403: "Not allowed", 404: "Not found", 409: "Conflict with the current state",
               410: "Gone", 413: "The body is larger than allowed",
               429: "Too many requests: wait for Retry-After seconds"}


def errors(*codes: int) -> dict[str, Any]:
    """The JSON error answers `web.errors` gives (`{"error", "message"}`), plus the 503 with
    Retry-After that any endpoint touching the database may answer during an outage."""
    answers = {str(code): json_answer(_ERROR_TEXT[code], ref("Error")) for code in codes}
    answers["503"] = json_answer("Briefly unavailable (database outage): retry after Retry-After seconds",
                                 ref("Error"), headers={"Retry-After": {"schema": {"type": "integer"}}})
    return answers


def path_param(name: str, schema: dict[str, Any] | None = None, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"},
            **({"description": description} if description else {})}


def query_param(name: str, schema: dict[str, Any] | None = None, description: str = "",
                required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema or {"type": "string"},
            **({"description": description} if description else {})}


def operation(summary: str, tag: str, responses: dict[str, Any], *, parameters: list | None = None,
              body: dict[str, Any] | None = None, security: list | None = None,
              description: str = "") -> dict[str, Any]:
    fields = {"summary": summary, "description": description, "tags": [tag], "parameters": parameters,
              "requestBody": body, "responses": responses}
    op = {key: value for key, value in fields.items() if value}
    if security is not None:  # [] would mean "no authentication" and is kept
        op["security"] = security
    return op


def page_or_document(summary: str, tag: str, schema: dict[str, Any], parameters: list) -> dict[str, Any]:
    """A public URL that is a page for people and JSON-LD for `Accept: application/(ld+)json`."""
    return operation(summary, tag, {
        "200": {"description": "The document (JSON-LD) or, for browsers, its page",
                "content": {LD_JSON: {"schema": schema}, JSON: {"schema": schema},
                            "text/html": {"schema": {"type": "string"}}}},
        **errors(404)}, parameters=parameters)


# --- shared schemas ------------------------------------------------------------------------

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string", "description": "a stable code, e.g. bad_input, not_found"},
        "message": {"type": "string", "description": "what went wrong, for a person"},
        "detail": {"type": "object"}}},
    "OAuthError": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"}, "error_description": {"type": "string"}}},
    "Credential": {"type": "object", "description": "An OpenBadgeCredential (OB 3.0, VC 2.0) with its proof",
                   "required": ["@context", "type"], "properties": {
                       "@context": {"type": "array"}, "id": {"type": "string"},
                       "type": {"type": "array", "items": {"type": "string"}},
                       "issuer": {"type": "object"}, "credentialSubject": {"type": "object"},
                       "proof": {"type": ["object", "array"]}}},
    "Verification": {"type": "object", "required": ["valid", "verdict", "checks"], "properties": {
        "valid": {"type": "boolean"}, "verdict": {"type": "string"}, "kind": {"type": ["string", "null"]},
        "credential_id": {"type": ["string", "null"]}, "issuer": {"type": ["string", "null"]},
        "revoked": {"type": ["boolean", "null"]}, "suspended": {"type": ["boolean", "null"]},
        "checks": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "state": {"type": "string"}, "reason": {"type": ["string", "null"]},
            "code": {"type": ["string", "null"], "description": "what the reason says, for clients that word it "
                     "in their own language (null where the reason has no code)",
                     "enum": [*CHECK_CODES, None]},
            "args": {"type": ["object", "null"], "additionalProperties": {"type": "string"},
                     "description": "the values the reason names (days as YYYY-MM-DD, a context URL)"}}}},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "endorsements": {"type": "array", "description": "Each endorsement the achievement carries, verified on its own",
                         "items": {"type": "object", "properties": {
                             "issuer_name": {"type": ["string", "null"]}, "issuer": {"type": ["string", "null"]},
                             "date": {"type": "string"}, "verdict": {"type": "string"},
                             "valid": {"type": "boolean"}}}}}},
    "IngestAnswer": {"type": "object", "required": ["received", "stored"], "properties": {
        "received": {"type": "integer"}, "stored": {"type": "integer"}, "duplicates": {"type": "integer"}}},
    "Ob2Result": {"type": "object", "required": ["status", "result"], "properties": {
        "status": {"type": "object", "properties": {"success": {"type": "boolean"},
                                                    "description": {"type": "string"}}},
        "result": {"type": "array", "items": {"type": "object"}}}},
    "HealthCheck": {"type": "object", "required": ["ok"], "properties": {
        "ok": {"type": "boolean"}, "schema": {"enum": ["at_head", "behind", "ahead"]},
        "error": {"type": "string"}, "degraded": {"type": "string"}}},
}

SECURITY_SCHEMES: dict[str, Any] = {
    "sourceBasic": {"type": "http", "scheme": "basic",
                    "description": "An xAPI source's key and secret (`lti-badger source add xapi`)"},
    "sourceBearer": {"type": "http", "scheme": "bearer", "description": "A Caliper source's sensor token"},
    "backpackBearer": {"type": "http", "scheme": "bearer",
                       "description": "An access token from POST /o/token (the OB 2.0 backpack API)"},
    "launchToken": {"type": "apiKey", "in": "header", "name": "X-Launch-Token",
                    "description": "The launch token of an LTI launch (also `lt` in the query or the session cookie)"},
    "metricsBearer": {"type": "http", "scheme": "bearer",
                      "description": "The `metrics_token` setting (or a client address in `metrics_allow`)"},
}

TAGS = [
    {"name": "ingest", "description": "Progress events from LMSs and learning record stores"},
    {"name": "verify", "description": "Verification of any issuer's credential; W3C VC-API"},
    {"name": "public", "description": "Public documents: credentials, achievements, status lists, keys"},
    {"name": "backpack", "description": "The Open Badges 2.0 backpack API Moodle connects to"},
    {"name": "wallet", "description": "Handing a credential to a wallet (VC-API exchanges)"},
    {"name": "lti", "description": "LTI 1.3 tool configuration documents"},
    {"name": "admin", "description": "For an LMS administrator (after a launch)"},
    {"name": "operations", "description": "Health, readiness, metrics, this document"},
]

_UUID = {"type": "string", "format": "uuid"}
_ROW_ID = {"type": "integer", "minimum": 0}  # larger than 2**31 - 1 is a 404 (web.limits)
_ENTITY = path_param("entity_id", description="The entity id the backpack API gave")
_STATEMENTS = {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}, "maxItems": 1000}]}
_VERIFY_BODY = {"type": "object", "required": ["verifiableCredential"], "properties": {
    "verifiableCredential": {"oneOf": [ref("Credential"), {"type": "string", "description": "a VC-JWT"}]},
    "options": {"type": "object"}}}
_VC_API_RESULT = {"type": "object", "required": ["verified", "checks", "warnings", "errors"], "properties": {
    "verified": {"type": "boolean"}, "checks": {"type": "array", "items": {"type": "string"}},
    "warnings": {"type": "array"}, "errors": {"type": "array"}, "result": ref("Verification")}}

PATHS: dict[str, dict[str, Any]] = {
    # ingest
    "/xapi/about": {"get": operation("The xAPI versions this endpoint speaks", "ingest", {
        "200": json_answer("Versions", {"type": "object", "properties": {"version": {"type": "array"}}})})},
    "/xapi/statements": {
        "post": operation("Store xAPI statements (one or a list)", "ingest", {
            "200": json_answer("The statement ids, as an LRS answers", {"type": "array", "items": {"type": "string"}}),
            **errors(400, 401, 413)}, body=json_body(_STATEMENTS), security=[{"sourceBasic": []}],
            parameters=[{"name": "X-Experience-API-Version", "in": "header", "schema": {"type": "string"}}]),
        "put": operation("Store one xAPI statement under statementId", "ingest", {
            "204": {"description": "Stored"}, **errors(400, 401, 413)},
            body=json_body({"type": "object"}), security=[{"sourceBasic": []}],
            parameters=[query_param("statementId", _UUID, required=True),
                        {"name": "X-Experience-API-Version", "in": "header", "schema": {"type": "string"}}])},
    "/caliper/events": {"post": operation("Store a Caliper 1.1 envelope of events", "ingest", {
        "200": json_answer("What was stored", ref("IngestAnswer")), **errors(400, 401, 413)},
        body=json_body({"type": "object", "required": ["data"], "properties": {
            "sensor": {"type": "string"}, "sendTime": {"type": "string"}, "dataVersion": {"type": "string"},
            "data": {"type": "array", "items": {"type": "object"}}}}), security=[{"sourceBearer": []}])},
    "/canvas/live-events": {"post": operation("Store a signed Canvas Live Event (a JWT body)", "ingest", {
        "200": json_answer("What was stored", ref("IngestAnswer")), **errors(400, 401, 413)},
        parameters=[query_param("source", description="The canvas-events source key", required=True)],
        body={"required": True, "content": {"application/jwt": {"schema": {"type": "string"}},
                                            "text/plain": {"schema": {"type": "string"}}}})},
    # verification
    "/verify": {"post": operation("Verify a credential (JSON, JWT, baked PNG or SVG)", "verify", {
        "200": json_answer("The verification result (valid or not)", ref("Verification")),
        **errors(400, 413, 429)}, body={"required": True, "content": {
            JSON: {"schema": ref("Credential")}, "application/jwt": {"schema": {"type": "string"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                "credential": {"type": "string"}}}}}})},
    "/credentials/verify": {"post": operation("W3C VC-API: verify a credential", "verify", {
        "200": json_answer("The credential verified: the VC-API result, with our full result", _VC_API_RESULT),
        **errors(400, 413, 429),
        "400": json_answer("The credential did not verify (the same answer, `verified: false`), or the request "
                           "is not one ({error, message})", {"oneOf": [_VC_API_RESULT, ref("Error")]})},
        body=json_body(_VERIFY_BODY))},
    # public documents
    "/credentials/{credential_id}": {"get": page_or_document(
        "A credential: its page, or the credential for JSON clients", "public", ref("Credential"),
        [path_param("credential_id", _UUID)])},
    "/credentials/{credential_id}.json": {"get": operation("The signed credential", "public", {
        "200": json_answer("The credential", ref("Credential"), media=LD_JSON), **errors(404)},
        parameters=[path_param("credential_id", _UUID)])},
    "/status/{list_id}": {"get": operation("A Bitstring Status List credential (revocation, suspension)", "public", {
        "200": json_answer("The status list credential", ref("Credential"), media=LD_JSON),
        "304": {"description": "Not modified (If-None-Match)"}, **errors(404)},
        parameters=[path_param("list_id", _ROW_ID)])},
    "/achievements/{public_id}": {"get": page_or_document(
        "An achievement (badge definition), its current version", "public", {"type": "object"},
        [path_param("public_id")])},
    "/achievements/{public_id}/versions/{number}": {"get": page_or_document(
        "One version of an achievement", "public", {"type": "object"},
        [path_param("public_id"), path_param("number", _ROW_ID)])},
    "/issuers/{entity_id}": {"get": page_or_document(
        "An issuer's public page: its OB 3.0 Profile and badges", "public", {"type": "object"},
        [path_param("entity_id")])},
    "/contexts/lti-badger/eu-microcredential-v1.json": {"get": operation(
        "The JSON-LD context of the European micro-credential elements", "public", {
            "200": json_answer("JSON-LD context", {"type": "object"}, media=LD_JSON)})},
    "/course/skills": {"get": operation("Skills and occupations (ESCO) matching words, for the designer", "course", {
        "200": json_answer("Matches", {"type": "array", "items": {"type": "object"}}), **errors(401, 403)},
        parameters=[query_param("q", description="words to look for")], security=[{"launchToken": []}])},
    "/course/badges/{achievement_id}/fields.json": {"post": operation(
        "Edit a badge's fields (name, description, criteria_narrative, achievement_type, validity_days, details "
        "merged over the current ones); a field an institution template locks is refused", "course", {
            "200": json_answer("The badge's current version", {"type": "object", "properties": {
                "achievement": {"type": "integer"}, "version": {"type": "integer"}}}),
            **errors(400, 401, 403, 404)}, parameters=[path_param("achievement_id", _ROW_ID)],
        body=json_body({"type": "object"}), security=[{"launchToken": []}])},
    "/me/badges/{achievement_id}/clr": {"get": operation(
        "A pathway's signed CLR 2.0 learner record with the credentials it stacks", "course", {
            "200": json_answer("ClrCredential", {"type": "object"}, media="application/vc+ld+json"),
            **errors(401, 403, 404)}, parameters=[path_param("achievement_id", _ROW_ID)],
        security=[{"launchToken": []}])},
    "/me/programs/{program_id}/clr": {"get": operation(
        "A program's signed CLR 2.0 learner record with the course credentials it rests on", "course", {
            "200": json_answer("ClrCredential", {"type": "object"}, media="application/vc+ld+json"),
            **errors(401, 403, 404)}, parameters=[path_param("program_id", _ROW_ID)],
        security=[{"launchToken": []}])},
    "/moodle/events": {"post": operation(
        "Grade and completion events from the Moodle plugin (a JWT signed with Moodle's LTI key)", "ingest", {
            "200": json_answer("What was stored", {"type": "object"}), **errors(400, 401, 409, 413)},
        body=json_body({"type": "string", "description": "a compact JWS"}, media="application/jwt"))},
    "/.well-known/did.json": {"get": operation("The issuer's DID document (did:web)", "public", {
        "200": json_answer("DID document", {"type": "object"}, media=LD_JSON)})},
    "/did.json": {"get": operation("The issuer's DID document (did:web at the base URL)", "public", {
        "200": json_answer("DID document", {"type": "object"}, media=LD_JSON)})},
    "/endorsers/{public_id}/did.json": {"get": operation(
        "An endorser organisation's DID document (did:web:HOST:endorsers:<public_id>)", "public", {
            "200": json_answer("DID document", {"type": "object"}, media="application/did+json"), **errors(404)},
        parameters=[path_param("public_id")])},
    "/endorsers/{public_id}/status": {"get": operation(
        "An endorser organisation's revocation list of its endorsements (Bitstring Status List)", "public", {
            "200": json_answer("The status list credential", ref("Credential"), media=LD_JSON), **errors(404)},
        parameters=[path_param("public_id")])},
    "/endorsements/{public_id}": {"get": operation("A signed OB 3.0 EndorsementCredential", "public", {
        "200": json_answer("The endorsement", ref("Credential"), media=LD_JSON), **errors(404)},
        parameters=[path_param("public_id")])},
    "/.well-known/jwks.json": {"get": operation("The tool's LTI public keys", "lti", {
        "200": json_answer("JWKS", {"type": "object", "required": ["keys"],
                                    "properties": {"keys": {"type": "array", "items": {"type": "object"}}}})})},
    "/lti/config/canvas.json": {"get": operation("Canvas developer key configuration (LTI 1.3 JSON)", "lti", {
        "200": json_answer("Canvas configuration", {"type": "object"})})},
    # backpack
    "/o/token": {"post": operation("Log in to the backpack (OAuth 2.0 password or refresh_token grant)", "backpack", {
        "200": json_answer("Tokens", {"type": "object", "required": ["access_token", "token_type", "expires_in"],
                                      "properties": {"access_token": {"type": "string"},
                                                     "token_type": {"type": "string"},
                                                     "expires_in": {"type": "integer"},
                                                     "refresh_token": {"type": "string"},
                                                     "scope": {"type": "string"}}}),
        "400": json_answer("Refused (RFC 6749 §5.2)", ref("OAuthError")),
        "401": json_answer("Refused (RFC 6749 §5.2)", ref("OAuthError")),
        "429": json_answer("Too many attempts", ref("OAuthError")), **errors()},
        description="Moodle calls this at the host root, whatever the backpack URL's path.",
        body=json_body({"type": "object", "properties": {
            "username": {"type": "string"}, "password": {"type": "string"}, "grant_type": {"type": "string"},
            "refresh_token": {"type": "string"}}}, media="application/x-www-form-urlencoded"))},
    "/ob2/backpack/collections": {"get": operation("The learner's badges as one collection", "backpack", {
        "200": json_answer("Collections", ref("Ob2Result")), **errors(401)}, security=[{"backpackBearer": []}])},
    "/ob2/backpack/collections/{entity_id}": {"get": operation("One collection", "backpack", {
        "200": json_answer("The collection", ref("Ob2Result")), **errors(401, 404)},
        parameters=[_ENTITY], security=[{"backpackBearer": []}])},
    "/ob2/backpack/assertions/{entity_id}": {"get": operation("One of the learner's assertions", "backpack", {
        "200": json_answer("The assertion", ref("Ob2Result")), **errors(401, 404)},
        parameters=[_ENTITY, query_param("expand", {"type": "string", "enum": ["badgeclass", "issuer"]})],
        security=[{"backpackBearer": []}])},
    "/ob2/assertions/{credential_id}": {"get": operation("Hosted OB 2.0 Assertion", "backpack", {
        "200": json_answer("Assertion", {"type": "object"}), **errors(404)},
        parameters=[path_param("credential_id", _UUID)])},
    "/ob2/badgeclasses/{entity_id}": {"get": operation("Hosted OB 2.0 BadgeClass", "backpack", {
        "200": json_answer("BadgeClass", {"type": "object"}), **errors(404)}, parameters=[_ENTITY])},
    "/ob2/issuers/{entity_id}": {"get": operation("Hosted OB 2.0 Issuer", "backpack", {
        "200": json_answer("Issuer", {"type": "object"}), **errors(404)}, parameters=[_ENTITY])},
    # wallet
    "/interactions/{secret}": {"get": operation("A wallet interaction: the protocols a wallet may use", "wallet", {
        "200": {"description": "Protocols (JSON) or, for browsers, directions",
                "content": {JSON: {"schema": {"type": "object", "properties": {"protocols": {"type": "object"}}}},
                            "text/html": {"schema": {"type": "string"}}}}, **errors(404, 410)},
        parameters=[path_param("secret"), query_param("iuv")])},
    "/workflows/collect/exchanges/{secret}": {"post": operation(
        "A VC-API exchange step: `{}` gets a DID Authentication request, the signed presentation the "
        "credential", "wallet", {"200": json_answer("The next message of the exchange"),
                                 **errors(400, 404, 410, 413)},
        parameters=[path_param("secret")], body=json_body({"type": "object"}, required=False))},
    # admin
    "/admin/health.json": {"get": operation("Health of the admin's platform (database, keys, deliveries)", "admin", {
        "200": json_answer("Checks", {"type": "object", "required": ["ok", "checks"], "properties": {
            "ok": {"type": "boolean"}, "checks": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "ok": {"type": "boolean"}, "detail": {"type": "string"}}}}}}),
        **errors(401, 403)}, security=[{"launchToken": []}])},
    "/admin/programs/{program_id}/preview.json": {"get": operation(
        "Who across the registration meets a program now, and who is one piece (course) away", "admin", {
            "200": json_answer("Preview", {"type": "object", "required": ["meets", "one_away"], "properties": {
                "program": {"type": "string"}, "version": {"type": "integer"},
                "meets": {"type": "array", "items": {"type": "string"}},
                "one_away": {"type": "array", "items": {"type": "string"}}}}),
            **errors(401, 403, 404)}, parameters=[path_param("program_id", _ROW_ID)],
        security=[{"launchToken": []}])},
    # operations
    "/healthz": {"get": operation("Liveness: the process answers", "operations", {
        "200": json_answer("Alive", {"type": "object", "properties": {"status": {"const": "alive"}}})})},
    "/readyz": {"get": operation("Readiness: database reachable at this release's schema; Redis reported", "operations", {
        "200": json_answer("Ready (or degraded: Redis down, launch state in the database)", {
            "type": "object", "properties": {"status": {"enum": ["ready", "degraded"]},
                                             "checks": {"type": "object", "additionalProperties": ref("HealthCheck")}}}),
        "503": json_answer("Not ready", {"type": "object", "properties": {
            "status": {"const": "not_ready"}, "checks": {"type": "object"}}},
            headers={"Retry-After": {"schema": {"type": "integer"}}})})},
    "/metrics": {"get": operation("Prometheus metrics (text exposition)", "operations", {
        "200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}},
        "403": json_answer("Not from an allowed network and no valid token", ref("Error"))},
        security=[{"metricsBearer": []}, {}])},
    "/openapi.json": {"get": operation("This document", "operations", {
        "200": json_answer("OpenAPI 3.1 document", {"type": "object"})})},
}


def fragments() -> list[Any]:
    """The `openapi_*` modules of `lti_badger.web`, in name order."""
    here = [str(Path(__file__).parent)]
    names = sorted(m.name for m in pkgutil.iter_modules(here) if m.name.startswith(FRAGMENT_PREFIX))
    return [importlib.import_module(f"{__package__}.{name}") for name in names]


def _merge(target: dict[str, Any], extra: dict[str, Any], what: str) -> None:
    for key, value in extra.items():
        if key in target and target[key] != value:
            raise ValueError(f"{what} {key} is defined twice, differently")
        target[key] = value


def _merge_paths(paths: dict[str, dict[str, Any]], extra: dict[str, dict[str, Any]], owners: dict, name: str) -> None:
    """A fragment's operation replaces this module's for the same path and method (the part
    that owns an endpoint describes it best); two fragments describing one operation clash."""
    for path, operations in extra.items():
        for method, op in operations.items():
            other = owners.get((path, method))
            if other is not None:
                raise ValueError(f"{method} {path} is documented twice ({other} and {name})")
            owners[(path, method)] = name
            paths.setdefault(path, {})[method] = op


def build_document(base_url: str, version: str) -> dict[str, Any]:
    paths = {path: dict(ops) for path, ops in PATHS.items()}
    schemas, schemes, tags = dict(SCHEMAS), dict(SECURITY_SCHEMES), list(TAGS)
    owners: dict[tuple[str, str], str] = {}
    for module in fragments():
        _merge_paths(paths, getattr(module, "PATHS", {}), owners, module.__name__)
        _merge(schemas, getattr(module, "SCHEMAS", {}), "schema")
        _merge(schemes, getattr(module, "SECURITY_SCHEMES", {}), "security scheme")
        tags += [t for t in getattr(module, "TAGS", []) if t["name"] not in {x["name"] for x in tags}]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "lti_badger", "version": version,
                 "description": "JSON endpoints of lti_badger, an LTI 1.3 tool that issues Open Badges 3.0."},
        "servers": [{"url": base_url}],
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": schemes},
    }
