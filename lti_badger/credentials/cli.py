"""`lti-badger verify FILE...` (verification of any issuer's credentials: JSON, JWT, baked PNG
or SVG; offline unless `--online`) and `lti-badger keys rotate|retire|list`: the tool-wide LTI
and issuer keys are the operator's. A rotation keeps the superseded key published (JWKS, DID
document) for an overlap, so what it signed keeps verifying, until it is retired.
`lti-badger api-token create|list|revoke` makes the operator tokens of the VC-API issuer."""

from __future__ import annotations

import json
import sys
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from ..cli_context import Context, pass_ctx
from ..cli_progress import track
from ..db import transaction
from ..errors import BadgerError, BadInput
from ..keys import KIND_ISSUER, KIND_LTI
from .baking import extract_credential
from .safety import parse_json
from .services import IssuerProfile, LocalSource, verify_submitted
from .vcapi import create_api_token, list_api_tokens, revoke_api_token
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

    def recorded_status(self, credential_id: str, issuer: str | None) -> dict[str, bool] | None:
        try:
            return self.source.recorded_status(credential_id, issuer)
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


KIND_FLAGS = [click.option("--lti", "kind", flag_value=KIND_LTI, help="The tool's LTI signing key (JWKS)."),
              click.option("--issuer", "kind", flag_value=KIND_ISSUER,
                           help="The credential issuer key (DID document).")]
# How long a superseded key stays published by default: LTI signatures live minutes (client
# assertions, deep linking answers) but platforms cache our JWKS; credentials live for years.
DEFAULT_OVERLAP = {KIND_LTI: "24h", KIND_ISSUER: "forever"}
DURATION = re.compile(r"(\d+)([hd])")


def _kind_flags(command):
    for option in reversed(KIND_FLAGS):
        command = option(command)
    return command


def _required_kind(kind: str | None) -> str:
    if kind is None:
        raise BadInput("say which key: --lti or --issuer")
    return kind


def parse_overlap(text: str) -> timedelta | None:
    """`12h`, `7d` or `forever` (None: until `keys retire`)."""
    if text == "forever":
        return None
    match = DURATION.fullmatch(text.strip())
    if not match:
        raise BadInput(f"--overlap must be like 12h, 7d or forever, not {text!r}")
    return timedelta(hours=int(match[1])) if match[2] == "h" else timedelta(days=int(match[1]))


def _where_published(ctx: Context, kind: str) -> str:
    if kind == KIND_LTI:
        return f"the JWKS ({ctx.settings.public_base_url}/.well-known/jwks.json)"
    return f"the DID document ({IssuerProfile.from_settings(ctx.settings).did})"


def _until(key: Any) -> str:
    return f"until {key.retired_at:%Y-%m-%d %H:%M} UTC" if key.retired_at else "until `lti-badger keys retire`"


@keys.command("rotate")
@_kind_flags
@click.option("--overlap", default=None, metavar="12h|7d|forever",
              help="How long the old key stays published [default: 24h for --lti, forever for --issuer].")
@pass_ctx
def rotate(ctx: Context, kind: str | None, overlap: str | None) -> None:
    """Make a new key current. The old one stops signing but stays published for the overlap,
    so signatures made before and launches in flight keep verifying."""
    kind = _required_kind(kind)
    keep = parse_overlap(overlap or DEFAULT_OVERLAP[kind])
    store = ctx.services.keys
    old = store.current(kind)
    click.echo(f"rotating the {kind} key (current: {old.kid}) ...")
    new = store.rotate(kind, overlap=keep)
    old = next(k for k in store.all(kind) if k.kid == old.kid)
    click.echo(f"  new current {kind} key: {new.kid} (signs from now on)")
    click.echo(f"  old key {old.kid}: no longer signs, stays published {_until(old)}")
    click.echo(f"{len(store.published(kind))} {kind} key(s) now in {_where_published(ctx, kind)}")
    if kind == KIND_LTI:
        click.echo("platforms read the JWKS again within its cache time (5 minutes); nothing to change in the LMS")


@keys.command("retire")
@_kind_flags
@click.option("--kid", default=None, help="Retire this superseded key only (default: every superseded key).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (issuer keys).")
@pass_ctx
def retire(ctx: Context, kind: str | None, kid: str | None, yes: bool) -> None:
    """Stop publishing superseded keys: what they signed no longer verifies."""
    kind = _required_kind(kind)
    if kind == KIND_ISSUER and not yes and not click.confirm(
            "Credentials signed with a retired issuer key no longer verify. Retire it?"):
        raise click.Abort()
    try:
        retired = ctx.services.keys.retire(kind, kid)
    except (LookupError, ValueError) as e:
        raise BadInput(str(e)) from e
    for key in retired:
        click.echo(f"retired {kind} key {key.kid}")
    if not retired:
        click.echo(f"no superseded {kind} key is published: nothing to retire")
    click.echo(f"{len(ctx.services.keys.published(kind))} {kind} key(s) now in {_where_published(ctx, kind)}")


@keys.command("list")
@pass_ctx
def list_keys(ctx: Context) -> None:
    """Every key with its state."""
    now = datetime.now(timezone.utc)
    for kind in (KIND_ISSUER, KIND_LTI):
        for key in ctx.services.keys.all(kind):
            if key.is_current:
                state = "current"
            elif key.is_published(now):
                state = f"superseded {key.superseded_at:%Y-%m-%d %H:%M}, published {_until(key)}"
            else:
                state = f"retired {key.retired_at:%Y-%m-%d %H:%M}"
            click.echo(f"{kind:7} {key.kid:48} created {key.created_at:%Y-%m-%d %H:%M}  {state}")


@click.group("api-token")
def api_token() -> None:
    """Operator tokens for the W3C VC-API issuer (`POST /credentials/issue`); stored hashed."""


@api_token.command("create")
@click.option("--name", required=True, help="Who or what uses it (e.g. 'W3C vc-di-eddsa test suite').")
@pass_ctx
def create_token(ctx: Context, name: str) -> None:
    """Make a token and print it once: send it as `Authorization: Bearer <token>`."""
    with transaction(ctx.services.sessions) as session:
        created = create_api_token(session, name, datetime.now(timezone.utc))
    click.echo(f"API token {created.id} ({created.name}); shown only now:")
    click.echo(created.token)


@api_token.command("list")
@pass_ctx
def list_tokens(ctx: Context) -> None:
    """Every token (never its value) with its state."""
    with transaction(ctx.services.sessions) as session:
        for row in list_api_tokens(session):
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
            used = f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
            click.echo(f"{row.id:5} {row.name:40} created {row.created_at:%Y-%m-%d %H:%M}  {used}  {state}")


@api_token.command("revoke")
@click.argument("token_id", type=int)
@pass_ctx
def revoke_token(ctx: Context, token_id: int) -> None:
    """Stop a token working at once."""
    with transaction(ctx.services.sessions) as session:
        row = revoke_api_token(session, token_id, datetime.now(timezone.utc))
    click.echo(f"API token {row.id} ({row.name}) revoked")
