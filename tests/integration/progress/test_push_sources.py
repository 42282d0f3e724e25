"""A push source's "last heard from" under the per-process cache of push sources."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select

from lti_badger.models import ProgressSource
from lti_badger.progress.sources import PushSources, add_source
from tests.factories_progress import make_platform

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)


def test_heard_from_is_written_once_a_minute_per_process(db):
    platform = make_platform(db, "https://lms.example.edu")
    new = add_source(db, platform.id, "xapi", now=NOW)
    cache = PushSources(clock=lambda: 0.0)
    pushed = cache.authenticate(db, "xapi", new.key, new.secret)
    writes: list[str] = []

    def _seen(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("UPDATE progress_source"):
            writes.append(statement)

    event.listen(db.get_bind(), "before_cursor_execute", _seen)
    try:
        for seconds in (0, 30, 59, 60, 90, 120):
            cache.touch(db, pushed, NOW + timedelta(seconds=seconds))
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", _seen)
    assert len(writes) == 3  # at 0, 60 and 120 s
    last = db.scalar(select(ProgressSource.last_event_at).where(ProgressSource.id == new.source.id))
    assert last == NOW + timedelta(seconds=120)
