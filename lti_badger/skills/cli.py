"""`lti-badger skills import-esco FILE...` (load ESCO's published CSV files into the skills
picker) and `lti-badger skills search WORDS`."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli_context import Context, pass_ctx
from ..db import transaction
from .services import import_concepts, parse_esco_csv, search


@click.group()
def skills() -> None:
    """ESCO skills and occupations for the badge designer."""


@skills.command("import-esco")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def import_esco(ctx: Context, files: tuple[Path, ...]) -> None:
    """Load skills_en.csv / occupations_en.csv from an ESCO download (all files or nothing)."""
    with transaction(ctx.services.sessions) as session:
        for path in files:
            count = import_concepts(session, parse_esco_csv(path.read_text("utf-8")))
            click.echo(f"{path.name}: {count} concepts")


@skills.command("search")
@click.argument("words", nargs=-1, required=True)
@pass_ctx
def search_command(ctx: Context, words: tuple[str, ...]) -> None:
    """Find skills and occupations as the designer's picker does."""
    with transaction(ctx.services.sessions) as session:
        for concept in search(session, " ".join(words)):
            click.echo(f"{concept.kind:10} {concept.label}  {concept.uri}")
