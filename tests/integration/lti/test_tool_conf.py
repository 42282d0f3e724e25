"""The SQLAlchemy tool configuration, shared cache and nonce ledger on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lti_badger.errors import BadInput, Conflict
from lti_badger.keys import KIND_LTI, FileKeyStore
from lti_badger.lti.cache import DbCache
from lti_badger.lti.platforms import add_platform
from lti_badger.lti.tool_conf import NonceLedger, SqlToolConf
from lti_badger.models import CacheEntry
from lti_badger.models.base import utcnow


@pytest.fixture
def keys(tmp_path):
    store = FileKeyStore(tmp_path / "keys")
    store.ensure(KIND_LTI)
    return store


def _platform(db, client_id="c1", issuer="https://lms.example.edu", deployments=("d1",)):
    return add_platform(db, issuer=issuer, client_id=client_id, auth_login_url=f"{issuer}/auth",
                        auth_token_url=f"{issuer}/token", key_set_url=f"{issuer}/jwks", deployment_ids=deployments)


def test_registrations_are_keyed_by_issuer_and_client_id(db, keys):
    _platform(db, "c1")
    _platform(db, "c2", deployments=("d2",))
    conf = SqlToolConf(db, keys)
    assert conf.check_iss_has_many_clients("https://lms.example.edu")
    reg = conf.find_registration_by_params("https://lms.example.edu", "c2")
    assert reg.get_client_id() == "c2" and reg.get_auth_token_url() == "https://lms.example.edu/token"
    assert reg.get_kid() == keys.current(KIND_LTI).kid
    assert reg.get_tool_private_key().startswith("-----BEGIN PRIVATE KEY-----")
    assert conf.find_registration_by_params("https://lms.example.edu", "c3") is None
    # A login without client_id is ambiguous with two client ids on one issuer.
    assert conf.find_registration_by_issuer("https://lms.example.edu") is None
    assert conf.find_deployment_by_params("https://lms.example.edu", "d2", "c2").get_deployment_id() == "d2"
    assert conf.find_deployment_by_params("https://lms.example.edu", "d1", "c2") is None


def test_single_client_issuer_needs_no_client_id(db, keys):
    _platform(db, "only", issuer="https://moodle.example.edu")
    conf = SqlToolConf(db, keys)
    assert conf.find_registration_by_issuer("https://moodle.example.edu").get_client_id() == "only"
    assert conf.find_deployment("https://moodle.example.edu", "d1").get_deployment_id() == "d1"


def test_jwks_is_one_keys_object_with_retired_keys(db, keys):
    first = keys.current(KIND_LTI)
    second = keys.rotate(KIND_LTI)
    jwks = SqlToolConf(db, keys).get_jwks()
    assert set(jwks) == {"keys"} and isinstance(jwks["keys"], list)
    assert [k["kid"] for k in jwks["keys"]] == [first.kid, second.kid]


def test_add_platform_refuses_bad_urls_and_duplicates(db):
    _platform(db, "c1")
    with pytest.raises(Conflict):
        _platform(db, "c1")
    with pytest.raises(BadInput):
        add_platform(db, issuer="lms.example.edu", client_id="x", auth_login_url="https://a/auth",
                     auth_token_url="https://a/token", key_set_url="https://a/jwks")
    with pytest.raises(BadInput):
        add_platform(db, issuer="https://a", client_id="x", auth_login_url="ftp://a/auth",
                     auth_token_url="https://a/token", key_set_url="https://a/jwks")


def test_db_cache_expiry_and_add_once(db):
    clock = [utcnow()]
    cache = DbCache(db, now=lambda: clock[0])
    cache.set("k", {"a": 1}, 60)
    assert cache.get("k") == {"a": 1}
    cache.set("k", [2], 60)
    assert cache.get("k") == [2]
    assert cache.add("once", True, 60) is True
    assert cache.add("once", True, 60) is False
    clock[0] += timedelta(seconds=61)
    assert cache.get("k") is None
    assert cache.add("once", True, 60) is True  # expired entries may be written again
    assert cache.purge_expired() >= 1  # at least "k"
    assert db.get(CacheEntry, "k") is None and db.get(CacheEntry, "once") is not None
    cache.delete("once")
    assert cache.get("once") is None


def test_nonce_ledger_refuses_a_second_use(db):
    ledger = NonceLedger(db, DbCache(db))
    until = utcnow() + timedelta(hours=1)
    assert ledger.use("n-1", "https://lms.example.edu", until) is True
    assert ledger.use("n-1", "https://lms.example.edu", until) is False
    assert ledger.use("n-2", "https://lms.example.edu", until) is True
