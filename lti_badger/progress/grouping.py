"""Group commit of pushed events (issue 17). An LRS or Moodle's logstore_xapi often sends one
statement per request; each would pay its own transaction, learner locks and criteria pass.
Requests of one process that arrive while another is being ingested wait and are then
ingested together: one transaction, one evaluation pass per course, one multi-row insert of
the audit and outbox rows (`db.burst`). Nothing waits on purpose: a lone request is ingested at
once, and a group is whatever queued up meanwhile.

Each request keeps its own answer. A request is answered only after the transaction holding
its events committed; if a group fails (one request's event is refused, the database went
away), every request of it is ingested again on its own, so a refused request refuses only
its own events and stores nothing, exactly as without grouping."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ..db import transaction
from .services import MAX_BATCH, ProgressEventIn, ingest


@dataclass(eq=False)
class _Request:
    platform_id: int
    events: list[ProgressEventIn]
    now: datetime
    skip_unknown_courses: bool
    answered: threading.Event = field(default_factory=threading.Event)
    group: list[_Request] | None = None  # handed over: the group to ingest, this request first
    error: BaseException | None = None

    def joins(self, first: _Request) -> bool:
        return (self.platform_id, self.skip_unknown_courses) == (first.platform_id, first.skip_unknown_courses)


class EventGroups:
    """One per process (`Services.event_groups`): at most `max_groups` groups are ingested at a
    time (one: measured with two on two CPUs, event to score was no faster and groups were
    smaller); when one ends, its thread hands the next group to the thread of the request
    heading the queue."""

    def __init__(self, sessions: sessionmaker[Session], max_events: int = MAX_BATCH, max_groups: int = 1) -> None:
        self._sessions = sessions
        self._max_events = max_events
        self._max_groups = max_groups
        self._lock = threading.Lock()
        self._queue: list[_Request] = []
        self._running = 0

    def ingest(self, platform_id: int, events: list[ProgressEventIn], now: datetime, *,
               skip_unknown_courses: bool = False) -> None:
        """Store and evaluate these events (all or nothing, as `services.ingest`) and return
        once they are committed; raises what ingesting them alone would raise."""
        request = _Request(platform_id, events, now, skip_unknown_courses)
        with self._lock:
            self._queue.append(request)
            group = self._take() if self._running < self._max_groups else None
            self._running += group is not None
        if group is None:
            request.answered.wait()
            group = request.group
        if group is not None:
            self._lead(group)
        if request.error is not None:
            raise request.error

    def _lead(self, group: list[_Request]) -> None:
        try:
            self._run(group)
        except BaseException:  # the thread is stopping: the group is not answered as stored
            for request in group:
                request.error = request.error or RuntimeError("the events were not ingested: the process is stopping")
            raise
        finally:
            with self._lock:
                following = self._take() if self._queue else None
                self._running -= following is None
            if following is not None:
                following[0].group = following
                following[0].answered.set()
            for request in group:
                request.answered.set()

    def _take(self) -> list[_Request]:
        """The head of the queue and the queued requests of the same platform after it, up to
        `max_events` events; the others keep their place."""
        first, group, rest, size = self._queue[0], [], [], 0
        for request in self._queue:
            fits = not group or size + len(request.events) <= self._max_events
            if fits and request.joins(first):
                group.append(request)
                size += len(request.events)
            else:
                rest.append(request)
        self._queue = rest
        return group

    def _run(self, group: list[_Request]) -> None:
        try:
            self._ingest(group)
        except Exception as err:  # noqa: BLE001 - answered per request below
            if len(group) == 1:
                group[0].error = err
                return
            for request in group:  # each on its own: only the faulty request is refused
                try:
                    self._ingest([request])
                except Exception as own:  # noqa: BLE001 - raised in the request's thread
                    request.error = own

    def _ingest(self, group: list[_Request]) -> None:
        with transaction(self._sessions) as session:
            ingest(session, group[0].platform_id, [e for r in group for e in r.events], max(r.now for r in group),
                   all_or_nothing=True, skip_unknown_courses=group[0].skip_unknown_courses)
