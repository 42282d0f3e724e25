"""The fast canonicalisation path against plain PyLD on every JSON-LD document in tests/data
(verification corpus, OB 3.0 and status list examples, W3C test vectors) and on generated
credentials with odd values (language and typed value objects, lists, numbers, booleans,
unicode, marker-like text), including the shared shape walk the verifier uses for a
credential and its proof options."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lti_badger.credentials import jsonld
from lti_badger.credentials.eddsa import proof_config, proofs_of, unsecured
from lti_badger.errors import BadInput
from lti_badger.credentials.jsonld import Walk, canonicalize, canonicalize_reference

from .samples import random_credential

DATA = Path(__file__).resolve().parents[2] / "data"
FOLDERS = ("verify-corpus", "ob3-examples", "bitstring-status-list-examples", "test-vectors")


def _documents() -> list[tuple[str, dict]]:
    found = []
    for folder in FOLDERS:
        for path in sorted((DATA / folder).rglob("*.json")):
            try:
                document = json.loads(path.read_text("utf-8"))
            except ValueError:
                continue
            if isinstance(document, dict) and "@context" in document:
                found.append((str(path.relative_to(DATA)), document))
    return found


def _reference(document: dict) -> str | None:
    try:
        return canonicalize_reference(document)
    except BadInput:  # a context we do not ship, or not JSON-LD: both paths refuse it
        return None


def _assert_same(document: dict) -> None:
    """The document, its unsecured form (also via the verifier's shared walk) and every
    proof's options canonicalise exactly as PyLD does."""
    expected = _reference(document)
    if expected is None:
        with pytest.raises(BadInput):
            canonicalize(document)
        return
    assert canonicalize(document) == expected
    try:
        proofs = proofs_of(document)
    except BadInput:
        return
    plain = unsecured(document)
    walked = Walk(document).without("proof")
    assert walked == Walk(plain).key()
    assert canonicalize(plain, walked=walked) == canonicalize_reference(plain)
    for proof in proofs:
        if isinstance(document.get("@context"), (list, str)):
            config = proof_config(document, proof)
            reference = _reference(config)
            if reference is not None:
                assert canonicalize(config) == reference


CORPUS = _documents()


def test_the_corpus_is_large():
    assert len(CORPUS) >= 250


@pytest.mark.parametrize("name,document", CORPUS, ids=[name for name, _ in CORPUS])
def test_fast_path_matches_pyld_on_every_corpus_document(name, document):
    _assert_same(document)


def test_most_corpus_documents_take_the_fast_path():
    before = jsonld.fallbacks
    usable = [d for _n, d in CORPUS if _reference(d) is not None]
    for document in usable:
        canonicalize(document)
    assert jsonld.fallbacks - before < len(usable) / 10


# --- generated credentials ------------------------------------------------------------------

_UNSAFE = [chr(i) for i in range(32) if chr(i) not in "\t\n\r"] + ["\x7f"]  # PyLD 3 leaves these raw
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=_UNSAFE), max_size=30)
_iri = st.builds(lambda scheme, tail: f"{scheme}:{tail}", st.sampled_from(["https", "urn", "did", "mailto", "data"]),
                 st.text(string.ascii_letters + string.digits + "/:#?.-_~%", min_size=1, max_size=20))
_scalar = st.one_of(_text, _iri, st.integers(-10**6, 10**6), st.booleans(),
                    st.floats(allow_nan=False, allow_infinity=False, width=32), st.sampled_from(["ltibmk0z", "urn:ltibmk1z"]))
_value_object = st.one_of(
    st.builds(lambda v, lang: {"@value": v, "@language": lang}, _text, st.sampled_from(["en", "de-AT", "ja"])),
    st.builds(lambda v, t: {"@value": v, "@type": t}, _text,
              st.sampled_from(["xsd:string", "xsd:dateTime", "http://www.w3.org/2001/XMLSchema#integer"])),
    st.builds(lambda items: {"@list": items}, st.lists(_text, max_size=3)),
)
_value = st.one_of(_scalar, _value_object, st.lists(st.one_of(_scalar, _value_object), max_size=3))
# places in an OB 3.0 credential whose values hold text, IRIs or value objects
_PLACES = [("name",), ("description",), ("credentialSubject", "name"), ("credentialSubject", "achievement", "name"),
           ("credentialSubject", "achievement", "description"), ("credentialSubject", "achievement", "criteria",
                                                                 "narrative"),
           ("credentialSubject", "achievement", "tag"), ("credentialSubject", "id"), ("issuer", "url"),
           ("credentialSubject", "achievement", "criteria", "id"), ("validFrom",), ("awardedDate",)]


def _put(document: dict, path: tuple[str, ...], value) -> None:
    node = document
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            return
    node[path[-1]] = value


# no shrinking: each example costs a PyLD run (~15 ms), and a failing example is readable as generated
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(seed=st.integers(0, 10**6), changes=st.lists(st.tuples(st.sampled_from(_PLACES), _value), min_size=1,
                                                    max_size=4))
def test_fast_path_matches_pyld_on_credentials_with_odd_values(seed, changes):
    document = random_credential(random.Random(seed))
    for path, value in changes:
        _put(document, path, value)
    document["proof"] = [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                          "created": "2025-01-15T10:00:00Z", "verificationMethod": "did:key:z6Mk#z6Mk",
                          "proofPurpose": "assertionMethod", "proofValue": "z5x"}]
    _assert_same(document)


def test_a_quad_twice_is_kept_twice_as_pyld_and_jsonld_js_do():
    """Found by the test above: two empty lists give `rdf:nil` twice; PyLD and jsonld.js both
    keep both lines (so a signer using either signs both), and so must the fast path."""
    document = random_credential(random.Random(10119))
    document["validFrom"] = [{"@list": []}, {"@list": []}, 56599]
    expected = canonicalize_reference(document)
    assert expected.count("<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil> .\n") == 2
    assert canonicalize(document) == expected


# (IRI, as jsonld.js writes it in canonical N-Quads; run in tests/interop on 2026-12-07): it
# escapes what N-Quads forbids in an IRI and keeps DEL; PyLD 3 writes all four raw
JSONLD_JS_IRIS = [("https://x.example/{brace}", "https://x.example/\\u007Bbrace\\u007D"),
                  ('urn:x:"q"', "urn:x:\\u0022q\\u0022"), ("urn:x:a\\b", "urn:x:a\\u005Cb"),
                  ("https://x.example/a\x7f", "https://x.example/a\x7f")]


@pytest.mark.parametrize("value,written", JSONLD_JS_IRIS)
def test_iri_leaves_are_written_as_jsonld_js_writes_them(value, written):
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:x:1",
                "type": ["VerifiableCredential"], "credentialSubject": {"id": value}}
    assert canonicalize(document) == (
        "<urn:x:1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://www.w3.org/2018/credentials#"
        "VerifiableCredential> .\n"
        f"<urn:x:1> <https://www.w3.org/2018/credentials#credentialSubject> <{written}> .\n")
