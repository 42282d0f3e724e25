"""The 1EdTech OB 3.0 JSON Schema (AchievementCredential, also for OpenBadgeCredential),
shipped in the package and compiled once."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft201909Validator

SCHEMA_FILE = "ob_v3p0_achievementcredential_schema.json"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads(resources.files("lti_badger.credentials.schemas").joinpath(SCHEMA_FILE).read_text("utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Draft201909Validator:
    return Draft201909Validator(_schema(), format_checker=Draft201909Validator.FORMAT_CHECKER)


@lru_cache(maxsize=1)
def _fast_validator():
    """The same schema compiled to Python by fastjsonschema (draft-07 semantics: the schema
    only uses keywords whose meaning did not change in 2019-09), ~50x faster. It only ever
    says "valid"; anything it rejects is re-checked by jsonschema, whose verdict and messages
    are the ones reported."""
    schema = {k: v for k, v in _schema().items() if k != "$schema"}
    return fastjsonschema.compile(schema)


def _fast_ok(document: Any) -> bool:
    try:
        _fast_validator()(document)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _errors(document: Any) -> list[str]:
    if _fast_ok(document):
        return []
    return _slow_errors(document)


def _slow_errors(document: Any) -> list[str]:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors[:20]]


@lru_cache(maxsize=1)
def _status_validator() -> Draft201909Validator:
    schema = _schema()
    return Draft201909Validator({"$ref": "#/$defs/CredentialStatus", "$defs": schema["$defs"]})


def schema_errors(document: Any) -> list[str]:
    """Readable schema violations of `document`; empty when it is valid.

    One documented relaxation: the 1EdTech schema (2025-03) declares `credentialStatus` as a
    single object, while VC 2.0 allows a set and we carry two entries (revocation and
    suspension). An array is accepted when the document validates with its first entry as
    the single status and every other entry matches the official CredentialStatus
    definition, so each entry is checked against the official schema."""
    if isinstance(document, dict) and isinstance(document.get("credentialStatus"), list):
        entries = document["credentialStatus"]
        if not entries:
            return ["credentialStatus: must not be an empty array"]
        out = [m.replace("credentialStatus", "credentialStatus/0", 1) if m.startswith("credentialStatus") else m
               for m in _errors({**document, "credentialStatus": entries[0]})]
        for i, entry in enumerate(entries[1:], start=1):
            out += [f"credentialStatus/{i}{'/' if e.absolute_path else ''}"
                    f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
                    for e in _status_validator().iter_errors(entry)]
        return out
    return _errors(document)
