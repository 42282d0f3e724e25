"""ecdsa-sd-2023 derived proofs against the W3C vc-di-ecdsa test vectors: the windsurf race
credential (a derived proof over the VC 2.0 context alone, verified end to end), and the
employment authorisation vector of the Recommendation, whose citizenship context we do not
ship: its proof value parses to the published parts and its published verify data holds.
Changes to what it discloses fail as tampering; a base proof and malformed proof values are
refused with their reason, never an exception."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import cbor2
import pytest

from lti_badger.credentials import ecdsa_sd
from lti_badger.credentials.checks import TAMPERED, MapSource
from lti_badger.credentials.keyresolve import resolve
from lti_badger.credentials.multibase import decode_base58btc, decode_base64url, encode_base64url
from lti_badger.credentials.verify import verify_credential
from lti_badger.errors import BadInput

VECTORS = Path(__file__).resolve().parents[2] / "data" / "test-vectors" / "ecdsa-sd-2023"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def _json(name: str) -> dict:
    return json.loads((VECTORS / name).read_text())


def _key(document: dict):
    return resolve(document["proof"]["verificationMethod"], MapSource())


def _components(proof_value: str) -> list:
    return cbor2.loads(decode_base64url(proof_value)[len(ecdsa_sd.DERIVED_HEADER):])


def _with_components(document: dict, components: list) -> dict:
    changed = copy.deepcopy(document)
    changed["proof"]["proofValue"] = encode_base64url(ecdsa_sd.DERIVED_HEADER + cbor2.dumps(components))
    return changed


def _proof_check(document: dict):
    result = verify_credential(document, status_source=MapSource(), now=NOW)
    return next(c for c in result.checks if c.name == "proof")


@pytest.fixture
def windsurf() -> dict:
    return _json("windsurf/derivedRevealDocument.json")


def test_the_vectors_key_is_the_did_key_of_the_proof(windsurf):
    base_key = _json("SDKeyMaterial.json")["baseKeyPair"]["publicKeyMultibase"]
    assert windsurf["proof"]["verificationMethod"] == f"did:key:{base_key}#{base_key}"
    assert _key(windsurf).kind == "P-256"


def test_windsurf_derived_vector_verifies(windsurf):
    assert ecdsa_sd.verify_derived(windsurf, windsurf["proof"], _key(windsurf))
    derived = ecdsa_sd.parse_derived_proof_value(windsurf["proof"]["proofValue"])
    assert len(derived.label_map) == 6 and len(derived.signatures) == 6
    assert derived.mandatory_indexes == (0, 1, 2, 5, 6, 8, 9, 10, 14, 15, 16, 17, 18, 19)


def test_the_verifier_passes_its_proof_and_names_who_signed(windsurf):
    result = verify_credential(windsurf, status_source=MapSource(), now=NOW)
    checks = {c.name: c for c in result.checks}
    assert checks["proof"].state == "passed", checks["proof"].reason
    assert checks["proof"].reason == f"signed with ecdsa-sd-2023 by {windsurf['proof']['verificationMethod']}"
    # the vector's issuer is a web address its did:key signer does not belong to
    assert checks["issuer identity"].state == "failed"


@pytest.mark.parametrize("change", [
    lambda d: d["credentialSubject"].update(sailNumber="Mars101"),  # a mandatory claim
    lambda d: d["credentialSubject"]["boards"][1].update(brand="Naish"),  # a claim the holder chose to disclose
    lambda d: d["credentialSubject"]["boards"][0].update(year=2024),
    lambda d: d["credentialSubject"]["boards"].append({"boardName": "Extra", "year": 2024}),  # an added claim
    lambda d: d["credentialSubject"]["boards"].pop(),  # a disclosed claim withheld after all
    lambda d: d.update(issuer="https://vc.example/someone-else"),
    lambda d: d["proof"].update(created="2024-08-15T23:36:38Z"),  # the signed proof options
], ids=["mandatory", "disclosed", "disclosed-year", "added", "removed", "issuer", "proof-options"])
def test_changing_what_it_discloses_fails_as_tampered(windsurf, change):
    changed = copy.deepcopy(windsurf)
    change(changed)
    assert not ecdsa_sd.verify_derived(changed, changed["proof"], _key(windsurf))
    check = _proof_check(changed)
    assert (check.state, check.reason) == ("failed", TAMPERED)


@pytest.mark.parametrize("edit", [
    lambda c: c[2].pop(),  # a statement's signature dropped
    lambda c: c[2].append(c[2][0]),  # one too many
    lambda c: c[2].reverse(),  # signatures in another order
    lambda c: c[3].pop(0),  # a blank node the label map no longer names
    lambda c: c[3].update({0: c[3][1], 1: c[3][0]}),  # labels swapped
    lambda c: c[4].pop(),  # a mandatory statement counted as disclosed
    lambda c: c[4].append(20),  # an index past the last statement
    lambda c: c.__setitem__(0, bytes(64)),  # another base signature
    lambda c: c.__setitem__(1, decode_base58btc(_json("SDKeyMaterial.json")["baseKeyPair"]["publicKeyMultibase"])),
], ids=["signature-dropped", "signature-added", "signatures-reordered", "label-missing", "labels-swapped",
        "mandatory-index-dropped", "index-past-end", "base-signature", "scoped-key"])
def test_editing_the_proof_value_fails_as_tampered(windsurf, edit):
    components = _components(windsurf["proof"]["proofValue"])
    edit(components)
    changed = _with_components(windsurf, components)
    assert not ecdsa_sd.verify_derived(changed, changed["proof"], _key(windsurf))
    check = _proof_check(changed)
    assert (check.state, check.reason) == ("failed", TAMPERED)


@pytest.mark.parametrize("name", ["windsurf/addSignedSDBase.json", "employ/addSignedSDBase.json"])
def test_a_base_proof_is_refused_with_its_reason(name):
    base = _json(name)
    with pytest.raises(BadInput) as refused:
        ecdsa_sd.parse_derived_proof_value(base["proof"]["proofValue"])
    assert refused.value.message == ecdsa_sd.BASE_PROOF


def test_the_verifier_refuses_a_base_proof_in_words():
    check = _proof_check(_json("windsurf/addSignedSDBase.json"))
    assert (check.state, check.reason) == ("failed", ecdsa_sd.BASE_PROOF)


_GOOD = _components(_json("windsurf/derivedRevealDocument.json")["proof"]["proofValue"])


def _replaced(index: int, value) -> str:
    components = list(_GOOD)
    components[index] = value
    return encode_base64url(ecdsa_sd.DERIVED_HEADER + cbor2.dumps(components))


@pytest.mark.parametrize("proof_value, reason", [
    (None, "not multibase base64url"),
    ("z3uXyS5", "not multibase base64url"),
    ("u@@@", "not multibase base64url"),
    ("uA", "not multibase base64url"),
    ("u2V0B=", "not multibase base64url"),
    (encode_base64url(b"\xd9\x5d\x02" + cbor2.dumps(_GOOD)), "header of a derived proof"),
    (encode_base64url(cbor2.dumps(_GOOD)), "header of a derived proof"),
    (encode_base64url(ecdsa_sd.DERIVED_HEADER + b"\xff\x00"), "not valid CBOR"),
    (encode_base64url(ecdsa_sd.DERIVED_HEADER + cbor2.dumps(_GOOD)[:-5]), "not valid CBOR"),
    (encode_base64url(ecdsa_sd.DERIVED_HEADER + b"\x81" * 1000), "not valid CBOR"),
    (encode_base64url(ecdsa_sd.DERIVED_HEADER + cbor2.dumps(_GOOD) + b"\x00"), "bytes follow"),
    (encode_base64url(ecdsa_sd.DERIVED_HEADER + cbor2.dumps(_GOOD[:4])), "five components"),
    (encode_base64url(ecdsa_sd.DERIVED_HEADER + cbor2.dumps({"a": 1})), "five components"),
    (_replaced(0, _GOOD[0][:63]), "base signature is not 64 bytes"),
    (_replaced(0, "a" * 64), "base signature is not 64 bytes"),
    (_replaced(1, _GOOD[1] + b"\x00"), "proof-scoped key is not 35 bytes"),
    (_replaced(1, b"\xed\x01" + _GOOD[1][2:]), "not a P-256 Multikey"),
    (_replaced(1, _GOOD[1][:2] + b"\x05" + _GOOD[1][3:]), "not a point of the P-256 curve"),
    (_replaced(2, _GOOD[2][0]), "signatures are not an array"),
    (_replaced(2, [*_GOOD[2][:-1], _GOOD[2][-1][:32]]), "a statement's signature is not 64 bytes"),
    (_replaced(3, [_GOOD[3][0]]), "label map is not a map"),
    (_replaced(3, {-1: _GOOD[3][0]}), "label map is not a map"),
    (_replaced(3, {"0": _GOOD[3][0]}), "label map is not a map"),
    (_replaced(3, {0: _GOOD[3][0][:31]}), "a blank node label is not 32 bytes"),
    (_replaced(4, [0, True]), "mandatory indexes are not an array"),
    (_replaced(4, [0, -1]), "mandatory indexes are not an array"),
    (_replaced(4, {0: 1}), "mandatory indexes are not an array"),
], ids=["none", "base58", "bad-base64", "bad-length", "padded", "wrong-header", "no-header", "bad-cbor", "truncated", "too-deep",
        "trailing-bytes", "four-components", "not-an-array", "short-base-signature", "text-base-signature",
        "long-scoped-key", "ed25519-scoped-key", "scoped-key-off-curve", "signatures-not-array", "short-signature",
        "labels-not-map", "negative-label", "text-label", "short-label", "bool-index", "negative-index",
        "indexes-not-array"])
def test_a_malformed_proof_value_is_refused_in_words(windsurf, proof_value, reason):
    with pytest.raises(BadInput) as refused:
        ecdsa_sd.parse_derived_proof_value(proof_value)
    assert reason in refused.value.message
    changed = copy.deepcopy(windsurf)
    changed["proof"]["proofValue"] = proof_value
    check = _proof_check(changed)
    assert check.state == "failed" and reason in check.reason, check.reason


def test_a_key_that_is_not_p256_is_refused(windsurf):
    ed25519 = resolve("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", MapSource())
    with pytest.raises(BadInput, match="ecdsa-sd-2023 needs a P-256 key, but .* is Ed25519"):
        ecdsa_sd.verify_derived(windsurf, windsurf["proof"], ed25519)


def test_a_document_without_context_is_refused_in_words(windsurf):
    bare = {k: v for k, v in windsurf.items() if k != "@context"}
    with pytest.raises(BadInput, match="no @context"):
        ecdsa_sd.verify_derived(bare, windsurf["proof"], _key(windsurf))


def test_relabelling_touches_blank_nodes_only():
    canonical = ('_:c14n1 <http://ex.org/p> "see _:c14n0 \\"<_:c14n0>\\"\u2028" .\n'
                 '<urn:x:_:c14n0> <http://ex.org/p> _:c14n0 _:c14n1 .\n')
    labels = {"c14n0": "uB", "c14n1": "uA"}
    assert ecdsa_sd.relabelled_nquads(canonical, labels) == [
        '<urn:x:_:c14n0> <http://ex.org/p> _:uB _:uA .\n',
        '_:uA <http://ex.org/p> "see _:c14n0 \\"<_:c14n0>\\"\u2028" .\n',
    ]
    assert ecdsa_sd.relabelled_nquads(canonical, {"c14n0": "uB"}) is None


# --- the Recommendation's employment authorisation vector (its citizenship context is not shipped) ---

def test_employ_proof_value_parses_to_the_published_parts():
    document = _json("employ/derivedRevealDocument.json")
    expected = _json("employ/verifyDerivedProofValue.json")
    derived = ecdsa_sd.parse_derived_proof_value(document["proof"]["proofValue"])
    assert derived.base_signature.hex() == expected["baseSignature"]
    assert derived.public_key == decode_base58btc(expected["publicKey"])
    assert [s.hex() for s in derived.signatures] == expected["signatures"]
    assert derived.label_map == dict(expected["labelMap"])
    assert list(derived.mandatory_indexes) == expected["mandatoryIndexes"]


def test_employ_published_verify_data_holds_and_a_changed_statement_does_not():
    document = _json("employ/derivedRevealDocument.json")
    published = _json("employ/verifyCreateVerifyData.json")
    derived = ecdsa_sd.parse_derived_proof_value(document["proof"]["proofValue"])
    data = ecdsa_sd.VerifyData(bytes.fromhex(published["proofHash"]), tuple(published["nonMandatory"]),
                               bytes.fromhex(published["mandatoryHash"]))
    assert ecdsa_sd.signatures_hold(_key(document), derived, data)
    changed = data.non_mandatory[2].replace("Bahamas", "Jamaica")
    assert not ecdsa_sd.signatures_hold(_key(document), derived,
                                        ecdsa_sd.VerifyData(data.proof_hash, (*data.non_mandatory[:2], changed,
                                                                              *data.non_mandatory[3:]),
                                                            data.mandatory_hash))
    assert not ecdsa_sd.signatures_hold(_key(document), derived,
                                        ecdsa_sd.VerifyData(data.proof_hash, data.non_mandatory, bytes(32)))
