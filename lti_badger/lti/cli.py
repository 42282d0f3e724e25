"""`lti-badger platform add|list|remove|add-deployment|rename-deployment|remove-deployment`: register an LMS by
hand (the manual alternative to dynamic registration), and `platform invite`: a one-time link
that opens dynamic registration for one LMS. Thin wrappers over `lti.platforms` and
`lti.registration`."""

from __future__ import annotations

import json

import click
from sqlalchemy import inspect

from ..cli_context import Context, pass_ctx
from ..db import transaction
from ..errors import BadInput, NotFound
from ..models import Platform
from ..models.base import utcnow
from . import platforms
from .registration import INVITE_LIFETIME, create_invite


def _require_schema(ctx: Context) -> None:
    if not inspect(ctx.services.engine).has_table("platform"):
        raise BadInput("the database has no schema yet: run `lti-badger init` first")


def _describe(platform: Platform) -> dict:
    return {
        "id": platform.id,
        "name": platform.name,
        "issuer": platform.issuer,
        "client_id": platform.client_id,
        "auth_login_url": platform.auth_login_url,
        "auth_token_url": platform.auth_token_url,
        "key_set_url": platform.key_set_url,
        "deployment_ids": [d.deployment_id for d in platform.deployments],
        "deployments": [{"id": d.deployment_id, "name": d.name} for d in platform.deployments],
        "registered_via": platform.registered_via,
    }


@click.group("platform")
def platform() -> None:
    """Register, list and remove LMS platforms (Moodle, Canvas, ...)."""


@platform.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (iss), e.g. https://canvas.instructure.com")
@click.option("--client-id", required=True, help="The client id the LMS gave the tool.")
@click.option("--auth-login-url", required=True, help="The LMS's OIDC authentication endpoint.")
@click.option("--auth-token-url", required=True, help="The LMS's OAuth2 token endpoint.")
@click.option("--key-set-url", required=True, help="The LMS's public key set (JWKS) URL.")
@click.option("--deployment-id", "deployment_ids", required=True, multiple=True,
              help="A deployment id of the tool on this LMS (repeat for several).")
@click.option("--name", default="", help="A name shown to admins (default: the issuer's host).")
@click.option("--auth-audience", default=None, help="Audience of client assertions if not the token URL.")
@click.option("--product-family", default=None,
              help="The LMS product when its launches do not say (Open edX sends no tool_platform): openedx.")
@pass_ctx
def add(ctx: Context, issuer: str, client_id: str, auth_login_url: str, auth_token_url: str, key_set_url: str,
        deployment_ids: tuple[str, ...], name: str, auth_audience: str | None, product_family: str | None) -> None:
    """Register an LMS by hand."""
    _require_schema(ctx)
    with transaction(ctx.services.sessions) as session:
        added = platforms.add_platform(
            session, issuer=issuer, client_id=client_id, auth_login_url=auth_login_url,
            auth_token_url=auth_token_url, key_set_url=key_set_url, deployment_ids=deployment_ids, name=name,
            auth_audience=auth_audience, registered_via="cli", product_family=product_family)
        described = _describe(added)
    click.echo(f"platform {described['id']} added: {described['name']} "
               f"(issuer {described['issuer']}, client_id {described['client_id']}, "
               f"deployments {', '.join(described['deployment_ids'])})")


@platform.command("invite")
@click.option("--note", default="", help="Who the link is for (kept with the invite, e.g. the LMS's name).")
@pass_ctx
def invite(ctx: Context, note: str) -> None:
    """Print a one-time link that lets one LMS register the tool (LTI Dynamic Registration)."""
    _require_schema(ctx)
    now = utcnow()
    with transaction(ctx.services.sessions) as session:
        token = create_invite(session, now, note)
    hours = int(INVITE_LIFETIME.total_seconds() // 3600)
    click.echo(f"{ctx.settings.public_base_url}/lti/register?invite={token}")
    click.echo(f"Paste this URL as the tool URL of your LMS's dynamic registration. It works once, "
               f"until {now + INVITE_LIFETIME:%Y-%m-%d %H:%M} UTC ({hours} hours).", err=True)


@platform.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def list_(ctx: Context, as_json: bool) -> None:
    """Show the registered platforms."""
    _require_schema(ctx)
    with transaction(ctx.services.sessions) as session:
        rows = [_describe(p) for p in platforms.list_platforms(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no platforms registered (use `lti-badger platform add` or dynamic registration)")
        return
    for row in rows:
        deployments = ", ".join(f"{d['name']} ({d['id']})" if d["name"] else d["id"] for d in row["deployments"])
        click.echo(f"{row['id']:>4}  {row['name']}  issuer={row['issuer']}  client_id={row['client_id']}  "
                   f"deployments={deployments}  via={row['registered_via']}")


@platform.command("remove")
@click.argument("platform_id", required=False, type=int)
@click.option("--issuer", default=None, help="Pick the platform by issuer (with --client-id).")
@click.option("--client-id", default=None, help="Pick the platform by client id (with --issuer).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def remove(ctx: Context, platform_id: int | None, issuer: str | None, client_id: str | None, yes: bool) -> None:
    """Forget a platform and everything recorded from it (courses, people, awards)."""
    if (platform_id is None) == (issuer is None and client_id is None):
        raise BadInput("give either a platform id or both --issuer and --client-id")
    if platform_id is None and not (issuer and client_id):
        raise BadInput("--issuer and --client-id go together")
    _require_schema(ctx)
    with transaction(ctx.services.sessions) as session:
        if platform_id is not None:
            target = platforms.get_platform(session, platform_id)
        else:
            target = platforms.find_platform(session, issuer, client_id)
            if target is None:
                raise NotFound(f"no platform with issuer {issuer} and client_id {client_id}")
        label = f"platform {target.id} ({target.issuer}, client_id {target.client_id})"
        if not yes and not click.confirm(f"Remove {label} and all its courses, people and awards?"):
            raise click.Abort()
        platforms.remove_platform(session, target.id)
    click.echo(f"{label} removed")


@platform.command("add-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
@click.option("--name", default=None, help="What admins call this deployment (e.g. the faculty's name).")
@pass_ctx
def add_deployment(ctx: Context, platform_id: int, deployment_id: str, name: str | None) -> None:
    """Accept launches from one more deployment of the tool on a platform."""
    _require_schema(ctx)
    with transaction(ctx.services.sessions) as session:
        platforms.add_deployment(session, platforms.get_platform(session, platform_id), deployment_id, name)
    click.echo(f"deployment {deployment_id} added to platform {platform_id}")


@platform.command("rename-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
@click.argument("name")
@pass_ctx
def rename_deployment(ctx: Context, platform_id: int, deployment_id: str, name: str) -> None:
    """Name a deployment as admins know it (an empty name clears it)."""
    _require_schema(ctx)
    with transaction(ctx.services.sessions) as session:
        platforms.rename_deployment(session, platforms.get_platform(session, platform_id), deployment_id, name)
    click.echo(f"deployment {deployment_id} of platform {platform_id} is now named {name.strip()!r}")


@platform.command("remove-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
@pass_ctx
def remove_deployment(ctx: Context, platform_id: int, deployment_id: str) -> None:
    """Stop accepting launches from a deployment."""
    _require_schema(ctx)
    with transaction(ctx.services.sessions) as session:
        platforms.remove_deployment(session, platforms.get_platform(session, platform_id), deployment_id)
    click.echo(f"deployment {deployment_id} removed from platform {platform_id}")
