"""The per-process cache of authenticated push sources (`progress.sources.PushSources`): an LRS's
requests read the source's row at most once per `PUSH_SOURCE_TTL_SECONDS`, and a source that is
disabled, deleted or given a new secret is refused in every process within that time."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event, update

from lti_badger.db import transaction
from lti_badger.models import ProgressEvent, ProgressSource
from lti_badger.progress.sources import PUSH_SOURCE_TTL_SECONDS, PushSources, hash_secret
from tests.functional.progress.conftest import new_source
from tests.functional.progress.test_caliper import envelope, grade_event
from tests.functional.progress.test_caliper import post as post_caliper
from tests.functional.progress.test_xapi import count, post, statement


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app) -> Clock:
    """The app's cache of push sources on a clock the test moves."""
    clock = Clock()
    app.extensions["lti_badger"].push_sources = PushSources(clock=clock)
    return clock


@pytest.fixture
def source_reads(app):
    """The statements that read a source's credential, as they are sent."""
    reads: list[str] = []

    def _seen(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().startswith("SELECT") and "progress_source.secret_hash" in statement:
            reads.append(statement)

    engine = app.extensions["lti_badger"].engine
    event.listen(engine, "before_cursor_execute", _seen)
    yield reads
    event.remove(engine, "before_cursor_execute", _seen)


def _revoke(sessions, source_id: int, how: str) -> None:
    with transaction(sessions) as s:
        if how == "disabled":
            s.execute(update(ProgressSource).where(ProgressSource.id == source_id).values(enabled=False))
        elif how == "deleted":
            s.execute(delete(ProgressSource).where(ProgressSource.id == source_id))
        else:  # a new secret: the old one is revoked
            s.execute(update(ProgressSource).where(ProgressSource.id == source_id)
                      .values(secret_hash=hash_secret("a-new-secret")))


@pytest.mark.parametrize("how", ["disabled", "deleted", "new secret"])
def test_a_revoked_xapi_key_is_refused_within_the_ttl(live, seeded, sessions, clock, how):
    src = new_source(sessions, seeded.platform_id, "xapi")
    assert post(live, src, statement()).status_code == 200
    _revoke(sessions, src.source.id, how)

    clock.now += PUSH_SOURCE_TTL_SECONDS - 0.5  # inside the window the process still trusts it
    assert post(live, src, statement()).status_code == 200
    clock.now += 0.5
    refused = post(live, src, statement())
    assert refused.status_code == 401, refused.text
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert count(sessions, ProgressEvent) == 2


def test_a_revoked_caliper_token_is_refused_within_the_ttl(live, seeded, sessions, clock):
    src = new_source(sessions, seeded.platform_id, "caliper")
    assert post_caliper(live, src.bearer_token, envelope(grade_event(1))).status_code == 200
    _revoke(sessions, src.source.id, "disabled")
    clock.now += PUSH_SOURCE_TTL_SECONDS
    assert post_caliper(live, src.bearer_token, envelope(grade_event(2))).status_code == 401


def test_the_source_is_read_once_per_ttl_and_wrong_secrets_are_never_served_from_it(live, seeded, sessions,
                                                                                  clock, source_reads):
    src = new_source(sessions, seeded.platform_id, "xapi")
    for _ in range(3):
        assert post(live, src, statement()).status_code == 200
    assert len(source_reads) == 1

    assert post(live, src, statement(), auth=(src.key, "not-the-secret")).status_code == 401
    assert len(source_reads) == 2  # checked against the database, refused, not remembered
    other = new_source(sessions, seeded.other_platform_id, "xapi")
    assert post(live, other, statement()).status_code == 400  # its own registration: course 101 is not there
    assert len(source_reads) == 3
    assert count(sessions, ProgressEvent) == 3

    clock.now += PUSH_SOURCE_TTL_SECONDS
    assert post(live, src, statement()).status_code == 200
    assert len(source_reads) == 4
