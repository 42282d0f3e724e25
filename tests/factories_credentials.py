"""Test data for credentials: rows built directly (platform, course, learner, achievement,
version, award), an issuer with a key store in a temp folder, and the bridge to the
independent Node verifier (`ob3-verify`), which every issued credential must pass."""

from __future__ import annotations

import itertools
import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lti_badger.credentials import IssuerProfile
from lti_badger.credentials.compose import status_entries
from lti_badger.credentials.did import did_document, did_document_url
from lti_badger.credentials.jsonld import served_contexts
from lti_badger.credentials.schema import schema_errors
from lti_badger.credentials.services import current_signer
from lti_badger.credentials.status import get_status_list, status_list_credential
from lti_badger.keys import KIND_ISSUER, FileKeyStore
from lti_badger.models import Achievement, AchievementVersion, Award, Course, Enrollment, Person, Platform
from tests.ob3_everywhere import OB3_VERIFY_DIR

# In the past: the independent verifier checks a status list's validFrom against the real clock.
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
BASE_URL = "https://badges.example.edu"

_seq = itertools.count(1)

RICH_DETAILS: dict[str, Any] = {
    "tags": ["python", "programming"],
    "alignments": [{"targetName": "Write Python functions", "targetUrl": "https://skills.example.org/py/functions",
                    "targetFramework": "Example Skills", "targetCode": "PY-1"}],
    "language": "en",
    "credits_ects": 2.5,
    "field_of_study": "Computer Science",
    "specialization": "Programming",
    "human_code": "PY101",
    "eqf_level": 5,
    "assessment": "Automatically graded quizzes",
    "quality_assurance": "Reviewed by the faculty board",
    "include_grades": True,
}

DECISION = {
    "met": True, "evaluated_at": "2026-11-23T11:59:00+00:00", "steps_remaining": 0,
    "explanation": {"type": "all", "pointer": "", "met": True, "reason": "all met", "steps_remaining": 0,
                    "children": [
                        {"type": "activity_completed", "pointer": "/all/0", "met": True, "reason": "completed",
                         "title": "Quiz 1", "module": "Week 1", "as_of": "2026-11-20T10:00:00+00:00",
                         "steps_remaining": 0},
                        {"type": "activity_score", "pointer": "/all/1", "met": True, "reason": "scored 85 ≥ 80",
                         "title": "Assignment \"Loops\"", "observed": 85, "threshold": 80, "unit": "%",
                         "steps_remaining": 0},
                    ]},
}


@dataclass
class Issuer:
    profile: IssuerProfile
    keys: FileKeyStore


def make_issuer(tmp_path: Path, base_url: str = BASE_URL, status_entries: str = "one") -> Issuer:
    keys = FileKeyStore(tmp_path / "keys")
    keys.ensure(KIND_ISSUER)
    profile = IssuerProfile(base_url=base_url, did=IssuerProfile.from_settings(_settings(base_url)).did,
                            name="Example University", url="https://example.edu/", email="badges@example.edu",
                            status_entries=status_entries)
    return Issuer(profile, keys)


def _settings(base_url: str):
    from lti_badger.settings import Settings

    return Settings(base_url=base_url)


@dataclass
class World:
    platform: Platform
    course: Course
    person: Person
    achievement: Achievement
    version: AchievementVersion


