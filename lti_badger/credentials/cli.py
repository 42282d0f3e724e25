"""`lti-badger verify FILE...` (verification of any issuer's credentials: JSON, JWT, baked PNG
or SVG; offline unless `--online`) and `lti-badger keys rotate|list` (issuer and LTI keys; retired issuer keys stay
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
from ..cli_progress import track
from ..errors import BadgerError
from ..keys import KIND_ISSUER, KIND_LTI
from .baking import extract_credential
from .safety import parse_json
from .services import IssuerProfile, LocalSource, verify_submitted
from .verify import Verification


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


def _bundle(docs_file: Path | None, status_files: tuple[Path, ...]) -> dict[str, Any]:
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
    return docs


def _when(now_text: str | None) -> datetime:
    if not now_text:
        return datetime.now(timezone.utc)
    try:
        now = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
    except ValueError as e:
        raise click.BadParameter(f"--now {now_text!r} is not an ISO 8601 date-time") from e
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def _print(result: Verification) -> None:
    click.echo(result.verdict)
    if result.kind:
        click.echo(f"  {result.kind}: {result.achievement or '?'} issued by {result.issuer_name or result.issuer}")
    for check in result.checks:
        click.echo(f"  {check.state:11} {check.name}: {check.reason}")
    for warning in result.warnings:
        click.echo(f"  warning: {warning}")
    for item in result.fetched:
        said = item.get("error") or f"fetched {item['age_seconds']} s ago" + (" (cached)" if item.get("cached") else "")
        click.echo(f"  {item['url']}: {said}")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", "status_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A status list credential (JSON) to use instead of our database; repeatable.")
@click.option("--docs", "docs_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A bundle {url or DID: document or file} (DID documents, key sets, status lists).")
@click.option("--online", is_flag=True,
              help="Fetch what is missing (DID documents, keys, status lists) through the outbound client.")
@click.option("--now", "now_text", help="Check dates as of this time (ISO 8601, default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@pass_ctx
def verify(ctx: Context, files: tuple[Path, ...], status_files: tuple[Path, ...], docs_file: Path | None,
           online: bool, now_text: str | None, as_json: bool) -> None:
    """Verify any issuer's credentials (JSON, JWT, baked PNG or SVG): format, proof, issuer key
    and identity, dates, status, schema. Offline unless --online. Exit 0 only when all are valid.
    Several files get a progress bar on a terminal and one line each."""
    docs = _bundle(docs_file, status_files)
    now = _when(now_text)
    issuer = IssuerProfile.from_settings(ctx.settings)
    fetcher = ctx.services.outbound if online else None
    session = ctx.services.sessions()
    local = _DatabaseIfAvailable(LocalSource(session, issuer, ctx.services.keys))

    def check(path: Path) -> Verification:
        return verify_submitted(extract_credential(_read(path)), local=local, now=now, docs=docs, fetcher=fetcher)

    try:
        if len(files) == 1:
            result = check(files[0])
            if as_json:
                click.echo(json.dumps(result.to_dict(), indent=2))
            else:
                _print(result)
            sys.exit(0 if result.valid else 1)
        outcomes = [(path, _check_one(check, path)) for path in track(files, "verifying", len(files))]
    finally:
        session.close()
    if as_json:
        click.echo(json.dumps([{"file": str(path), **(outcome.to_dict() if isinstance(outcome, Verification)
                                                      else {"valid": False, "error": outcome})}
                               for path, outcome in outcomes], indent=2))
    else:
        for path, outcome in outcomes:
            click.echo(f"{path}: {outcome.verdict if isinstance(outcome, Verification) else 'error: ' + outcome}")
    valid = sum(isinstance(o, Verification) and o.valid for _, o in outcomes)
    click.echo(f"{valid} of {len(outcomes)} valid", err=True)
    sys.exit(0 if valid == len(outcomes) else 1)


def _check_one(check, path: Path) -> Verification | str:
    """One file of many: a file that cannot be read or parsed is reported, not fatal."""
    try:
        return check(path)
    except BadgerError as err:
        return err.message


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
