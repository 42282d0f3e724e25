"""Two issuers in two transactions pick the same status index at the same time: the unique
constraint on (status_list_id, index) makes the second one retry with another index, on
SQLite (database lock) and PostgreSQL (row lock on the index entry) alike."""

from __future__ import annotations

import random
import threading

from sqlalchemy import select

from lti_badger.credentials import issue_credential
from lti_badger.credentials.status import LIST_SIZE
from lti_badger.db import transaction
from lti_badger.models import Award, StatusEntry, StatusList
from tests.factories_credentials import NOW, make_award, make_issuer


class _Scripted(random.Random):
    def __init__(self, indexes):
        super().__init__()
        self.indexes = list(indexes)

    def randrange(self, *args, **kwargs):
        return self.indexes.pop(0) if self.indexes else super().randrange(*args, **kwargs)


def test_concurrent_issuers_never_share_an_index(clean_engine, sessionmaker_, tmp_path):
    issuer = make_issuer(tmp_path, status_entries="two")
    with transaction(sessionmaker_) as session:
        first_award, second_award = make_award(session).id, make_award(session).id
        for purpose in ("revocation", "suspension"):
            session.add(StatusList(purpose=purpose, size=LIST_SIZE, bits=bytes(LIST_SIZE // 8), allocated=0,
                                   updated_at=NOW))
    a_flushed, errors, ids = threading.Event(), [], {}

    def issuer_a():
        try:
            with transaction(sessionmaker_) as session:
                ids["a"] = issue_credential(session, session.get(Award, first_award), issuer.profile, issuer.keys,
                                            NOW, rng=_Scripted([5, 5])).id
                a_flushed.set()
                threading.Event().wait(0.5)  # hold the transaction open while B tries index 5
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
            a_flushed.set()

    def issuer_b():
        try:
            a_flushed.wait(10)
            with transaction(sessionmaker_) as session:
                ids["b"] = issue_credential(session, session.get(Award, second_award), issuer.profile, issuer.keys,
                                            NOW, rng=_Scripted([5, 5, 6, 6])).id
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=issuer_a), threading.Thread(target=issuer_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with sessionmaker_() as session:
        entries = {(e.credential_id, e.purpose): e.index for e in session.scalars(select(StatusEntry))}
    assert entries[(ids["a"], "revocation")] == 5 and entries[(ids["a"], "suspension")] == 5
    assert entries[(ids["b"], "revocation")] == 6 and entries[(ids["b"], "suspension")] == 6
