"""`lti-badger demo` (the command; the scenario lives in `devtools.demo`)."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from ..cli_context import Context, pass_ctx
from ..errors import BadInput
from ..logging import configure_logging
from .demo import (
    DEMO_COURSE_TITLE,
    DemoRun,
    ToolServer,
    gradebook_version,
    base_summary,
    prepare_instance,
    register_platform,
    seed_simulator,
    what_to_try,
)
from .demo_awards import deliver_pending, pull_grades
from .scenario import headless_scenario, seed_tool
from .lms_sim import LmsSimulator

log = logging.getLogger(__name__)

# How often the interactive demo pulls grades from the LMS (what `lti-badger source sync` on a
# schedule does in production); it also pulls within a second of a grade entered on the LMS page
# (the simulator runs in this process), so the badge shows up while the newcomer watches.
PULL_SECONDS = 60.0


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address for both servers.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port of the tool (0: any free port).")
@click.option("--lms-port", default=0, type=int, help="Port of the LMS simulator (default: any free port).")
@click.option("--lms", "product_family", type=click.Choice(["canvas", "moodle"]), default="canvas",
              show_default=True, help="Which LMS the simulator pretends to be.")
@click.option("--headless", is_flag=True, help="Run the scenario without a browser and exit.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Where --headless writes summary.json.")
@pass_ctx
def demo(ctx: Context, host: str, port: int, lms_port: int, product_family: str, headless: bool,
         out: Path | None) -> None:
    """Start the tool and a built-in LMS simulator with a demo course, and show how to launch."""
    if headless and out is None:
        raise BadInput("--headless needs --out DIR for summary.json")
    configure_logging(ctx.settings.log_format)
    if sys.stderr.isatty():  # the demo tells a person what happens; its log keeps to warnings there
        logging.getLogger("lti_badger").setLevel(logging.WARNING)
    prepare_instance(ctx)
    tool = ToolServer(ctx.settings, host, port)
    sim = LmsSimulator(product_family=product_family, host=host, port=lms_port)
    try:
        tool.start()
        sim.start()
        activities = seed_simulator(sim, tool.url)
        platform_id = register_platform(tool.app.extensions["lti_badger"].sessions, sim)
        run = DemoRun(tool.settings, tool.app, tool.url, sim, platform_id, activities, out)
        run.summary = base_summary(run)
        if headless:
            summary = headless_scenario(run)
            out.mkdir(parents=True, exist_ok=True)
            (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
            click.echo(f"demo scenario {'passed' if summary['ok'] else 'FAILED'}: {out / 'summary.json'}")
            if not summary["ok"]:
                raise click.exceptions.Exit(1)
            return
        seed_tool(run)
        links = run.summary["links"]
        click.echo(f"lti_badger (tool)   {tool.url}")
        click.echo(f"LMS simulator       {links['lms']}  ({product_family}, course {DEMO_COURSE_TITLE})")
        click.echo(f"\nOpen as instructor:  {links['instructor_launch']}")
        click.echo(f"Open as a learner:   {links['learner_launch']}")
        click.echo(what_to_try(run))
        click.echo("\nEvery person of the course has a launch link on the LMS page. Ctrl-C stops the demo.")
        try:
            seen, last_pull = gradebook_version(sim), time.monotonic()
            while True:
                time.sleep(1)
                changed = gradebook_version(sim) != seen
                if not changed and time.monotonic() - last_pull < PULL_SECONDS:
                    continue
                seen, last_pull = gradebook_version(sim), time.monotonic()
                try:
                    pull_grades(run)
                    deliver_pending(run, timeout=0)
                except SQLAlchemyError:  # e.g. SQLite busy while a launch writes: next round
                    log.warning("demo pull failed; retrying", exc_info=True)
        except KeyboardInterrupt:
            click.echo("\nstopping")
    finally:
        sim.stop()
        tool.stop()
