"""The earners page of a large course: search by name or e-mail, filter by a badge's status
(earned, suspended, revoked, not yet, one step away), sort by name or award date, 50 a page;
the funnel's stages narrow from enrolled to earned; course B's learners never appear."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from lti_badger.models import Achievement, Award, Course, Enrollment, Person
from tests.factories_awards import make_achievement
from tests.functional.web.test_instructor_pages import add_progress

ROW = re.compile(r'<tr><th scope="row">([^<]+)</th>')


def names(html: str) -> list[str]:
    return ROW.findall(html)


def enrol(app, world, count: int) -> None:
    with app.extensions["lti_badger"].sessions() as s:
        for i in range(count):
            p = Person(platform_id=world.platform.id, sub=f"bulk-{i}", name=f"Pat Many{i:03d}",
                       given_name="Pat", family_name=f"Many{i:03d}", email=f"pat{i:03d}@school.example")
            s.add(p)
            s.flush()
            s.add(Enrollment(course_id=world.course.id, person_id=p.id, role="learner"))
        s.commit()


def award(app, world, ach_id: int, person_id: int, status: str = "active", days_ago: int = 0) -> None:
    with app.extensions["lti_badger"].sessions() as s:
        ach = s.get(Achievement, ach_id)
        s.add(Award(course_id=world.course.id, achievement_id=ach_id, version_id=ach.current_version_id,
                    person_id=person_id, status=status,
                    awarded_at=datetime.now(timezone.utc) - timedelta(days=days_ago)))
        s.commit()


def badge(app, world, rule=None) -> int:
    with app.extensions["lti_badger"].sessions() as s:
        rule = rule or {"type": "all", "rules": [{"type": "activity_completed", "activity": world.activities[0].lms_id},
                                                 {"type": "activity_completed", "activity": world.activities[1].lms_id}]}
        ach, _version = make_achievement(s, s.get(Course, world.course.id), name="Two quizzes", rule=rule)
        s.commit()
        return ach.id


def test_search_sort_and_pages(app, courses, as_person):
    a, b = courses
    enrol(app, a, 120)
    teacher = as_person(a, a.instructor, "instructor")
    badge(app, a)
    first = teacher.get("/course/earners").get_data(as_text=True)
    assert "Showing 1–50 of 123 learners" in first and "Page 1 of 3" in first
    shown = names(first)
    assert len(shown) == 50 and shown == sorted(shown, key=lambda n: n.split()[-1])
    last = teacher.get("/course/earners?page=3").get_data(as_text=True)
    assert "Showing 101–123 of 123 learners" in last and len(names(last)) == 23 and 'rel="next"' not in last
    beyond = teacher.get("/course/earners?page=99").get_data(as_text=True)
    assert names(beyond) == names(last)  # a page past the end shows the last one
    backwards = names(teacher.get("/course/earners?sort=-name").get_data(as_text=True))
    assert backwards[0] == "Pat Many119"

    found = teacher.get("/course/earners?q=MANY04").get_data(as_text=True)
    assert names(found) == [f"Pat Many04{i}" for i in range(10)]
    by_mail = teacher.get("/course/earners?q=pat007@school").get_data(as_text=True)
    assert names(by_mail) == ["Pat Many007"]
    wildcard = teacher.get("/course/earners?q=%25").get_data(as_text=True)  # a literal %, not "everything"
    assert "No learner matches these filters." in wildcard
    # course B's instructor never sees course A's learners, whatever they search for
    other = as_person(b, b.instructor, "instructor").get("/course/earners?q=Pat").get_data(as_text=True)
    assert "Pat Many" not in other


def test_filters_by_status_and_sort_by_award_date(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    ach_id = badge(app, a)
    l1, l2, l3 = a.learners
    award(app, a, ach_id, l1.id, days_ago=3)
    award(app, a, ach_id, l2.id, status="suspended", days_ago=1)
    award(app, a, ach_id, l3.id, status="revoked", days_ago=2)
    add_progress(app, a, l3, 0, 10.0)  # l3 is one quiz away from the badge again

    def shown(query: str) -> list[str]:
        return names(teacher.get(f"/course/earners?badge={ach_id}&{query}").get_data(as_text=True))

    assert shown("status=earned") == [l1.name]
    assert shown("status=suspended") == [l2.name]
    assert shown("status=revoked") == [l3.name]
    assert shown("status=not_yet") == [l3.name]
    assert shown("status=one_step_away") == [l3.name]
    assert shown("sort=-awarded") == [l2.name, l3.name, l1.name]
    assert shown("sort=awarded") == [l1.name, l3.name, l2.name]
    assert shown("status=bogus") == [l1.name, l2.name, l3.name]  # an unknown filter is ignored, not a 500


def test_funnel_stages_narrow_from_enrolled_to_earned(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    ach_id = badge(app, a)
    l1, l2, _l3 = a.learners
    add_progress(app, a, l1, 0, 9.0)
    add_progress(app, a, l1, 1, 9.0)
    add_progress(app, a, l2, 0, 9.0)
    award(app, a, ach_id, l1.id)
    page = teacher.get("/course/earners").get_data(as_text=True)
    stages = dict(re.findall(r"<tr><td>([a-z ]+)</td><td class=\"num\">(\d+)</td></tr>", page))
    assert stages["enrolled"] == "3" and stages["started"] == "2"
    assert stages["one step away or closer"] == "2" and stages["earned"] == "1"
    assert 'aria-label="learners at each stage of Two quizzes"' in page


def test_a_large_course_counts_its_funnel_on_request(app, courses, as_person, monkeypatch):
    from lti_badger.web import instructor
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    ach_id = badge(app, a)
    monkeypatch.setattr(instructor, "FUNNEL_AUTO_LEARNERS", 2)
    page = teacher.get("/course/earners").get_data(as_text=True)
    assert "press Show to count them" in page and "one step away or closer" not in page
    asked = teacher.get(f"/course/earners?funnel={ach_id}").get_data(as_text=True)
    assert "one step away or closer" in asked
