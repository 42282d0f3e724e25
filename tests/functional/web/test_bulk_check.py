"""Issue 18, "bulk award, check first": posting a CSV checks every row and says what would
happen (award, already has it, unknown learner, learner of another course, ...) without
changing anything; Apply does it; a file of the wrong shape is one clear 400."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from lti_badger.models import AuditEvent, Award, Delivery
from tests.factories_awards import make_achievement

ROW = re.compile(r'<th scope="row">([^<]*)</th>\s*<td><span class="state[^"]*">([^<]+)</span>')


def _badge(app, world) -> int:
    with app.extensions["lti_badger"].sessions() as s:
        ach, _ = make_achievement(s, world.course, name="Lab safety")
        s.commit()
        return ach.id


def _counts(app) -> tuple[int, int, int]:
    with app.extensions["lti_badger"].sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Award, AuditEvent, Delivery))


def test_check_shows_each_row_and_changes_nothing_then_apply_does_it(app, courses, as_person):
    a, b = courses
    ach_id = _badge(app, a)
    teacher = as_person(a, a.instructor, "instructor")
    teacher.post("/course/awards/bulk", {"achievement_id": ach_id, "action": "award", "step": "apply",
                                         "rows": f"{a.learners[2].email},earlier"})
    before = _counts(app)
    rows = (f"learner,reason\n{a.learners[0].email},attended\n{a.learners[1].sub}\n{a.learners[2].email},again\n"
            f"{b.learners[0].email},other course\nnobody@example.edu,typo\n{a.learners[0].sub},twice\n")
    checked = teacher.post("/course/awards/bulk", {"achievement_id": ach_id, "action": "award", "rows": rows})
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "nothing has changed yet" in page
    assert ROW.findall(page) == [
        (a.learners[0].email, "will be awarded"), (a.learners[1].sub, "no reason given"),
        (a.learners[2].email, "already has it"), (b.learners[0].email, "a learner of another course"),
        ("nobody@example.edu", "no such learner"), (a.learners[0].sub, "listed twice")]
    assert _counts(app) == before  # the check wrote nothing
    assert "Apply to 1 learners" in page and 'name="step" value="apply"' in page

    applied = teacher.post("/course/awards/bulk", {"achievement_id": ach_id, "action": "award", "rows": rows,
                                                   "reason": "", "step": "apply"})
    assert applied.status_code == 200 and ">awarded<" in applied.get_data(as_text=True)
    with app.extensions["lti_badger"].sessions() as s:
        holders = set(s.scalars(select(Award.person_id).where(Award.achievement_id == ach_id)))
    assert holders == {a.learners[0].id, a.learners[2].id}


def test_a_file_of_the_wrong_shape_is_one_message(app, courses, as_person):
    a, _ = courses
    ach_id = _badge(app, a)
    teacher = as_person(a, a.instructor, "instructor")
    before = _counts(app)
    wide = "".join(f"{p.email},Lena,Learner,workshop\n" for p in a.learners)
    for rows, message in ((wide, "each row has two columns, learner and reason: line 1 has 4 (and 2 more rows)"),
                          ("name,reason\nlena,x\n", "the header must be `learner,reason` (found `name,reason`)")):
        for step in ("check", "apply"):
            response = teacher.post("/course/awards/bulk", {"achievement_id": ach_id, "action": "award",
                                                            "rows": rows, "reason": "r", "step": step})
            text = response.get_data(as_text=True)
            assert response.status_code == 400 and message in text.replace("&#96;", "`"), (step, text[-2000:])
            assert text.count('class="notice notice-error"') <= 1
    file_check = teacher.post("/course/awards/bulk", {"achievement_id": ach_id, "action": "award",
                                                      "file": (io.BytesIO(wide.encode()), "rows.csv")},
                              content_type="multipart/form-data")
    assert file_check.status_code == 400
    assert _counts(app) == before


def test_check_of_another_courses_badge_is_404(app, courses, as_person):
    a, b = courses
    ach_id = _badge(app, a)
    intruder = as_person(b, b.instructor, "instructor")
    assert intruder.post("/course/awards/bulk", {"achievement_id": ach_id, "action": "award",
                                                 "rows": f"{a.learners[0].email},x"}).status_code == 404
