"""Demo step for endorsements (issue 14 D): the LMS admin invites an industry body to endorse
Biology 101's "Cell Explorer", and the endorser signs through the one-time link's service, so
every Cell Explorer credential issued afterwards carries a verifiable EndorsementCredential.
The headless scenario writes it to DIR/endorsements/<id>.json, and docs.json holds the
endorser's DID document and status list:

    node tests/interop/verify.mjs DIR/endorsements/<id>.json --docs DIR/docs.json --strict --require-status
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..credentials import endorsements
from ..db import transaction

if TYPE_CHECKING:
    from .demo import DemoRun

BADGE = "Cell Explorer"
ENDORSER = endorsements.EndorserInput(
    name="Dr. Rosalind Hale", organisation="European Cell Biology Industry Council (demo)",
    email="rosalind.hale@ecbic.example", url="https://ecbic.example",
    comment="Holders of this badge know the parts of a cell well enough to start in a laboratory technician role.")


def step_endorse(run: "DemoRun") -> None:
    from ..criteria.achievements import list_achievements
    from ..models import Course
    from .demo import DEMO_CONTEXT_ID

    now = datetime.now(timezone.utc)
    with transaction(run.sessions) as s:
        course_id = s.scalar(select(Course.id).where(Course.platform_id == run.platform_id,
                                                     Course.context_id == DEMO_CONTEXT_ID))
        badge = next(a for a in list_achievements(s, course_id) if a.current_version.name == BADGE)
        row, token = endorsements.invite(s, platform_id=run.platform_id, achievement_id=badge.id,
                                         email="hr@ecbic.example", days=7, invited_by=None, now=now)
        signed = endorsements.sign_endorsement(s, token, ENDORSER, base_url=run.settings.public_base_url,
                                               keys=run.keys, now=now)
        run.summary["endorsement"] = {"id": signed.public_id, "badge": BADGE, "endorser": ENDORSER.organisation}


ENDORSEMENT_STEPS = (("endorse", step_endorse),)