def make_world(db: Session, *, name: str = "Python Basics", description: str = "Writes small Python programs.",
               details: dict[str, Any] | None = None, email: str | None = "auto", validity_days: int | None = None,
               image: bytes | None = None, image_type: str | None = None, achievement_type: str = "Badge") -> World:
    """A platform, a course, an enrolled learner and an active achievement with one version."""
    n = next(_seq)
    issuer = f"https://lms{n}.example"
    platform = Platform(issuer=issuer, client_id=f"client-{n}", auth_login_url=f"{issuer}/auth",
                        auth_token_url=f"{issuer}/token", key_set_url=f"{issuer}/jwks")
    db.add(platform)
    db.flush()
    course = Course(platform_id=platform.id, context_id=f"ctx-{n}", title=f"Course {n}")
    person = Person(platform_id=platform.id, sub=f"user-{n}", name=f"Learner {n}",
                    email=f"learner{n}@example.edu" if email == "auto" else email)
    db.add_all([course, person])
    db.flush()
    db.add(Enrollment(course_id=course.id, person_id=person.id))
    achievement = Achievement(course_id=course.id, state="active")
    db.add(achievement)
    db.flush()
    version = AchievementVersion(achievement_id=achievement.id, number=1, name=name, description=description,
                                 criteria_narrative="Complete every module with at least 80%.",
                                 rule={"type": "activity_completed", "activity": "module-1"}, rule_hash="ab" * 32,
                                 achievement_type=achievement_type,
                                 details=RICH_DETAILS if details is None else details,
                                 validity_days=validity_days, image=image, image_type=image_type)
    db.add(version)
    db.flush()
    achievement.current_version_id = version.id
    db.flush()
    return World(platform, course, person, achievement, version)


def make_award(db: Session, *, evidence: dict[str, Any] | None = None, awarded_at: datetime = NOW,
               **world_kw: Any) -> Award:
    """An active award of a fresh world's achievement to its learner (rows built directly)."""
    world = make_world(db, **world_kw)
    award = Award(course_id=world.course.id, achievement_id=world.achievement.id, version_id=world.version.id,
                  person_id=world.person.id, evidence=DECISION if evidence is None else evidence,
                  awarded_at=awarded_at, valid_until=None)
    db.add(award)
    db.flush()
    return award


def docs_map(db: Session, issuer: Issuer, document: dict[str, Any]) -> dict[str, Any]:
    """The ob3-verify `--docs` map for `document`: our DID document, its status lists and our
    extension context."""
    did_doc = did_document(issuer.profile.did, issuer.keys)
    docs: dict[str, Any] = {issuer.profile.did: did_doc, did_document_url(issuer.profile.base_url): did_doc}
    signer, _key = current_signer(issuer.profile, issuer.keys)
    for entry in status_entries(document):
        url = entry["statusListCredential"]
        list_id = int(url.rsplit("/", 1)[1])
        docs[url] = status_list_credential(get_status_list(db, list_id), base_url=issuer.profile.base_url,
                                           signer=signer, issuer_did=issuer.profile.did)
    docs.update(served_contexts(document))
    return docs


def ob3_verify(document: dict[str, Any], docs: dict[str, Any], tmp_path: Path, *, now: datetime | None = None
               ) -> tuple[bool, str]:
    """Run the independent Node verifier; returns (verified, its one-line verdict)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    cred_file = tmp_path / f"credential-{next(_seq)}.json"
    docs_file = tmp_path / f"docs-{next(_seq)}.json"
    cred_file.write_text(json.dumps(document))
    docs_file.write_text(json.dumps(docs))
    cmd = ["node", str(OB3_VERIFY_DIR / "verify.mjs"), str(cred_file), "--docs", str(docs_file),
           "--strict", "--require-status", "-q"]
    now = now or NOW + timedelta(hours=1)
    cmd += ["--now", now.strftime("%Y-%m-%dT%H:%M:%SZ")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ob3-verify failed to run: {proc.stderr}")
    return proc.returncode == 0, line


def assert_independently_valid(db: Session, issuer: Issuer, document: dict[str, Any], tmp_path: Path,
                               *, now: datetime | None = None) -> None:
    """Invariant 3: schema-valid and VERIFIED by ob3-verify."""
    assert schema_errors(document) == []
    ok, line = ob3_verify(document, docs_map(db, issuer, document), tmp_path, now=now)
    assert ok, line
    assert line == "VERIFIED"


def later(days: int) -> datetime:
    return NOW + timedelta(days=days)
