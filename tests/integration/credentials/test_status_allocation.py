"""Status index allocation without a shared counter: collisions retry through the unique
constraint (no savepoint, the transaction stays usable), no award transaction writes the
status_list row, and a list is closed once a sampled count after a collision finds it full."""

from __future__ import annotations

import json
import random

from sqlalchemy import event, select

from lti_badger.credentials import issue_credential
from lti_badger.credentials import status as status_module
from lti_badger.credentials.compose import status_entries
from lti_badger.models import StatusEntry, StatusList
from tests.factories_credentials import NOW, assert_independently_valid, make_award, make_issuer


class _Scripted(random.Random):
    def __init__(self, indexes):
        super().__init__(7)
        self.indexes = list(indexes)

    def randrange(self, *args, **kwargs):
        return self.indexes.pop(0) if self.indexes else super().randrange(*args, **kwargs)


def _list_ids(db, credential):
    return {e.purpose: e.status_list_id
            for e in db.scalars(select(StatusEntry).where(StatusEntry.credential_id == credential.id))}


def test_issuing_writes_no_status_list_row(db, tmp_path):
    issuer = make_issuer(tmp_path)
    issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW)  # creates the open lists
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    bind = db.get_bind()
    event.listen(bind, "before_cursor_execute", record)
    try:
        issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([3, 3, 3, 5]))
        issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([3, 3, 5, 5, 8, 8]))
    finally:
        event.remove(bind, "before_cursor_execute", record)
    writes = [s for s in statements if s.lstrip().upper().startswith("UPDATE") and "status_list " in s + " "]
    assert writes == []
    assert not any("SAVEPOINT" in s.upper() for s in statements)


def test_a_list_found_full_after_a_collision_is_closed(db, tmp_path, monkeypatch):
    monkeypatch.setattr(status_module, "FULL_AT", 2)
    monkeypatch.setattr(status_module, "COUNT_EVERY", 1)  # count after every collision
    issuer = make_issuer(tmp_path, status_entries="two")
    first = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([1, 1]))
    second = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([2, 2]))
    assert _list_ids(db, first) == _list_ids(db, second)
    # index 1 collides -> the list is counted (2 entries = FULL_AT) and closed; the retry still
    # lands in the list it already chose (both purposes' indexes are picked before signing, the
    # retries come after)
    third = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([1, 1, 3, 3]))
    assert _list_ids(db, third) == _list_ids(db, first)
    closed = db.scalars(select(StatusList).where(StatusList.id.in_(_list_ids(db, first).values()))).all()
    assert len(closed) == 2 and all(sl.allocated >= 2 for sl in closed)  # lists other tests committed may hold more
    fourth = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW)
    assert set(_list_ids(db, fourth).values()).isdisjoint(_list_ids(db, first).values())


def test_a_collision_below_the_threshold_keeps_the_list_open(db, tmp_path, monkeypatch):
    monkeypatch.setattr(status_module, "COUNT_EVERY", 1)
    issuer = make_issuer(tmp_path)
    first = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([4, 4]))
    second = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([4, 6, 4, 6]))
    assert _list_ids(db, first) == _list_ids(db, second)
    lists = db.scalars(select(StatusList).where(StatusList.id.in_(_list_ids(db, first).values()))).all()
    assert all(sl.allocated < status_module.FULL_AT for sl in lists)


def test_an_index_taken_before_writing_is_picked_again_and_re_signed(db, tmp_path):
    issuer = make_issuer(tmp_path)
    first = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([11]))
    second = issue_credential(db, make_award(db), issuer.profile, issuer.keys, NOW, rng=_Scripted([11, 12]))
    for credential, index in ((first, 11), (second, 12)):
        stored = db.scalar(select(StatusEntry.index).where(StatusEntry.credential_id == credential.id))
        document = json.loads(credential.document)
        assert stored == index and [int(e["statusListIndex"]) for e in status_entries(document)] == [index]
    assert_independently_valid(db, issuer, json.loads(second.document), tmp_path, now=NOW)
