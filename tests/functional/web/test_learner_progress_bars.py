"""Issue 18, "pictures": the learner's badge page shows a progress bar per requirement of the
badge's rule (a score against its threshold, met or not for completion), drawn from the
explanation tree, beside the checklist."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from lti_badger.models import Activity, Course, Progress
from tests.factories_awards import make_achievement


def test_a_bar_per_requirement(app, courses, as_person):
    a, _ = courses
    learner = a.learners[0]
    with app.extensions["lti_badger"].sessions() as s:
        rule = {"type": "all", "rules": [
            {"type": "activity_score", "activity": a.activities[0].lms_id, "min_percent": 80.0},
            {"type": "activity_completed", "activity": a.activities[1].lms_id},
            {"type": "activity_completed", "activity": a.activities[2].lms_id}]}
        ach, _ = make_achievement(s, s.get(Course, a.course.id), name="Three steps", rule=rule)
        for index, score, done in ((0, 6.0, True), (1, 10.0, True)):
            s.add(Progress(course_id=a.course.id, activity_id=s.get(Activity, a.activities[index].id).id,
                           person_id=learner.id, score=score, max_score=10.0, completed=done,
                           occurred_at=datetime.now(timezone.utc), source="ags"))
        s.commit()
        ach_id = ach.id
    page = as_person(a, learner, "learner").get(f"/me/badges/{ach_id}").get_data(as_text=True)
    bars = re.search(r'<ul class="criterion-bars".*?</ul>', page, re.S).group(0)
    values = re.findall(r'<progress max="([\d.]+)" value="([\d.]+)" aria-label="Progress on: ([^"]+)"', bars)
    assert [(m, v) for m, v, _ in values] == [("80", "60"), ("1", "1"), ("1", "0")]
    assert all(label.strip() for _, _, label in values)
    assert "60 of 80" in bars and bars.count("1 of 1") == 1 and "0 of 1" in bars
    # the overall bar still counts requirements met
    assert re.search(r'<progress max="3" value="1" aria-label="Progress towards Three steps"', page)
