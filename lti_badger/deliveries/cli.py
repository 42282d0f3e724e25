"""`lti-badger worker`, `lti-badger deliveries list|retry` and `lti-badger serve`."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone

import click

from ..cli_context import Context, pass_ctx
from ..db import transaction
from ..errors import NotFound
from ..models import Delivery
from ..models.delivery import DELIVERY_DEAD, DELIVERY_DONE, DELIVERY_PENDING
from ..settings import DEFAULTS_FILE
from . import outbox


@click.command()
@click.option("--lease-seconds", default=6.0, show_default=True,
              help="How long a claimed delivery stays ours without renewal (renewed every third of it).")
@click.option("--poll-seconds", default=0.2, show_default=True, help="Pause when nothing is due.")
@click.option("--batch-size", default=10, show_default=True)
@click.option("--threads", default=1, show_default=True, help="Sending threads in this process.")
@click.option("--backoff-base", default=2.0, show_default=True, help="First retry delay in seconds.")
@click.option("--until-idle", is_flag=True, help="Exit once nothing is due (cron, tests).")
@pass_ctx
def worker(ctx: Context, lease_seconds: float, poll_seconds: float, batch_size: int, threads: int,
           backoff_base: float, until_idle: bool) -> None:
    """Send pending deliveries. Run as many of these processes as you like, anywhere."""
    from ..logging import configure_logging
    from .runner import run_worker_process
    from .worker import Worker, start_worker_threads

    svc = ctx.services
    configure_logging(svc.settings.log_format)  # a worker's life is its log: started, LMS failing, retries

    def make() -> Worker:
        return Worker(svc.sessions, svc.settings, svc.keys, lease_seconds=lease_seconds,
                      poll_seconds=poll_seconds, batch_size=batch_size, backoff_base=backoff_base)

    if until_idle:
        make().run(until_idle=True)
        return
    from .wakeup import ensure_listener

    ensure_listener(svc.engine)  # PostgreSQL: wake on NOTIFY instead of waiting for the next poll
    extra = start_worker_threads(make, threads - 1) if threads > 1 else []
    try:
        run_worker_process(make())
    finally:
        for w in extra:
            w.stop()


@click.group()
def deliveries() -> None:
    """Inspect and replay outbox deliveries (AGS gradebook, e-mail, webhooks)."""


@deliveries.command("list")
@click.option("--status", type=click.Choice([DELIVERY_PENDING, DELIVERY_DONE, DELIVERY_DEAD]))
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def list_cmd(ctx: Context, status: str | None, limit: int, as_json: bool) -> None:
    """List the newest deliveries, optionally only one status (e.g. --status dead)."""
    with transaction(ctx.services.sessions) as session:
        rows = [
            {"id": d.id, "award_id": d.award_id, "destination": d.destination, "action": d.action,
             "status": d.status, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at.isoformat(),
             "last_error": d.last_error, "gradebook_mode": d.gradebook_mode, "confirmation": d.confirmation}
            for d in outbox.list_deliveries(session, status=status, limit=limit)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no deliveries")
    for r in rows:
        line = f"{r['id']:>6}  {r['status']:8} {r['destination']:8} {r['action']:10} award={r['award_id']} attempts={r['attempts']}"
        if r["confirmation"] == "not_shown":
            line += "  accepted by the LMS but not shown in its gradebook"
        if r["last_error"]:
            line += f"  error: {r['last_error']}"
        click.echo(line)


@deliveries.command("retry")
@click.argument("delivery_id", required=False, type=int)
@click.option("--all-dead", is_flag=True, help="Requeue every dead delivery.")
@pass_ctx
def retry_cmd(ctx: Context, delivery_id: int | None, all_dead: bool) -> None:
    """Requeue one delivery by id, or every dead one; a worker sends them again."""
    if (delivery_id is None) == (not all_dead):
        raise click.UsageError("give a delivery ID or --all-dead")
    now = datetime.now(timezone.utc)
    with transaction(ctx.services.sessions) as session:
        if all_dead:
            n = len(outbox.retry_dead(session, now))
            click.echo(f"requeued {n} dead deliver{'y' if n == 1 else 'ies'}")
            return
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            raise NotFound(f"no delivery {delivery_id}")
        outbox.retry_delivery(session, delivery, now)
        click.echo(f"requeued delivery {delivery_id}")


@click.group()
def webhooks() -> None:
    """Institution URLs that receive signed award notifications (HMAC-SHA256)."""


@webhooks.command("add")
@click.argument("platform_id", type=int)
@click.argument("url")
@pass_ctx
def webhook_add(ctx: Context, platform_id: int, url: str) -> None:
    """Notify URL of every award change in PLATFORM_ID's courses; prints the signing secret once."""
    with transaction(ctx.services.sessions) as session:
        endpoint = outbox.add_webhook(session, platform_id, url, datetime.now(timezone.utc))
        click.echo(f"webhook {endpoint.id} -> {endpoint.url}")
        click.echo(f"signing secret (shown once): {endpoint.secret}")


@webhooks.command("list")
@pass_ctx
def webhook_list(ctx: Context) -> None:
    """List the registered webhooks."""
    with transaction(ctx.services.sessions) as session:
        rows = outbox.list_webhooks(session)
        if not rows:
            click.echo("no webhooks")
        for e in rows:
            click.echo(f"{e.id:>4}  platform={e.platform_id}  {'enabled' if e.enabled else 'disabled'}  {e.url}")


@webhooks.command("remove")
@click.argument("endpoint_id", type=int)
@pass_ctx
def webhook_remove(ctx: Context, endpoint_id: int) -> None:
    """Stop notifying a webhook (its pending deliveries go dead)."""
    with transaction(ctx.services.sessions) as session:
        outbox.remove_webhook(session, endpoint_id)
    click.echo(f"removed webhook {endpoint_id}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=0, type=int, help="Run gunicorn with N processes (production).")
@pass_ctx
def serve(ctx: Context, host: str, port: int, workers: int) -> None:
    """Run the tool: the development server, or gunicorn with --workers N. The delivery worker
    runs inside the web process when `in_process_worker` is on (the embedded default)."""
    if workers:
        conf = DEFAULTS_FILE.parent / "gunicorn.conf.py"
        args = [sys.executable, "-m", "gunicorn", "-c", str(conf), "-w", str(workers), "-b", f"{host}:{port}"]
        os.execv(sys.executable, args)
    from werkzeug.serving import run_simple

    from ..app import create_app

    app = create_app(ctx.settings)
    click.echo(f"lti_badger on http://{host}:{port} (in-process worker: {'on' if ctx.settings.in_process_worker else 'off'})")
    run_simple(host, port, app, threaded=True, use_reloader=False)
