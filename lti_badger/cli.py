"""The `lti-badger` command line. Commands are thin: parse, call a service, print.
Domain errors print their message and exit with status 1. Each part's commands live in its
`cli.py` and share the context of `cli_context.py`; this module, on top, gathers them."""

from __future__ import annotations

import sys

import click

from .awards.cli import audit, awards
from .cli_context import Context, pass_ctx
from .credentials.cli import api_token, keys, verify
from .deliveries.cli import deliveries, serve, webhooks, worker
from .devtools.cli import demo
from .errors import BadgerError
from .keys import KIND_ISSUER, KIND_LTI
from .lti.cli import platform
from .progress.cli import source
from .skills.cli import skills


class BadgerGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BadgerError as err:
            click.secho(f"error: {err.message}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=BadgerGroup)
@click.version_option(package_name="lti-badger")
def main() -> None:
    """lti_badger: award Open Badges 3.0 from LMS progress, over LTI 1.3."""


def tool_urls(base_url: str) -> dict[str, str]:
    """The URLs an LMS admin pastes into Moodle or Canvas."""
    return {
        "Tool URL / target link URI": f"{base_url}/lti/launch",
        "Initiate login URL (OIDC)": f"{base_url}/lti/login",
        "Redirection URI(s)": f"{base_url}/lti/launch",
        "Public keyset URL (JWKS)": f"{base_url}/.well-known/jwks.json",
        "Dynamic registration URL": "run `lti-badger platform invite` for a one-time link",
        "Canvas developer key JSON URL": f"{base_url}/lti/config/canvas.json",
    }


@main.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Create or upgrade the database and generate missing keys."""
    from .migrate import upgrade

    svc = ctx.services
    click.echo(f"database: {svc.engine.url.render_as_string(hide_password=True)}")
    upgrade(svc.engine)
    click.echo("  schema is at the latest migration")
    lti_key, issuer_key = svc.keys.ensure(KIND_LTI), svc.keys.ensure(KIND_ISSUER)
    ctx.settings.secret()
    click.echo(f"keys: LTI RSA kid={lti_key.kid}, issuer Ed25519 {issuer_key.kid}")
    click.echo("\nPaste these into Moodle (Site administration > Plugins > External tool > Manage tools)")
    click.echo("or Canvas (Admin > Developer Keys > + LTI Key):")
    for label, url in tool_urls(ctx.settings.public_base_url).items():
        click.echo(f"  {label:32} {url}")


for command in (worker, deliveries, webhooks, serve, audit, awards, platform, demo, source, verify, keys, api_token,
                skills):
    main.add_command(command)
