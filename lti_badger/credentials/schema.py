"""The 1EdTech OB 3.0 JSON Schemas (AchievementCredential, also for OpenBadgeCredential; and
EndorsementCredential), shipped in the package and compiled once each."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft201909Validator

SCHEMA_FILE = "ob_v3p0_achievementcredential_schema.json"
ENDORSEMENT_SCHEMA_FILE = "ob_v3p0_endorsementcredential_schema.json"


@lru_cache(maxsize=2)
def _schema(name: str = SCHEMA_FILE) -> dict[str, Any]:
    return json.loads(resources.files("lti_badger.credentials.schemas").joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=2)
def _validator(name: str = SCHEMA_FILE) -> Draft201909Validator:
    return Draft201909Validator(_schema(name), format_checker=Draft201909Validator.FORMAT_CHECKER)


def endorsement_schema_errors(document: Any) -> list[str]:
    """Readable violations of the official EndorsementCredential schema (rarely checked: no fast path)."""
    return _slow_errors(document, ENDORSEMENT_SCHEMA_FILE)


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


def _slow_errors(document: Any, name: str = SCHEMA_FILE) -> list[str]:
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors[:20]]


def schema_errors(document: Any) -> list[str]:
    """Readable violations of the official schema, unchanged; empty when `document` is valid.
    (A two-entry `credentialStatus` list, the per-issuer VC 2.0 / OB 3.1 mode, is one of them:
    the schema wants one object.)"""
    return _errors(document)
