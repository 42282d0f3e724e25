"""`lti-badger audit export` (the audit trail as JSON or CSV), `lti-badger awards bulk` (award
or revoke from a CSV, as the instructor's bulk page does) and `awards reevaluate`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ..cli_context import Context, pass_ctx
from ..cli_progress import progress
from ..db import transaction
from .audit import Actor, export_audit
from .services import bulk_csv, reevaluate_courses


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


@click.group("awards")
def awards() -> None:
    """Award or revoke badges by hand."""


@awards.command("bulk")
@click.argument("course_id", type=int)
@click.argument("achievement_id", type=int)
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--action", type=click.Choice(["award", "revoke"]), required=True)
@click.option("--reason", default="", help="The reason for rows that give none.")
@pass_ctx
def bulk_cmd(ctx: Context, course_id: int, achievement_id: int, csv_file: Path, action: str, reason: str) -> None:
    """Award or revoke badge ACHIEVEMENT_ID of course COURSE_ID (internal ids) for each row of a
    CSV of `learner (LTI id, LMS id or e-mail), reason`; every row succeeds or fails on its own.
    Exit 1 when a row failed."""
    from datetime import timezone

    now = datetime.now(timezone.utc)
    with progress(f"bulk {action}") as steps, transaction(ctx.services.sessions) as session:
        outcomes = bulk_csv(session, course_id, achievement_id, csv_file.read_text(), action, None, now,
                            actor=Actor.cli(), default_reason=reason, steps=steps)
    for row in outcomes:
        click.echo(f"line {row.line}: {row.learner}: {row.outcome}" + (f" ({row.message})" if row.message else ""))
    if any(row.outcome in ("not_found", "error") for row in outcomes):
        raise click.exceptions.Exit(1)


@awards.command("reevaluate")
@click.option("--course-id", "course_ids", type=int, multiple=True,
              help="Only this course (internal id); repeatable. Default: every course with an active badge.")
@pass_ctx
def reevaluate_cmd(ctx: Context, course_ids: tuple[int, ...]) -> None:
    """Run every active badge's criteria over every learner again: award who qualifies, apply
    the badge's regression policy to holders who no longer do."""
    from datetime import timezone

    with progress("re-evaluating courses") as steps:
        created = reevaluate_courses(ctx.services.sessions, datetime.now(timezone.utc),
                                     course_ids=list(course_ids) or None, steps=steps)
    click.echo(f"{created} award(s) created")
