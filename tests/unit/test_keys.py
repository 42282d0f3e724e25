import json
import stat

import pytest

from lti_badger.keys import KIND_ISSUER, KIND_LTI, FileKeyStore


def test_ensure_creates_once_and_files_are_private(tmp_path):
    store = FileKeyStore(tmp_path / "keys")
    first = store.ensure(KIND_LTI)
    assert store.ensure(KIND_LTI) == first
    path = tmp_path / "keys" / KIND_LTI / f"{first.kid}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["kind"] == KIND_LTI


def test_rotation_keeps_retired_keys(tmp_path):
    store = FileKeyStore(tmp_path / "keys")
    old = store.ensure(KIND_ISSUER)
    new = store.rotate(KIND_ISSUER)
    assert (old.kid, new.kid) == ("key-1", "key-2")
    assert store.current(KIND_ISSUER).kid == "key-2"
    kids = {k.kid: k.is_current for k in store.all(KIND_ISSUER)}
    assert kids == {"key-1": False, "key-2": True}
    assert len(new.private) == 32


def test_public_jwk_has_no_private_members(tmp_path):
    jwk = FileKeyStore(tmp_path).ensure(KIND_LTI).public_jwk()
    assert set(jwk) == {"kty", "e", "n", "kid", "alg", "use"}
    assert (jwk["alg"], jwk["use"]) == ("RS256", "sig")


def test_missing_key_says_what_to_do(tmp_path):
    with pytest.raises(LookupError, match="lti-badger init"):
        FileKeyStore(tmp_path).current(KIND_ISSUER)
