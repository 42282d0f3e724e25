"""OpenAPI 3.0 path items of the standard APIs (1EdTech OB 3.0 host API, its OAuth 2.0
endpoints, W3C VC-API issue and verify), as plain dicts: the OB 3.0 discovery document is
built from `OB3_PATHS`, and the tool's /openapi.json merges `PATHS` and `SECURITY_SCHEMES`.
Shapes follow the OB 3.0 OpenAPI file (GetOpenBadgeCredentialsResponse, Imsx_StatusInfo) and
the VC-API (IssueCredentialRequest/Response, VerifyCredentialRequest/Response)."""

from __future__ import annotations

from typing import Any

OB3 = "/ims/ob/v3p0"
SCOPE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
_JSON = "application/json"


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


_OBJECT = {"type": "object"}
_IMSX = _json({"type": "object", "required": ["imsx_codeMajor", "imsx_severity"], "properties": {
    "imsx_codeMajor": {"type": "string", "enum": ["failure", "processing", "success", "unsupported"]},
    "imsx_severity": {"type": "string", "enum": ["error", "status", "warning"]},
    "imsx_description": {"type": "string"}, "imsx_codeMinor": _OBJECT}}, "Imsx_StatusInfo")
_ERRORS = {str(code): _IMSX for code in (400, 401, 403, 404, 413)}
_ERROR = _json({"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                                  "detail": _OBJECT}}, "A JSON error")
_OAUTH_ERROR = _json({"type": "object", "properties": {"error": {"type": "string"},
                                                        "error_description": {"type": "string"}}},
                     "An OAuth 2.0 error (RFC 6749 5.2, RFC 7591 3.2.2)")


def _oauth(scope: str) -> list[dict[str, list[str]]]:
    return [{"OAuth2ACG": [SCOPE + scope]}]


OB3_PATHS: dict[str, dict[str, Any]] = {
    f"{OB3}/discovery": {"get": {
        "operationId": "getServiceDescription", "tags": ["Discovery"],
        "summary": "The Service Description Document (a profiled OpenAPI file with the OAuth 2.0 URLs)",
        "responses": {"200": _json(_OBJECT, "ServiceDescriptionDocument")}}},
    f"{OB3}/credentials": {
        "get": {"operationId": "getCredentials", "tags": ["OpenBadgeCredentials"], "security": _oauth("credential.readonly"),
                "summary": "The learner's credentials, newest first",
                "parameters": [{"name": n, "in": "query", "required": False, "schema": s} for n, s in (
                    ("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
                    ("offset", {"type": "integer", "minimum": 0, "default": 0}),
                    ("since", {"type": "string", "format": "date-time"}))],
                "responses": {"200": {**_json({"type": "object", "properties": {
                    "credential": {"type": "array", "items": _OBJECT},
                    "compactJwsString": {"type": "array", "items": {"type": "string"}}}},
                    "GetOpenBadgeCredentialsResponse"), "headers": {
                    "X-Total-Count": {"schema": {"type": "integer"}},
                    "Link": {"schema": {"type": "string"}, "description": "first, last, next, prev"}}}, **_ERRORS}},
        "post": {"operationId": "upsertCredential", "tags": ["OpenBadgeCredentials"],
                 "security": _oauth("credential.upsert"), "summary": "Store a verified credential for the learner",
                 "requestBody": {"required": True, "content": {_JSON: {"schema": _OBJECT}}},
                 "responses": {"200": _json(_OBJECT, "Replaced"), "201": _json(_OBJECT, "Stored"), **_ERRORS}}},
    f"{OB3}/profile": {
        "get": {"operationId": "getProfile", "tags": ["Profile"], "security": _oauth("profile.readonly"),
                "responses": {"200": _json(_OBJECT, "Profile"), **_ERRORS}},
        "put": {"operationId": "putProfile", "tags": ["Profile"], "security": _oauth("profile.update"),
                "requestBody": {"required": True, "content": {_JSON: {"schema": _OBJECT}}},
                "responses": {"200": _json(_OBJECT, "Profile"), **_ERRORS}}},
    f"{OB3}/oauth/register": {"post": {
        "operationId": "registerClient", "tags": ["OAuth 2.0"], "summary": "Dynamic client registration (RFC 7591)",
        "requestBody": {"required": True, "content": {_JSON: {"schema": _OBJECT}}},
        "responses": {"201": _json(_OBJECT, "Client information"), "400": _OAUTH_ERROR}}},
    f"{OB3}/oauth/authorize": {"get": {
        "operationId": "authorize", "tags": ["OAuth 2.0"],
        "summary": "Consent page (learner's launched session); response_type=code, PKCE S256 required",
        "responses": {"200": {"description": "Consent page (HTML)"}, "302": {"description": "To redirect_uri"}}}},
    f"{OB3}/oauth/token": {"post": {
        "operationId": "token", "tags": ["OAuth 2.0"], "summary": "authorization_code (+ code_verifier) or refresh_token",
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": _OBJECT}}},
        "responses": {"200": _json(_OBJECT, "Access and refresh token"), "400": _OAUTH_ERROR,
                      "401": _OAUTH_ERROR}}},
}

_VERIFY_RESULT = {"type": "object", "properties": {"verified": {"type": "boolean"}, "checks": {"type": "array"},
                                                  "warnings": {"type": "array"}, "errors": {"type": "array"}}}
VCAPI_PATHS: dict[str, dict[str, Any]] = {
    "/credentials/issue": {"post": {
        "operationId": "issueCredential", "tags": ["VC-API"], "security": [{"VcApiToken": []}],
        "summary": "Sign a posted credential (eddsa-rdfc-2022) with the issuer key",
        "requestBody": {"required": True, "content": {_JSON: {"schema": {"type": "object", "required": ["credential"],
                                                                          "properties": {"credential": _OBJECT,
                                                                                         "options": _OBJECT}}}}},
        "responses": {"201": _json({"type": "object", "properties": {"verifiableCredential": _OBJECT}},
                                   "IssueCredentialResponse"), "400": _ERROR, "401": _ERROR, "413": _ERROR}}},
    "/credentials/verify": {"post": {
        "operationId": "verifyCredential", "tags": ["VC-API"], "summary": "Verify a credential (public, rate-limited)",
        "requestBody": {"required": True, "content": {_JSON: {"schema": {
            "type": "object", "required": ["verifiableCredential"],
            "properties": {"verifiableCredential": {"oneOf": [_OBJECT, {"type": "string"}]}, "options": _OBJECT}}}}},
        "responses": {"200": _json(_VERIFY_RESULT, "VerifyCredentialResponse: it verified"),
                      "400": _json({"oneOf": [_VERIFY_RESULT, _ERROR["content"][_JSON]["schema"]]},
                                   "It did not verify (the same answer, verified false), or the request is not one"),
                      "429": _ERROR}}},
}

PATHS: dict[str, dict[str, Any]] = {**OB3_PATHS, **VCAPI_PATHS}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "OAuth2ACG": {"type": "oauth2", "description": "See /ims/ob/v3p0/discovery for the URLs",
                  "flows": {"authorizationCode": {"authorizationUrl": f"{OB3}/oauth/authorize",
                                                  "tokenUrl": f"{OB3}/oauth/token", "refreshUrl": f"{OB3}/oauth/token",
                                                  "scopes": {SCOPE + s: s for s in ("credential.readonly",
                                                                                    "credential.upsert",
                                                                                    "profile.readonly",
                                                                                    "profile.update")}}}},
    "VcApiToken": {"type": "http", "scheme": "bearer", "description": "lti-badger api-token create"},
}
