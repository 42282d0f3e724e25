"""`lti-badger awards bulk`: award or revoke from a CSV through Click's runner, with a progress
bar on a terminal and two log lines without one; rows about another course's learners or
nobody fail on their own and change nothing."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner
from sqlalchemy import select

from lti_badger import cli_progress
from lti_badger.cli import main
from lti_badger.models import Award
from lti_badger.models.award import AWARD_ACTIVE, AWARD_REVOKED
from tests.factories_awards import make_achievement
from tests.factories_web import two_courses


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _env(app_settings) -> dict:
    return {"LTI_BADGER_DATABASE_URL": app_settings["database_url"],
            "LTI_BADGER_INSTANCE_PATH": app_settings["instance_path"],
            "LTI_BADGER_SECRET_KEY": app_settings["secret_key"]}


def test_bulk_award_then_revoke_from_a_csv(app, app_settings, tmp_path, monkeypatch):
    a, b = two_courses(app)
    with app.extensions["lti_badger"].sessions() as s:
        badge, _ = make_achievement(s, a.course, name="Field work")
        s.commit()
    csv_file = tmp_path / "awards.csv"
    csv_file.write_text("learner,reason\n" + "".join(f"{p.email},field trip\n" for p in a.learners[:2])
                        + f"{b.learners[0].email},not in this course\nnobody@example.edu,\n")
    args = ["awards", "bulk", str(a.course.id), str(badge.id), str(csv_file)]

    result = CliRunner().invoke(main, [*args, "--action", "award"], env=_env(app_settings))
    assert result.exit_code == 1  # two rows could not be done
    assert result.stdout.splitlines() == [
        f"line 2: {a.learners[0].email}: awarded", f"line 3: {a.learners[1].email}: awarded",
        f"line 4: {b.learners[0].email}: not_found (no learner with this id or e-mail in the course)",
        "line 5: nobody@example.edu: not_found (no learner with this id or e-mail in the course)"]
    logged = [json.loads(line)["msg"] for line in result.stderr.splitlines() if line.startswith("{")]
    assert logged == ["bulk award: started", "bulk award: done"]
    with app.extensions["lti_badger"].sessions() as s:
        held = s.scalars(select(Award.person_id).where(Award.achievement_id == badge.id,
                                                       Award.status == AWARD_ACTIVE)).all()
        assert sorted(held) == sorted(p.id for p in a.learners[:2])
        assert not s.scalars(select(Award).where(Award.person_id == b.learners[0].id)).all()

    terminal = Tty()
    monkeypatch.setattr(cli_progress, "terminal_stream", lambda: terminal)
    csv_file.write_text(f"{a.learners[0].email},awarded by mistake\n")
    revoked = CliRunner().invoke(main, [*args, "--action", "revoke"], env=_env(app_settings))
    assert revoked.exit_code == 0 and revoked.stdout == f"line 1: {a.learners[0].email}: revoked\n"
    assert "bulk revoke" in terminal.getvalue() and "1/1" in terminal.getvalue()
    assert "started" not in revoked.stderr
    with app.extensions["lti_badger"].sessions() as s:
        statuses = dict(s.execute(select(Award.person_id, Award.status).where(Award.achievement_id == badge.id)).all())
        assert statuses == {a.learners[0].id: AWARD_REVOKED, a.learners[1].id: AWARD_ACTIVE}
