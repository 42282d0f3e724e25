"""Credentials secured with JOSE: a compact JWS whose payload is a VC 1.1 JWT (`vc` claim
beside iss/jti/nbf/exp/sub) or a VC 2.0 credential (`vc+jwt`), as Open Badges 3.0 allows
(RS256 required; ES256, ES384, ES256K and EdDSA accepted), and the VC 2.0 `EnvelopedVerifiableCredential`
that carries one as a data: URL. The key comes from the header's `kid` (a DID URL, or an
https URL of a JWKS or key document), its `jku` (a JWKS the `kid` picks from), or its `jwk`.

Specs: OB 3.0 section 8.2 https://www.imsglobal.org/spec/ob/v3p0/#jwt-proof ,
VC-JOSE-COSE https://www.w3.org/TR/vc-jose-cose/ , VC 1.1 JWT https://www.w3.org/TR/vc-data-model/#jwt-encoding
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from ..errors import BadInput
from .keyresolve import DocumentSource, KeyProblem, PublicKey, _b64url, key_from_jwk, resolve
from .safety import parse_json
from .checks import (CLOCK_SKEW, FAILED, NOT_CHECKED, PASSED, TAMPERED, Verification, check_format,
                     controller_matches, describe, issuer_id, verify_claims)

ALGORITHMS = ("RS256", "PS256", "ES256", "ES384", "ES256K", "EdDSA")
JWT_MEDIA = "data:application/vc+jwt,"


def split_compact(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, payload, signing input, signature) of a compact JWS; BadInput if it is not one."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise BadInput("not a credential: neither a JSON document nor a compact JWT")
    try:
        header = json.loads(_b64url(parts[0]))
        payload = parse_json(_b64url(parts[1]))
        signature = _b64url(parts[2])
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput("not a credential: the JWT's parts are not valid base64url JSON") from e
    if not isinstance(header, dict):
        raise BadInput("not a credential: the JWT header is not a JSON object")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _when(seconds: Any) -> datetime | None:
    """A NumericDate claim (seconds since the epoch) as a moment; None if it is not a number."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _moment(seconds: Any) -> str | None:
    when = _when(seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def credential_of(payload: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The credential a JWT carries and the registered claims that contradict it. A VC 1.1 JWT
    (`vc` claim) has the claims folded in where its credential lacks them; a VC 2.0 payload is
    the credential itself, and its `iss` and `jti`, where present, must agree with it."""
    wrapped = isinstance(payload.get("vc"), dict)
    credential = dict(payload["vc"]) if wrapped else payload
    v2 = (credential.get("@context") or [None])[0] == "https://www.w3.org/ns/credentials/v2"
    conflicts = []
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if "iss" in payload:
        if issuer is None:
            if wrapped:
                credential["issuer"] = payload["iss"]
        elif issuer_id != payload["iss"]:
            conflicts.append(f"the token's issuer (iss) {payload['iss']} is not the credential's issuer {issuer_id}")
    if "jti" in payload:
        if "id" not in credential:
            if wrapped:
                credential["id"] = payload["jti"]
        elif credential["id"] != payload["jti"]:
            conflicts.append("the token's id (jti) is not the credential's id")
    if not wrapped:
        return credential, conflicts
    start, end = ("validFrom", "validUntil") if v2 else ("issuanceDate", "expirationDate")
    for claim, key in (("nbf", start), ("exp", end)):
        moment = _moment(payload.get(claim))
        if moment and key not in credential:
            credential[key] = moment
    subject = credential.get("credentialSubject")
    if "sub" in payload and isinstance(subject, dict) and "id" not in subject:
        credential["credentialSubject"] = {**subject, "id": payload["sub"]}
    return credential, conflicts


def check_lifetime(payload: dict[str, Any], now: datetime, result: Verification) -> None:
    """A JWT is not accepted after its `exp` nor before its `nbf` (RFC 7519), whatever dates
    the credential inside gives: the dates check fails on the token's own."""
    if result.state_of("dates") == FAILED:
        return
    expires, starts = _when(payload.get("exp")), _when(payload.get("nbf"))
    if expires is not None and expires + CLOCK_SKEW < now:
        result.add("dates", FAILED, f"the token expired on {expires:%Y-%m-%d}", "dates.expired",
                   day=f"{expires:%Y-%m-%d}")
    elif starts is not None and starts - CLOCK_SKEW > now:
        result.add("dates", FAILED, f"the token is not valid until {starts:%Y-%m-%d}", "dates.not_yet_valid",
                   day=f"{starts:%Y-%m-%d}")


def _key(header: dict[str, Any], issuer: str | None, source: DocumentSource) -> tuple[PublicKey, bool]:
    """The signing key and whether it is bound to a controller (False: the header's own jwk).
    A `kid` that is a DID or https URL names the key itself; otherwise it picks a key from the
    key set at `jku` (RFC 7515 4.1.2; with no `kid`, the set's only key), or is only a hint
    beside the header's `jwk` (a thumbprint, say)."""
    kid = header.get("kid") if isinstance(header.get("kid"), str) and header.get("kid") else None
    jku = header.get("jku")
    if kid and kid.startswith("#") and issuer:
        return resolve(issuer + kid, source), True
    if kid and kid.startswith(("did:", "https://")):
        return resolve(kid, source), True
    if jku is not None:
        if not isinstance(jku, str) or not jku.startswith("https://"):
            raise KeyProblem("the token's key set URL (jku) is not an https URL")
        return resolve(jku.split("#", 1)[0] + (f"#{kid}" if kid else ""), source), True
    if "jwk" in header:
        return key_from_jwk(header["jwk"], "the key in the token's header", ""), False
    if kid:
        return resolve(kid, source), True  # says why a bare kid names no key
    raise KeyProblem("the token names no key (neither kid, jku nor jwk in its header)")


def same_site(url: str, issuer: str | None) -> bool:
    """An https key set counts as the issuer's when it is published on the issuer's host."""
    if not issuer or not issuer.startswith("https://"):
        return False
    return urlsplit(url).hostname == urlsplit(issuer).hostname


def verify_jwt(token: str, source: DocumentSource, now: datetime, result: Verification) -> None:
    try:
        header, payload, signing_input, signature = split_compact(token)
    except BadInput as e:
        result.add("format", FAILED, e.message)
        return
    credential, conflicts = credential_of(payload)
    describe(credential, result)
    model = check_format(credential, result, rdf_signed=False)
    if model is None:
        return
    result.kind = f"{result.kind}, as a JWT"
    result.add("format", PASSED, result.kind)
    if conflicts:
        result.add("format", FAILED, "; ".join(conflicts))
    issuer = issuer_id(credential)
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        result.add("proof", FAILED, f"the token is signed with {alg!r}, which this verifier does not accept "
                                    f"({', '.join(ALGORITHMS)} are)")
        return
    try:
        key, bound = _key(header, issuer, source)
    except KeyProblem as e:
        result.add("proof", NOT_CHECKED, "the signature was not checked: the issuer's key is unknown")
        result.add("issuer key", NOT_CHECKED if e.unavailable else FAILED, e.reason)
        result.add("issuer identity", NOT_CHECKED, "the key's controller is unknown")
        verify_claims(credential, model, source, now, result)
        check_lifetime(payload, now, result)
        return
    result.add("issuer key", PASSED, f"{key.kind} key {key.method}")
    if not bound:
        result.add("issuer identity", NOT_CHECKED, "the token carries its own key, so nothing ties that key to "
                                                   "the issuer")
        result.warnings.append("the signing key came with the token itself; its link to the issuer was not checked")
    elif controller_matches(key, issuer) or same_site(key.controller, issuer):
        result.add("issuer identity", PASSED, f"the key belongs to the issuer {issuer}")
    else:
        result.add("issuer identity", FAILED, f"the credential was signed by {key.controller}, not by its "
                                              f"issuer {issuer}")
    if not key.supports(alg):
        result.add("proof", FAILED, f"the token says {alg} but its key is {key.kind}")
    elif key.verify(alg, signing_input, signature):
        result.add("proof", PASSED, f"signed as a JWT ({alg}) by {key.method}")
    else:
        result.add("proof", FAILED, TAMPERED, "proof.tampered")
    verify_claims(credential, model, source, now, result)
    check_lifetime(payload, now, result)


def verify_enveloped(document: dict[str, Any], source: DocumentSource, now: datetime, result: Verification) -> None:
    token = document.get("id")
    if not isinstance(token, str) or not token.startswith(JWT_MEDIA):
        result.add("format", FAILED, "the enveloped credential does not hold an application/vc+jwt data URL")
        return
    verify_jwt(token[len(JWT_MEDIA):], source, now, result)
