"""`lti-badger source add|list|sync`: the progress feeds of a platform. Thin wrappers over
`progress.sources` and the pulls. `add` prints a push source's secret once (only its hash is
stored) with the URL to paste into the LMS; `sync` runs the pulls (Canvas REST, Moodle WS,
and AGS + NRPS for every course that has those endpoints), for cron or a scheduler."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from ..cli_context import Context, pass_ctx
from ..db import transaction
from ..errors import BadInput
from . import sources

ENDPOINTS = {
    sources.KIND_XAPI: "/xapi/statements",
    sources.KIND_CALIPER: "/caliper/events",
    sources.KIND_CANVAS_EVENTS: "/canvas/live-events",
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _courses(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        lms_id, sep, context_id = pair.partition("=")
        if not sep or not lms_id or not context_id:
            raise BadInput(f"--course takes LMS_COURSE_ID=LTI_CONTEXT_ID, got {pair!r}")
        mapping[lms_id.strip()] = context_id.strip()
    return mapping


@click.group("source")
def source() -> None:
    """Progress sources: xAPI, Caliper, Canvas Live Events (push) and Canvas REST, Moodle WS (pull)."""


@source.command("add")
@click.argument("kind", type=click.Choice(sources.KINDS))
@click.option("--platform", "platform_id", type=int, required=True, help="the platform id (`platform list`)")
@click.option("--name", default="default", show_default=True)
@click.option("--base-url", help="canvas-rest / moodle-ws: the LMS's base URL")
@click.option("--token", help="canvas-rest: an access token; moodle-ws: a web service token")
@click.option("--jwks", "jwks_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="canvas-events: the JWKS file with the keys Canvas signs events with")
@click.option("--root-account-uuid", help="canvas-events: tells apart Canvas instances that share signing keys")
@click.option("--course", "course_pairs", multiple=True, metavar="LMS_ID=CONTEXT_ID",
              help="map an LMS course id to its LTI context id (Canvas; repeatable)")
@click.option("--skip-unknown-courses", is_flag=True,
              help="xapi / caliper: acknowledge, without storing, events of courses that never launched the tool "
                   "(a site-wide feed such as Moodle's logstore_xapi) instead of refusing the batch")
@pass_ctx
def add(ctx: Context, kind: str, platform_id: int, name: str, base_url: str | None, token: str | None,
        jwks_file: Path | None, root_account_uuid: str | None, course_pairs: tuple[str, ...],
        skip_unknown_courses: bool) -> None:
    """Add a source; push sources get credentials, shown once."""
    settings: dict = {}
    if skip_unknown_courses:
        settings["skip_unknown_courses"] = True
    if base_url:
        settings["base_url"] = base_url
    if token:
        settings["token"] = token
    if jwks_file:
        try:
            settings["jwks"] = json.loads(jwks_file.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BadInput(f"{jwks_file} is not a JSON JWKS") from e
    if root_account_uuid:
        settings["root_account_uuid"] = root_account_uuid
    if course_pairs:
        settings["courses"] = _courses(course_pairs)
    with transaction(ctx.services.sessions) as s:
        new = sources.add_source(s, platform_id, kind, name=name, settings=settings, now=_now())
        source_id = new.source.id
    base = ctx.settings.public_base_url
    click.echo(f"source {source_id}: {kind} {name!r} for platform {platform_id}")
    if kind == sources.KIND_XAPI:
        click.echo(f"  LRS endpoint   {base}/xapi/  (statements at {base}{ENDPOINTS[kind]})")
        click.echo(f"  Basic key      {new.key}")
        click.echo(f"  Basic secret   {new.secret}")
        click.echo("  The secret is shown only now; store it in the LMS (e.g. Moodle's logstore_xapi settings).")
    elif kind == sources.KIND_CALIPER:
        click.echo(f"  endpoint       {base}{ENDPOINTS[kind]}")
        click.echo(f"  bearer token   {new.bearer_token}")
        click.echo("  The token is shown only now.")
    elif kind == sources.KIND_CANVAS_EVENTS:
        click.echo(f"  endpoint       {base}{ENDPOINTS[kind]}?source={new.key}")
        click.echo("  In Canvas Data Services: HTTPS delivery, format 'canvas', Sign Payload on;")
        click.echo("  subscribe to grade_change, submission_created, submission_updated, course_progress.")
    else:
        click.echo("  run `lti-badger source sync` (e.g. from cron) to pull")


@source.command("list")
@click.option("--platform", "platform_id", type=int, help="only this platform's sources")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@pass_ctx
def list_(ctx: Context, platform_id: int | None, as_json: bool) -> None:
    """List sources (never their secrets or tokens)."""
    with ctx.services.sessions() as s:
        rows = [{"id": src.id, "platform": src.platform_id, "kind": src.kind, "name": src.name,
                 "enabled": src.enabled, "base_url": (src.settings or {}).get("base_url"),
                 "last_event_at": src.last_event_at.isoformat() if src.last_event_at else None,
                 "last_sync_at": src.last_sync_at.isoformat() if src.last_sync_at else None,
                 "last_error": src.last_error} for src in sources.list_sources(s, platform_id)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no sources")
    for r in rows:
        seen = r["last_event_at"] or r["last_sync_at"] or "never"
        line = f"{r['id']:>4}  platform {r['platform']:<4} {r['kind']:<14} {r['name']:<16} last: {seen}"
        click.echo(line + ("" if r["enabled"] else "  (disabled)") + (f"  error: {r['last_error']}" if r["last_error"] else ""))


@source.command("sync")
@click.option("--platform", "platform_id", type=int, help="only this platform")
@click.option("--changes", is_flag=True, help="only the incremental Moodle WS pull (what the worker runs every minute)")
@pass_ctx
def sync(ctx: Context, platform_id: int | None, changes: bool) -> None:
    """Pull now: Canvas REST and Moodle WS sources, then AGS + NRPS of every course with them."""
    from ..cli_progress import progress
    from .schedule import sync_all, sync_changes

    if changes:
        lines = sync_changes(ctx.services.sessions, _now, http=ctx.services.outbound, min_interval=timedelta(0),
                             platform_id=platform_id)
    else:
        with progress("pulling sources and courses") as steps:
            lines = sync_all(ctx.services.sessions, ctx.services.keys, _now, http=ctx.services.outbound,
                             redis_url=ctx.settings.redis_url, platform_id=platform_id, steps=steps)
    for line in lines:
        click.echo(str(line))
    if not lines:
        click.echo("nothing to pull")
    if any(line.errors for line in lines):
        raise click.exceptions.Exit(1)
