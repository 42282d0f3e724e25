"""Canonicalisation: the offline loader never touches the network, and the fast path is
byte-identical to straightforward PyLD canonicalisation for many varied documents."""

from __future__ import annotations

import json
import random
import socket
from pathlib import Path

import pytest

from lti_badger.credentials import jsonld
from lti_badger.credentials.did import did_document
from lti_badger.credentials.eddsa import proof_config
from lti_badger.credentials.jsonld import ContextNotAvailable, canonicalize, canonicalize_reference

from .samples import random_credential

SPECS = Path(__file__).resolve().parents[2] / "data"
SHIPPED = Path(jsonld.__file__).parent / "contexts"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket or resolve a name fails the test loudly."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_shipped_contexts_are_the_published_documents_byte_for_byte():
    index = json.loads((SHIPPED / "index.json").read_text())
    assert "https://www.w3.org/ns/credentials/v2" in index
    assert "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json" in index
    for name in set(index.values()) | {"index.json"}:
        assert (SHIPPED / name).read_bytes() == (SPECS / "contexts" / name).read_bytes(), name


def test_loader_serves_shipped_contexts_and_strips_fragments():
    doc = jsonld.load_document("https://www.w3.org/ns/credentials/v2#section")
    assert doc["documentUrl"] == "https://www.w3.org/ns/credentials/v2#section"
    assert "@context" in doc["document"]


def test_unknown_context_is_an_error_and_no_network_load_is_attempted(no_network):
    document = {"@context": ["https://www.w3.org/ns/credentials/v2", "https://example.org/unknown-context.jsonld"],
                "type": ["VerifiableCredential"], "issuer": "did:example:1", "credentialSubject": {"id": "did:x:1"}}
    with pytest.raises(ContextNotAvailable, match="not available offline"):
        canonicalize_reference(document)
    with pytest.raises(ContextNotAvailable):
        canonicalize(document)
    with pytest.raises(ContextNotAvailable):
        jsonld.load_document("https://example.org/unknown-context.jsonld")
    assert no_network == []


def test_our_credentials_canonicalise_with_the_network_blocked(no_network):
    document = random_credential(random.Random(7))
    assert canonicalize(document) == canonicalize_reference(document)
    assert no_network == []


@pytest.mark.parametrize("seed", range(60))
def test_fast_path_is_byte_identical_to_pyld(seed):
    rng = random.Random(seed)
    document = random_credential(rng)
    before = jsonld.fallbacks
    assert canonicalize(document) == canonicalize_reference(document)
    assert jsonld.fallbacks == before  # really the fast path
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": document["validFrom"],
             "verificationMethod": f"did:web:badges.example.edu#key-{seed}", "proofPurpose": "assertionMethod"}
    config = proof_config(document, proof)
    assert canonicalize(config) == canonicalize_reference(config)


def test_fast_path_many_documents_of_one_shape_reuse_the_template():
    rng = random.Random(1234)
    documents = [random_credential(rng) for _ in range(150)]
    for document in documents:
        assert canonicalize(document) == canonicalize_reference(document)


@pytest.mark.parametrize("folder", ["ob3-examples", "bitstring-status-list-examples"])
def test_fast_path_matches_pyld_on_official_examples(folder):
    checked = 0
    for path in sorted((SPECS / folder).glob("*.json")):
        document = json.loads(path.read_text())
        try:
            expected = canonicalize_reference(document)
        except ContextNotAvailable:
            continue  # references a context that does not exist (see specs/README.md)
        assert canonicalize(document) == expected, path.name
        checked += 1
    assert checked >= 4


def test_fast_path_on_did_documents_and_documents_with_relative_ids(tmp_path):
    from lti_badger.keys import KIND_ISSUER, FileKeyStore

    keys = FileKeyStore(tmp_path)
    keys.ensure(KIND_ISSUER)
    keys.rotate(KIND_ISSUER)
    doc = did_document("did:web:badges.example.edu%3A8443", keys)
    assert canonicalize(doc) == canonicalize_reference(doc)
    odd = random_credential(random.Random(3))
    odd["credentialSubject"]["id"] = "relative/id"  # a relative IRI is dropped, never signed
    odd["credentialSubject"]["achievement"]["criteria"]["id"] = "#frag"
    assert canonicalize(odd) == canonicalize_reference(odd)


def test_identical_blank_nodes_fall_back_to_full_canonicalisation():
    document = random_credential(random.Random(5))
    same = {"type": ["Alignment"], "targetName": "Same", "targetUrl": "https://x.example/same"}
    document["credentialSubject"]["achievement"]["alignment"] = [dict(same), dict(same)]
    before = jsonld.fallbacks
    assert canonicalize(document) == canonicalize_reference(document)
    assert jsonld.fallbacks == before + 1


def test_documents_containing_marker_like_text_are_still_exact():
    document = random_credential(random.Random(9))
    document["name"] = "urn:ltibmk3z"
    document["credentialSubject"]["achievement"]["description"] = "ltibmk0z"
    assert canonicalize(document) == canonicalize_reference(document)


def test_literals_are_escaped_as_rdfc_requires():
    assert jsonld.escape_literal('a"b\\c\nd\te\rf') == 'a\\"b\\\\c\\nd\\te\\rf'
    # jsonld.js (rdf-canonize) and RDFC-1.0 escape other C0 controls; PyLD 3 does not
    assert jsonld.escape_literal("\b\f\x01\x7f") == "\\b\\f\\u0001\\u007F"



def test_threads_compiling_and_rendering_at_once_agree_with_pyld():
    import threading

    documents = [random_credential(random.Random(1000 + i)) for i in range(24)]
    expected = [canonicalize_reference(d) for d in documents]
    jsonld._shapes.clear()
    problems: list = []

    def work(offset: int) -> None:
        for i in range(len(documents)):
            index = (i * 5 + offset) % len(documents)
            try:
                if canonicalize(documents[index]) != expected[index]:
                    problems.append(index)
            except Exception as e:  # pragma: no cover - reported by the assert
                problems.append(repr(e))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
