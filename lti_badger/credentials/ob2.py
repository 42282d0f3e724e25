"""Open Badges 2.0 assertions, reported as OB 2.0: hosted ones (the issuer's site must serve
the same assertion, from an origin the issuer allows, not marked revoked) and signed ones
(a JWS by the issuer's CryptographicKey, checked against the issuer's revocation list).

Spec: https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html#Verification
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ..errors import BadInput
from .jose import split_compact
from .keyresolve import DocumentSource, PublicKey
from .statuscheck import parse_moment
from .checks import CLOCK_SKEW, FAILED, NOT_CHECKED, PASSED, REVOKED, TAMPERED, Verification, _day

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
KIND_HOSTED = "Open Badges 2.0 (hosted)"
KIND_SIGNED = "Open Badges 2.0 (signed)"


def _types(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def is_assertion(document: dict[str, Any]) -> bool:
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    return OB2_CONTEXT in contexts or ("Assertion" in _types(document.get("type")) and "verification" in document
                                       and "badge" in document)


def is_signed_assertion(token: str) -> bool:
    try:
        _header, payload, _input, _sig = split_compact(token)
    except BadInput:
        return False
    return is_assertion(payload)


def _object(value: Any, source: DocumentSource, what: str) -> dict[str, Any]:
    """An embedded object, or the document its URL names."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        found = source.get(value)
        if found is None:
            raise LookupError(f"{what} ({value}) could not be retrieved")
        return found
    raise LookupError(f"the assertion names no {what}")


def _describe(assertion: dict[str, Any], badge: dict[str, Any] | None, issuer: dict[str, Any] | None,
              result: Verification) -> None:
    result.credential_id = assertion.get("id") if isinstance(assertion.get("id"), str) else None
    if badge:
        result.achievement = badge.get("name") if isinstance(badge.get("name"), str) else None
    if issuer:
        result.issuer = issuer.get("id") if isinstance(issuer.get("id"), str) else None
        result.issuer_name = issuer.get("name") if isinstance(issuer.get("name"), str) else None
    result.valid_from = assertion.get("issuedOn") if isinstance(assertion.get("issuedOn"), str) else None
    result.valid_until = assertion.get("expires") if isinstance(assertion.get("expires"), str) else None


def _check_dates(assertion: dict[str, Any], now: datetime, result: Verification) -> None:
    issued = parse_moment(assertion.get("issuedOn"))
    expires = parse_moment(assertion.get("expires")) if "expires" in assertion else None
    if issued is None:
        result.add("dates", FAILED, "its issuedOn is missing or not a valid date and time")
    elif "expires" in assertion and expires is None:
        result.add("dates", FAILED, "its expires is not a valid date and time")
    elif expires is not None and expires + CLOCK_SKEW < now:
        result.add("dates", FAILED, f"the badge expired on {_day(expires)}", "dates.expired", day=_day(expires))
    elif issued - CLOCK_SKEW > now:
        result.add("dates", FAILED, f"the badge is not valid until {_day(issued)}", "dates.not_yet_valid",
                   day=_day(issued))
    else:
        result.add("dates", PASSED, f"issued on {_day(issued)}, "
                                    f"{'valid until ' + _day(expires) if expires else 'does not expire'}")


def _badge_and_issuer(assertion: dict[str, Any], source: DocumentSource,
                      result: Verification) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    try:
        badge = _object(assertion.get("badge"), source, "its badge class")
        issuer = _object(badge.get("issuer"), source, "its issuer's profile")
    except LookupError as e:
        result.add("issuer identity", NOT_CHECKED, f"not checked: {e}")
        return None, None
    return badge, issuer


def _allowed_origin(url: str, issuer: dict[str, Any]) -> bool:
    """OB 2.0 hosted verification: the assertion must live on the issuer's host, or on an
    origin / under a prefix the issuer's `verification` allows."""
    policy = issuer.get("verification") if isinstance(issuer.get("verification"), dict) else {}
    host = urlsplit(url).hostname
    if "startsWith" in policy:
        prefixes = policy["startsWith"] if isinstance(policy["startsWith"], list) else [policy["startsWith"]]
        return any(isinstance(p, str) and url.startswith(p) for p in prefixes)
    if "allowedOrigins" in policy:
        origins = policy["allowedOrigins"] if isinstance(policy["allowedOrigins"], list) else [policy["allowedOrigins"]]
        return host in origins
    issuer_id = issuer.get("id")
    return isinstance(issuer_id, str) and urlsplit(issuer_id).hostname == host


