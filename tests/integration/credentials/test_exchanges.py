"""The exchange service's guards against a real database: an exchange opens only for the
award's own learner and only while the credential is current, active, unrevoked, unsuspended
and unexpired; refusals store nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lti_badger.credentials import issue_credential, set_status
from lti_badger.credentials.exchanges import EXCHANGE_TTL, exchange_step, open_exchange, purge_exchanges
from lti_badger.errors import Conflict, NotFound
from lti_badger.models import Person, WalletExchange
from tests.factories_credentials import NOW, make_award, make_issuer
from tests.factories_wallet import DidKeyWallet


@pytest.fixture
def issued(db, tmp_path):
    issuer = make_issuer(tmp_path)
    award = make_award(db)
    return award, issue_credential(db, award, issuer.profile, issuer.keys, NOW), issuer


def _stored(db) -> int:
    return db.scalar(select(func.count()).select_from(WalletExchange))


def test_opens_for_the_learner_with_a_short_expiry_and_stores_only_a_hash(db, issued):
    award, credential, _issuer = issued
    opened = open_exchange(db, award.id, award.person_id, NOW)
    row = db.scalars(select(WalletExchange)).one()
    assert opened.expires_at == NOW + EXCHANGE_TTL == row.expires_at
    assert row.credential_id == credential.id and opened.secret not in (row.id, row.challenge)
    assert len(opened.secret) >= 43 and row.collected_at is None


def test_another_learner_cannot_open_one(db, issued):
    award, _credential, _issuer = issued
    other = Person(platform_id=db.get(Person, award.person_id).platform_id, sub="someone-else", name="Other")
    db.add(other)
    db.flush()
    with pytest.raises(NotFound):
        open_exchange(db, award.id, other.id, NOW)
    with pytest.raises(NotFound):
        open_exchange(db, 999_999, award.person_id, NOW)
    assert _stored(db) == 0


@pytest.mark.parametrize("purpose", ["revocation", "suspension"])
def test_a_revoked_or_suspended_credential_gets_no_exchange(db, tmp_path, purpose):
    issuer = make_issuer(tmp_path, status_entries="two")
    award = make_award(db)
    credential = issue_credential(db, award, issuer.profile, issuer.keys, NOW)
    set_status(db, credential, purpose, True)
    with pytest.raises(Conflict, match="revoked or suspended"):
        open_exchange(db, award.id, award.person_id, NOW)
    assert _stored(db) == 0


def test_an_inactive_award_or_expired_credential_gets_no_exchange(db, issued):
    award, credential, _issuer = issued
    credential.valid_until = NOW + timedelta(days=1)
    with pytest.raises(Conflict, match="expired"):
        open_exchange(db, award.id, award.person_id, NOW + timedelta(days=2))
    award.status = "suspended"
    with pytest.raises(Conflict, match="not active"):
        open_exchange(db, award.id, award.person_id, NOW)
    assert _stored(db) == 0


def test_a_credential_replaced_after_the_link_was_made_is_not_handed_out(db, issued):
    award, _credential, issuer = issued
    opened = open_exchange(db, award.id, award.person_id, NOW)
    issue_credential(db, award, issuer.profile, issuer.keys, NOW + timedelta(minutes=1))
    exchange = db.scalars(select(WalletExchange)).one()
    vp = DidKeyWallet().presentation(exchange.challenge, "badges.example.edu")
    with pytest.raises(Conflict, match="replaced"):
        exchange_step(db, opened.secret, {"verifiablePresentation": vp}, exchange_url="https://x.example/e",
                      domain="badges.example.edu", now=NOW + timedelta(minutes=2))
    assert exchange.collected_at is None


def test_exchanges_a_day_past_their_expiry_are_purged(db, issued):
    award, _credential, _issuer = issued
    open_exchange(db, award.id, award.person_id, NOW)
    open_exchange(db, award.id, award.person_id, NOW + timedelta(days=1))
    assert purge_exchanges(db, NOW + EXCHANGE_TTL + timedelta(hours=23)) == 0
    assert purge_exchanges(db, NOW + EXCHANGE_TTL + timedelta(days=1, seconds=1)) == 1
    assert _stored(db) == 1
