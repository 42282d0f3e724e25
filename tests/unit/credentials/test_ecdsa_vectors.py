"""The W3C vc-di-ecdsa test vectors (ecdsa-rdfc-2019 and ecdsa-jcs-2019, P-256 and P-384):
canonical document and proof configuration, both hashes (SHA-256 on P-256, SHA-384 on
P-384), the hash data, the signature, and the signed credential verifying through our
verifier; one changed claim fails it as tampered. Also the P-256 / P-384 keys: Multikey and
did:key (`zDn...`, `z82...`), JWK, and ES384."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from lti_badger.credentials import jcs
from lti_badger.credentials.eddsa import hash_data
from lti_badger.credentials.jsonld import canonicalize
from lti_badger.credentials.keyresolve import EC_CURVES, KeyProblem, key_from_jwk, resolve
from lti_badger.credentials.multibase import decode_base58btc
from lti_badger.credentials.verify import TAMPERED, MapSource, verify_credential

VECTORS = Path(__file__).resolve().parents[2] / "data" / "test-vectors"
# (folder, file name stem, canonicaliser, hash, curve)
CASES = [("ecdsa-rdfc-2019/p256", "ECDSAP256", canonicalize, hashlib.sha256, "P-256"),
         ("ecdsa-rdfc-2019/p384", "ECDSAP384", canonicalize, hashlib.sha384, "P-384"),
         ("ecdsa-jcs-2019/p256", "JCSECDSAP256", jcs.canonicalize, hashlib.sha256, "P-256"),
         ("ecdsa-jcs-2019/p384", "JCSECDSAP384", jcs.canonicalize, hashlib.sha384, "P-384")]
IDS = [c[0] for c in CASES]
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
# multicodec p256-priv 0x1306 and p384-priv 0x1307, varint encoded (the vectors' secret keys)
SECRET_PREFIXES = {"P-256": b"\x86\x26", "P-384": b"\x87\x26"}


def _text(folder: str, name: str) -> str:
    return (VECTORS / folder / name).read_text()


def _json(folder: str, name: str) -> dict:
    return json.loads(_text(folder, name))


def _unsigned(folder: str) -> dict:
    return json.loads((VECTORS / folder).parent.joinpath("unsigned.json").read_text())


def _key_pair(folder: str, curve: str) -> dict:
    return _json(folder, f"{curve.replace('-', '').lower()}KeyPair.json")


@pytest.mark.parametrize("folder, stem, canon, digest, curve", CASES, ids=IDS)
def test_canonical_forms_hashes_and_hash_data(folder, stem, canon, digest, curve):
    unsigned, config = _unsigned(folder), _json(folder, f"proofConfig{stem}.json")
    assert canon(unsigned) == _text(folder, f"canonDoc{stem}.txt")
    assert canon(config) == _text(folder, f"proofCanon{stem}.txt")
    assert digest(canon(unsigned).encode()).hexdigest() == _text(folder, f"docHash{stem}.txt").strip()
    assert digest(canon(config).encode()).hexdigest() == _text(folder, f"proofHash{stem}.txt").strip()
    proof = {k: v for k, v in config.items() if k != "@context"}
    combined = hash_data(unsigned, proof, canon, digest=digest)
    assert combined.hex() == _text(folder, f"combinedHash{stem}.txt").strip()
    assert len(combined) == 2 * digest().digest_size


@pytest.mark.parametrize("folder, stem, canon, digest, curve", CASES, ids=IDS)
def test_the_signature_is_r_and_s_over_the_hash_data_with_the_curves_hash(folder, stem, canon, digest, curve):
    signed = _json(folder, f"signed{stem}.json")
    signature = decode_base58btc(signed["proof"]["proofValue"])
    assert signature.hex() == _text(folder, f"sigHex{stem}.txt").strip()
    assert signed["proof"]["proofValue"] == _text(folder, f"sigBTC58{stem}.txt").strip()
    key = resolve(signed["proof"]["verificationMethod"], MapSource())
    assert key.kind == curve and len(signature) == {"P-256": 64, "P-384": 96}[curve]
    message = bytes.fromhex(_text(folder, f"combinedHash{stem}.txt").strip())
    alg = {"P-256": "ES256", "P-384": "ES384"}[curve]
    assert key.supports(alg) and key.verify(alg, message, signature)
    assert not key.verify(alg, message[:-1] + bytes([message[-1] ^ 1]), signature)
    other = "ES384" if alg == "ES256" else "ES256"
    assert not key.supports(other) and not key.verify(other, message, signature)


@pytest.mark.parametrize("folder, stem, canon, digest, curve", CASES, ids=IDS)
def test_the_key_pairs_multikey_is_the_public_key_of_its_secret(folder, stem, canon, digest, curve):
    pair = _key_pair(folder, curve)
    secret = decode_base58btc(pair["secretKeyMultibase"])
    assert secret[:2] == SECRET_PREFIXES[curve]
    private = ec.derive_private_key(int.from_bytes(secret[2:], "big"), EC_CURVES[curve])
    did = "did:key:" + pair["publicKeyMultibase"]
    key = resolve(f"{did}#{pair['publicKeyMultibase']}", MapSource())
    compressed = serialization.PublicFormat.CompressedPoint
    assert (key.other.public_bytes(serialization.Encoding.X962, compressed)
            == private.public_key().public_bytes(serialization.Encoding.X962, compressed))
    assert key.controller == did
    # a signature we make with the vector's secret key over the vector's hash data verifies too
    message = bytes.fromhex(_text(folder, f"combinedHash{stem}.txt").strip())
    size = 32 if curve == "P-256" else 48
    r, s = decode_dss_signature(private.sign(message, ec.ECDSA(hashes.SHA256() if size == 32 else hashes.SHA384())))
    assert key.verify(f"ES{size * 8}", message, r.to_bytes(size, "big") + s.to_bytes(size, "big"))


@pytest.mark.parametrize("folder, stem, canon, digest, curve", CASES, ids=IDS)
def test_the_signed_vector_verifies_and_a_changed_claim_is_tampered(folder, stem, canon, digest, curve):
    signed = _json(folder, f"signed{stem}.json")
    result = verify_credential(signed, status_source=MapSource(), now=NOW)
    checks = {c.name: (c.state, c.reason) for c in result.checks}
    assert checks["proof"] == ("passed", f"signed with {signed['proof']['cryptosuite']} by "
                                         f"{signed['proof']['verificationMethod']}"), checks
    assert checks["issuer key"][0] == "passed" and checks["issuer key"][1].startswith(f"{curve} key did:key:")
    # the vectors' issuer (https://vc.example/issuers/5678) is not the did:key that signed
    assert checks["issuer identity"][0] == "failed"
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    result = verify_credential(tampered, status_source=MapSource(), now=NOW)
    assert result.state_of("proof") == "failed" and TAMPERED in result.verdict


def test_a_signature_of_the_wrong_length_is_said_so():
    """The P-256 vector carrying the P-384 vector's signature, and the other way round."""
    p256, p384 = _json(CASES[0][0], f"signed{CASES[0][1]}.json"), _json(CASES[1][0], f"signed{CASES[1][1]}.json")
    p256["proof"]["proofValue"], p384["proof"]["proofValue"] = p384["proof"]["proofValue"], p256["proof"]["proofValue"]
    for signed, said in ((p256, "96 bytes long, but P-256 signatures are 64"),
                         (p384, "64 bytes long, but P-384 signatures are 96")):
        result = verify_credential(signed, status_source=MapSource(), now=NOW)
        assert result.state_of("proof") == "failed"
        assert f"the proof's signature is {said} bytes long" in result.verdict


@pytest.mark.parametrize("curve", ["P-256", "P-384"])
def test_jwk_keys_on_either_curve(curve):
    private = ec.derive_private_key(123456789, EC_CURVES[curve])
    numbers, size = private.public_key().public_numbers(), 32 if curve == "P-256" else 48
    jwk = {"kty": "EC", "crv": curve, "x": _b64(numbers.x.to_bytes(size, "big")),
           "y": _b64(numbers.y.to_bytes(size, "big"))}
    key = key_from_jwk(jwk, "did:web:x#k", "did:web:x")
    assert key.kind == curve
    with pytest.raises(KeyProblem, match="not a valid JSON Web Key"):
        key_from_jwk({**jwk, "y": jwk["x"]}, "did:web:x#k", "did:web:x")  # not a point on the curve
    with pytest.raises(KeyProblem, match="type this verifier does not support"):
        key_from_jwk({**jwk, "crv": "P-521"}, "did:web:x#k", "did:web:x")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
