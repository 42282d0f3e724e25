"""`lti-badger audit export`: the audit trail as JSON or CSV."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ..cli_context import Context, pass_ctx
from ..db import transaction
from .audit import export_audit


@click.group()
def audit() -> None:
    """The audit trail of award decisions."""


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--course-id", type=int, help="Only this course (internal id).")
@click.option("--platform-id", type=int, help="Only this platform (internal id).")
@click.option("--since", type=click.DateTime(), help="Only events at or after this UTC time.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@pass_ctx
def export_cmd(ctx: Context, fmt: str, course_id: int | None, platform_id: int | None, since: datetime | None,
               out: Path | None) -> None:
    """Export audit events (actor, action, reason, before/after, time)."""
    from datetime import timezone

    with transaction(ctx.services.sessions) as session:
        text = export_audit(session, fmt=fmt, course_id=course_id, platform_id=platform_id,
                            since=since.replace(tzinfo=timezone.utc) if since else None)
    if out:
        out.write_text(text)
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=not text.endswith("\n"))