def verify_hosted(assertion: dict[str, Any], source: DocumentSource, now: datetime, result: Verification) -> None:
    result.kind = KIND_HOSTED
    url = assertion.get("id")
    kind = (assertion.get("verification") or {}).get("type") if isinstance(assertion.get("verification"), dict) else None
    if kind in ("signed", "SignedBadge"):
        result.add("format", FAILED, "a signed OB 2.0 assertion must be given as its JWS, not as JSON")
        return
    if kind not in ("hosted", "HostedBadge") or not isinstance(url, str) or not url.startswith("https://"):
        result.add("format", FAILED, "not a verifiable OB 2.0 assertion: it needs hosted verification and an "
                                     "https id")
        return
    result.add("format", PASSED, KIND_HOSTED)
    hosted = source.get(url)
    badge, issuer = _badge_and_issuer(hosted or assertion, source, result)
    _describe(hosted or assertion, badge, issuer, result)
    if hosted is None:
        result.add("proof", NOT_CHECKED, f"the issuer's copy ({url}) could not be retrieved")
        result.add("issuer key", NOT_CHECKED, "hosted badges are checked against the issuer's copy, which could not "
                                              "be retrieved")
        _check_dates(assertion, now, result)
        return
    if {k: v for k, v in hosted.items() if k != "revoked"} != {k: v for k, v in assertion.items() if k != "revoked"}:
        result.add("proof", FAILED, "the issuer's copy of this badge differs from the one given: it was changed")
    else:
        result.add("proof", PASSED, f"the issuer's site serves the same badge ({url})")
    if issuer is not None:
        if _allowed_origin(url, issuer):
            result.add("issuer key", PASSED, f"hosted at {urlsplit(url).hostname}, where its issuer publishes badges")
            result.add("issuer identity", PASSED, f"issued by {issuer.get('id')}")
        else:
            result.add("issuer key", FAILED, f"it is hosted at {urlsplit(url).hostname}, which its issuer "
                                             f"{issuer.get('id')} does not allow")
    else:
        result.add("issuer key", NOT_CHECKED, "its issuer's profile could not be retrieved")
    _check_dates(hosted, now, result)
    if hosted.get("revoked") is True:
        reason = hosted.get("revocationReason")
        result.add("status", FAILED, REVOKED + (f" ({reason})" if isinstance(reason, str) else ""), "status.revoked")
        result.revoked = True
    else:
        result.add("status", PASSED, "the issuer's copy is not revoked")
        result.revoked = False


def _rsa_key(document: dict[str, Any], url: str) -> PublicKey:
    try:
        key = load_pem_public_key(str(document.get("publicKeyPem", "")).encode())
    except ValueError as e:
        raise LookupError(f"the key {url} is not a PEM public key") from e
    if not isinstance(key, rsa.RSAPublicKey):
        raise LookupError(f"the key {url} is not an RSA key")
    owner = document.get("owner")
    return PublicKey(url, owner if isinstance(owner, str) else "", "RSA", other=key)


def verify_signed(token: str, source: DocumentSource, now: datetime, result: Verification) -> None:
    result.kind = KIND_SIGNED
    header, assertion, signing_input, signature = split_compact(token)
    verification = assertion.get("verification") if isinstance(assertion.get("verification"), dict) else {}
    creator = verification.get("creator")
    if verification.get("type") not in ("signed", "SignedBadge") or not isinstance(creator, str):
        result.add("format", FAILED, "not a signed OB 2.0 assertion: its verification names no signing key")
        return
    result.add("format", PASSED, KIND_SIGNED)
    badge, issuer = _badge_and_issuer(assertion, source, result)
    _describe(assertion, badge, issuer, result)
    if header.get("alg") != "RS256":
        result.add("proof", FAILED, f"signed with {header.get('alg')!r}; OB 2.0 signatures use RS256")
        return
    key_document = source.get(creator)
    if key_document is None:
        result.add("proof", NOT_CHECKED, "the signature was not checked: the issuer's key is unknown")
        result.add("issuer key", NOT_CHECKED, f"the issuer's key ({creator}) could not be retrieved")
    else:
        try:
            key = _rsa_key(key_document, creator)
        except LookupError as e:
            result.add("issuer key", FAILED, str(e))
            result.add("proof", NOT_CHECKED, "the signature was not checked: the issuer's key is unusable")
        else:
            result.add("issuer key", PASSED, f"RSA key {creator}")
            ok = key.verify("RS256", signing_input, signature)
            result.add("proof", PASSED if ok else FAILED, f"signed (RS256) by {creator}" if ok else TAMPERED,
                       None if ok else "proof.tampered")
            if issuer is not None:
                owned = key.controller == issuer.get("id")
                result.add("issuer identity", PASSED if owned else FAILED,
                           f"the key belongs to the issuer {issuer.get('id')}" if owned
                           else f"the key belongs to {key.controller or 'nobody'}, not to the issuer {issuer.get('id')}")
    _check_dates(assertion, now, result)
    _check_revocation_list(assertion, issuer, source, result)


def _check_revocation_list(assertion: dict[str, Any], issuer: dict[str, Any] | None, source: DocumentSource,
                           result: Verification) -> None:
    url = issuer.get("revocationList") if issuer else None
    if not isinstance(url, str):
        result.add("status", PASSED if issuer else NOT_CHECKED,
                   "its issuer publishes no revocation list" if issuer else "its issuer's profile is unknown")
        return
    listing = source.get(url)
    if listing is None:
        result.add("status", NOT_CHECKED, f"not checked: its issuer's revocation list ({url}) could not be retrieved")
        result.warnings.append("whether the issuer revoked it could not be checked")
        return
    for item in listing.get("revokedAssertions") or []:
        item_id = item.get("id") if isinstance(item, dict) else item
        uid = item.get("uid") if isinstance(item, dict) else None
        if item_id == assertion.get("id") or (uid is not None and uid == assertion.get("uid")):
            reason = item.get("revocationReason") if isinstance(item, dict) else None
            result.revoked = True
            result.add("status", FAILED, REVOKED + (f" ({reason})" if isinstance(reason, str) else ""),
                       "status.revoked")
            return
    result.revoked = False
    result.add("status", PASSED, "not on its issuer's revocation list")
