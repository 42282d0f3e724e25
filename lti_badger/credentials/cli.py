"""`lti-badger verify FILE` (offline verification of a JSON, baked PNG or baked SVG
credential) and `lti-badger keys rotate|list` (issuer and LTI keys; retired issuer keys stay
in the DID document so earlier credentials keep verifying)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from ..cli import Context, pass_ctx
from ..keys import KIND_ISSUER, KIND_LTI
from .baking import extract
from .safety import parse_json
from .services import IssuerProfile, LocalSource
from .verify import ChainSource, MapSource, verify_credential


class _DatabaseIfAvailable:
    """Our own status lists when the database is reachable; nothing otherwise (a verifier on
    another machine passes `--status` files instead)."""

    def __init__(self, source: LocalSource) -> None:
        self.source = source

    def get(self, url: str) -> dict[str, Any] | None:
        try:
            return self.source.get(url)
        except SQLAlchemyError:
            return None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}") from e


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", "status_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A status list credential (JSON) to use instead of our database; repeatable.")
@click.option("--docs", "docs_file", type=click.Path(dir_okay=False, path_type=Path),
              help="An ob3-verify style map {url or DID: document} (DID documents, status lists).")
@click.option("--now", "now_text", help="Check dates as of this time (ISO 8601, default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@pass_ctx
def verify(ctx: Context, file: Path, status_files: tuple[Path, ...], docs_file: Path | None, now_text: str | None,
           as_json: bool) -> None:
    """Verify a credential offline: signature, issuer key, OB 3.0 schema, dates, revocation
    and suspension. Exit status 0 only when it is valid."""
    document = extract(_read(file))
    docs: dict[str, Any] = {}
    if docs_file:
        base = docs_file.parent
        for url, value in parse_json(_read(docs_file), max_bytes=32 * 1024 * 1024).items():
            docs[url] = parse_json(_read(base / value)) if isinstance(value, str) else value
    for path in status_files:
        listing = parse_json(_read(path))
        if not isinstance(listing.get("id"), str):
            raise click.BadParameter(f"{path} is not a status list credential (no id)")
        docs[listing["id"]] = listing
    issuer = IssuerProfile.from_settings(ctx.settings)
    sources = [MapSource(docs)]
    session = ctx.services.sessions()
    try:
        sources.append(_DatabaseIfAvailable(LocalSource(session, issuer, ctx.services.keys)))
        now = datetime.fromisoformat(now_text.replace("Z", "+00:00")) if now_text else datetime.now(timezone.utc)
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        result = verify_credential(document, status_source=ChainSource(*sources), now=now)
    finally:
        session.close()
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(result.verdict)
        for check in result.checks:
            click.echo(f"  {'ok  ' if check.ok else 'FAIL'} {check.name}: {check.message}")
    sys.exit(0 if result.valid else 1)


@click.group()
def keys() -> None:
    """Signing keys: the issuer's Ed25519 keys (credentials) and the tool's RSA keys (LTI)."""


@keys.command("rotate")
@click.option("--kind", type=click.Choice([KIND_ISSUER, KIND_LTI]), default=KIND_ISSUER, show_default=True)
@pass_ctx
def rotate(ctx: Context, kind: str) -> None:
    """Retire the current key and create a new one. Retired keys stay published (DID
    document, JWKS), so everything signed before keeps verifying."""
    key = ctx.services.keys.rotate(kind)
    click.echo(f"new {kind} key: {key.kid}")
    if kind == KIND_ISSUER:
        did = IssuerProfile.from_settings(ctx.settings).did
        click.echo(f"verification method: {did}#{key.kid} (older keys stay under assertionMethod)")


@keys.command("list")
@pass_ctx
def list_keys(ctx: Context) -> None:
    """Every key with its state."""
    for kind in (KIND_ISSUER, KIND_LTI):
        for key in ctx.services.keys.all(kind):
            state = "current" if key.is_current else f"retired {key.retired_at:%Y-%m-%d %H:%M}"
            click.echo(f"{kind:7} {key.kid:48} created {key.created_at:%Y-%m-%d %H:%M}  {state}")
