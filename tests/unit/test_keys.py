import json
import stat
from datetime import timedelta

import pytest

from lti_badger.keys import KIND_ISSUER, KIND_LTI, FileKeyStore


def test_ensure_creates_once_and_files_are_private(tmp_path):
    store = FileKeyStore(tmp_path / "keys")
    first = store.ensure(KIND_LTI)
    assert store.ensure(KIND_LTI) == first
    path = tmp_path / "keys" / KIND_LTI / f"{first.kid}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["kind"] == KIND_LTI


def test_rotation_keeps_superseded_keys_published(tmp_path):
    store = FileKeyStore(tmp_path / "keys")
    old = store.ensure(KIND_ISSUER)
    new = store.rotate(KIND_ISSUER)
    assert (old.kid, new.kid) == ("key-1", "key-2")
    assert store.current(KIND_ISSUER).kid == "key-2"
    kids = {k.kid: k.is_current for k in store.all(KIND_ISSUER)}
    assert kids == {"key-1": False, "key-2": True}
    assert [k.kid for k in store.published(KIND_ISSUER)] == ["key-1", "key-2"]  # no overlap given: until retired
    assert len(new.private) == 32


def test_an_overlap_ends_publication_and_retire_ends_it_now(tmp_path):
    store = FileKeyStore(tmp_path / "keys")
    first = store.ensure(KIND_LTI)
    second = store.rotate(KIND_LTI, overlap=timedelta(hours=1))
    [superseded] = [k for k in store.all(KIND_LTI) if k.kid == first.kid]
    assert superseded.retired_at - superseded.superseded_at == timedelta(hours=1)
    assert [k.kid for k in store.published(KIND_LTI)] == [first.kid, second.kid]
    assert not superseded.is_published(superseded.superseded_at + timedelta(hours=1, seconds=1))
    third = store.rotate(KIND_LTI, overlap=timedelta(0))  # an overlap that already ended
    assert [k.kid for k in store.published(KIND_LTI)] == [first.kid, third.kid]
    with pytest.raises(ValueError, match="rotate first"):
        store.retire(KIND_LTI, third.kid)
    with pytest.raises(LookupError):
        store.retire(KIND_LTI, "nope")
    assert [k.kid for k in store.retire(KIND_LTI)] == [first.kid]
    assert [k.kid for k in store.published(KIND_LTI)] == [third.kid] and store.retire(KIND_LTI) == []


def test_key_files_from_before_overlaps_read_as_superseded(tmp_path):
    """Older files said `retired_at` for a key that stopped signing: it stays published."""
    store = FileKeyStore(tmp_path / "keys")
    old = store.ensure(KIND_ISSUER)
    store.rotate(KIND_ISSUER)
    path = tmp_path / "keys" / KIND_ISSUER / f"{old.kid}.json"
    body = json.loads(path.read_text())
    body["retired_at"] = body.pop("superseded_at")
    path.write_text(json.dumps(body))
    [legacy] = [k for k in store.all(KIND_ISSUER) if k.kid == old.kid]
    assert not legacy.is_current and legacy.retired_at is None and legacy.superseded_at is not None
    assert [k.kid for k in store.published(KIND_ISSUER)] == ["key-1", "key-2"]


def test_public_jwk_has_no_private_members(tmp_path):
    jwk = FileKeyStore(tmp_path).ensure(KIND_LTI).public_jwk()
    assert set(jwk) == {"kty", "e", "n", "kid", "alg", "use"}
    assert (jwk["alg"], jwk["use"]) == ("RS256", "sig")


def test_missing_key_says_what_to_do(tmp_path):
    with pytest.raises(LookupError, match="lti-badger init"):
        FileKeyStore(tmp_path).current(KIND_ISSUER)
