"""The demo's scenarios: the steps of `demo.py` (launches), `demo_awards.py` (badges, awards,
deliveries) and `demo_credentials.py` (credentials, verification) in the order each mode runs
them. It sits above the three so that each of them imports only `demo.py`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .demo import (DemoRun, run_steps, step_course_modules, step_gradebook_columns, step_launch_instructor,
                   step_launch_learners, step_tool_records)
from .demo_awards import AWARD_STEPS, SEED_STEPS, step_deliver, step_suspend_for_review
from .demo_credentials import CREDENTIAL_STEPS
from .demo_endorsements import ENDORSEMENT_STEPS
from .demo_programs import step_programs


def seed_steps() -> list[tuple[str, Callable[[DemoRun], None]]]:
    """What both modes do first: everyone launches once (the tool learns the course and its
    AGS/NRPS endpoints), the grades the LMS holds are pulled, the badges are designed and enabled,
    and an industry body endorses one of them."""
    return [
        ("launch_instructor", step_launch_instructor),
        ("launch_learners", step_launch_learners),
        ("tool_records", step_tool_records),
        ("gradebook_columns", step_gradebook_columns),
        ("course_modules", step_course_modules),
        *SEED_STEPS,
        *ENDORSEMENT_STEPS,
    ]


def seed_tool(run: DemoRun) -> dict[str, Any]:
    """The interactive demo's starting state: the seed steps, a three-course program (two more
    courses), one award suspended for review
    (so the review queue has an item), then the gradebook columns and scores delivered to the LMS."""
    run_steps(run, [*seed_steps(), ("programs", step_programs), ("suspend_for_review", step_suspend_for_review),
                    ("deliver", step_deliver)])
    run.summary["ok"] = all(launch["ok"] for launch in run.summary["launches"])
    return run.summary


def headless_scenario(run: DemoRun) -> dict[str, Any]:
    """The demo without a browser. Each step reads and extends `run.summary`; later parts
    (progress, criteria, awards, credentials, deliveries) add their own steps to this list."""
    run_steps(run, [*seed_steps(), *AWARD_STEPS, *CREDENTIAL_STEPS])
    run.summary["ok"] = (all(launch["ok"] for launch in run.summary["launches"])
                         and run.summary.get("awards", {}).get("ok", True)
                         and run.summary.get("credentials", {}).get("ok", True))
    return run.summary
