"""Our verifier, for people (the `/verify` page), machines (`POST /credentials/verify`, VC-API)
and the CLI: any issuer's Open Badges 3.0 credential (VC 2.0 or 1.1, Data Integrity or
VC-JWT), and OB 2.0 assertions (see `ob2.py`). The answer is a list of checks, each passed,
failed or not checked, with its reason in plain words; the credential is valid when none
failed and its proof and issuer key passed.

This module only picks the format; the checks live in `checks.py`, which `jose.py` and
`ob2.py` build on, so every import points one way.

Specs: VC 2.0 https://www.w3.org/TR/vc-data-model-2.0/ , VC 1.1 https://www.w3.org/TR/vc-data-model/ ,
Data Integrity https://www.w3.org/TR/vc-data-integrity/ , OB 3.0 https://www.imsglobal.org/spec/ob/v3p0/
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import jose, ob2
from .checks import (FAILED, NOT_CHECKED, REVOKED, SUSPENDED, TAMPERED, TOO_DEEP, ChainSource, MapSource,
                     Verification, types_of, verify_data_integrity)
from .keyresolve import DocumentSource
from .safety import MAX_DEPTH, depth_of

__all__ = ["REVOKED", "SUSPENDED", "TAMPERED", "ChainSource", "MapSource", "Verification", "verify_credential"]


def verify_credential(document: Any, *, status_source: DocumentSource, now: datetime,
                      did_source: DocumentSource | None = None) -> Verification:
    """Every check of a credential: a JSON object (VC or OB 2.0 assertion), a compact JWS
    (VC-JWT, signed OB 2.0) or the address of one (a link pasted, or an OB 2.0 badge baked as
    its hosted assertion's URL). `status_source` also serves keys unless `did_source` is given."""
    source = ChainSource(did_source, status_source) if did_source is not None else status_source
    result = _verify_presented(document, source, now) if is_presentation(document) else _verify(document, source, now)
    result.fetched = ChainSource(source).fetched()
    return result


def is_presentation(document: Any) -> bool:
    """A VerifiablePresentation: how wallets export a badge."""
    return isinstance(document, dict) and "VerifiablePresentation" in types_of(document.get("type"))


def _verify_presented(presentation: dict[str, Any], source: DocumentSource, now: datetime) -> Verification:
    """The one credential a presentation holds, verified as itself; the holder's proof does not
    bear on the badge and is not checked."""
    held = presentation.get("verifiableCredential")
    items = held if isinstance(held, list) else [] if held is None else [held]
    if len(items) != 1 or is_presentation(items[0]):
        result = Verification()
        result.add("format", FAILED, "it is a verifiable presentation inside a presentation" if len(items) == 1 else
                   f"it is a verifiable presentation holding {len(items)} credentials, not one: verify them one "
                   "at a time")
        return result
    result = _verify(items[0], source, now)
    if result.state_of("format") != FAILED:
        result.warnings.append("the credential was taken from a verifiable presentation; the presentation's own "
                               "proof (the holder's) was not checked")
    return result


def _verify(document: Any, source: DocumentSource, now: datetime) -> Verification:
    result = Verification()
    if isinstance(document, str):
        document = document.strip()
        if ob2.is_signed_assertion(document):
            ob2.verify_signed(document, source, now, result)
        elif document.startswith(("https://", "http://")):
            return _verify_at(document, source, now)
        else:
            jose.verify_jwt(document, source, now, result)
        return result
    if not isinstance(document, dict):
        result.add("format", FAILED, "the credential is not a JSON object")
        return result
    hosted = ob2.is_assertion(document)
    if not hosted and types_of(document.get("type")) != ["EnvelopedVerifiableCredential"]:
        verify_data_integrity(document, source, now, result)  # its walk refuses a document nested too deep
        result.endorsements = _endorsements(document, source, now)
    elif depth_of(document) > MAX_DEPTH:
        result.add("format", FAILED, TOO_DEEP)
    elif hosted:
        ob2.verify_hosted(document, source, now, result)
    else:
        jose.verify_enveloped(document, source, now, result)
    return result


def _verify_at(url: str, source: DocumentSource, now: datetime) -> Verification:
    """A credential given by its address: an OB 2.0 hosted assertion baked as its URL (OB 1.0
    and some 2.0 issuers), or a credential's link pasted; what is served there is verified."""
    found = source.get(url)
    if found is not None:
        return _verify(found, source, now)
    result = Verification()
    result.add("format", NOT_CHECKED, f"the badge is the address {url}, where no credential could be retrieved")
    result.add("proof", NOT_CHECKED, "the signature was not checked: the credential could not be retrieved")
    return result


MAX_ENDORSEMENTS = 20


def _endorsements(document: dict[str, Any], source: DocumentSource, now: datetime) -> list[dict[str, Any]]:
    """Each EndorsementCredential embedded in the achievement, verified on its own: who
    endorsed, when, and whether that endorsement holds (signature, key, not withdrawn)."""
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    found = achievement.get("endorsement") if isinstance(achievement, dict) else None
    out = []
    for item in (found if isinstance(found, list) else [])[:MAX_ENDORSEMENTS]:
        if not isinstance(item, dict):
            continue
        inner = Verification()
        verify_data_integrity(item, source, now, inner)
        out.append({"issuer_name": inner.issuer_name, "issuer": inner.issuer, "date": (inner.valid_from or "")[:10],
                    "verdict": inner.verdict, "valid": inner.valid})
    return out
