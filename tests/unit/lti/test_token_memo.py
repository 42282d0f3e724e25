"""The delivery sender's in-process token memo in front of the shared cache: a hit costs no
shared-cache lookup, an entry ends when the shared cache's would, and forgetting a refused
token drops it from both; and the sender's HTTP session, which reads the proxy environment once
per origin."""

from __future__ import annotations

from lti_badger.lti.advantage import AdvantageClient, TokenMemo
from lti_badger.models import Platform

SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/score"]


class CountingCache(dict):
    """A shared cache stand-in that counts reads."""

    reads = 0

    def get(self, key, default=None):
        self.reads += 1
        return super().get(key, default)

    def delete(self, key):
        self.pop(key, None)


def _client(cache, memo, now):
    platform = Platform(id=1, issuer="https://lms.example", client_id="c1",
                        auth_token_url="https://lms.example/token")
    return AdvantageClient(None, platform, keys=None, http=object(), cache=cache, memo=memo, clock=lambda: now[0])


def test_memo_answers_until_the_shared_expiry_then_asks_the_cache_again():
    now, cache, memo = [1000.0], CountingCache(), TokenMemo()
    client = _client(cache, memo, now)
    cache[client._token_key(SCOPES)] = {"access_token": "t1", "expires_at": 1100.0}
    assert [client.access_token(SCOPES) for _ in range(3)] == ["t1"] * 3
    assert cache.reads == 1
    # Another client (the next delivery) with the same memo: still no cache read.
    assert _client(cache, memo, now).access_token(SCOPES) == "t1" and cache.reads == 1
    now[0] = 1100.0
    cache[client._token_key(SCOPES)] = {"access_token": "t2", "expires_at": 1200.0}
    assert client.access_token(SCOPES) == "t2" and cache.reads == 2


def test_an_entry_without_expiry_is_not_memoised():
    now, cache, memo = [1000.0], CountingCache(), TokenMemo()
    client = _client(cache, memo, now)
    cache[client._token_key(SCOPES)] = {"access_token": "old"}  # written before the memo existed
    client.access_token(SCOPES)
    client.access_token(SCOPES)
    assert cache.reads == 2


def test_forgetting_a_refused_token_drops_memo_and_shared_entry():
    now, cache, memo = [1000.0], CountingCache(), TokenMemo()
    client = _client(cache, memo, now)
    key = client._token_key(SCOPES)
    cache[key] = {"access_token": "t1", "expires_at": 1100.0}
    client.access_token(SCOPES)
    client._forget_token(SCOPES)
    assert memo.get(key, now[0]) is None and key not in cache
