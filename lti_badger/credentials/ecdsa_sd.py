"""Verifies `ecdsa-sd-2023` *derived* proofs: credentials a holder disclosed in part.

Why: the issuer signs an ecdsa-sd-2023 credential with a *base* proof that only its holder
can use; the holder reveals some claims and turns it into a *derived* proof, which is what a
verifier receives. 1EdTech's OB 3.0 validator accepts such credentials, and the suite is a
W3C Recommendation, so our verifier reads them too. It only verifies; it never derives.

How (Data Integrity ECDSA Cryptosuites v1.0, section "ecdsa-sd-2023", "Verify Derived Proof",
with parseDerivedProofValue, decompressLabelMap, createVerifyData,
labelReplacementCanonicalizeJsonLd and createLabelMapFunction):

1. `proofValue` is multibase base64url (`u...`): the header 0xd9 0x5d 0x01, then a CBOR array
   of the base signature (64 bytes), the proof-scoped P-256 key (Multikey bytes 0x80 0x24 and
   a 33-byte compressed point: 35 bytes, as in the spec's vectors, though its parseDerivedProofValue
   says 36), one signature per non-mandatory statement (64 bytes each),
   the compressed label map ({N: 32 bytes}, read as {"c14nN": "u" + base64url}) and the
   indexes of the mandatory statements.
2. The document without its proof is canonicalised with RDFC-1.0; each canonical blank node
   label (`_:c14nN`) is replaced by the holder's HMAC-derived label from the label map, and
   the N-Quads are sorted again. The statements at the mandatory indexes are hashed together
   (SHA-256); the others are the non-mandatory statements, in order.
3. The issuer's key verifies the base signature over
   sha256(canonical proof configuration) || proof-scoped key || mandatory hash; the
   proof-scoped key verifies each non-mandatory statement (its UTF-8 bytes) against its own
   signature. Signatures are raw r||s, ECDSA with SHA-256.

Spec: https://www.w3.org/TR/vc-di-ecdsa/#verify-derived-proof-ecdsa-sd-2023 (its functions:
https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-sd-2023-functions), CBOR: https://www.rfc-editor.org/rfc/rfc8949
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from ..errors import BadInput
from .eddsa import Canonicalizer, proof_config, unsecured
from .jsonld import canonicalize
from .keyresolve import P256_PREFIX, PublicKey
from .multibase import decode_base64url, encode_base64url

CRYPTOSUITE = "ecdsa-sd-2023"
DERIVED_HEADER = b"\xd9\x5d\x01"
BASE_HEADER = b"\xd9\x5d\x00"
BASE_PROOF = ("it carries the issuer's base proof, which only the holder uses to disclose; a verifier needs "
              "a derived proof")
_MALFORMED = f"its {CRYPTOSUITE} proof value is malformed: "

_BASE64URL_NO_PAD = re.compile(r"u[A-Za-z0-9_-]*")
# A term of a canonical N-Quad: an IRI, a literal (its escapes included) or a blank node label.
# Scanning whole terms finds the labels and never text inside an IRI or a literal.
_TERMS = re.compile(r'<[^>]*>|"(?:[^"\\]|\\.)*"|_:(c14n[0-9]+)')


@dataclass(frozen=True)
class DerivedProof:
    """The parts of a derived proof value (parseDerivedProofValue), the label map decompressed."""

    base_signature: bytes
    public_key: bytes  # the proof-scoped key, as Multikey bytes (0x80 0x24 + compressed point)
    scoped_key: PublicKey  # the same key, to verify with
    signatures: tuple[bytes, ...]
    label_map: dict[str, str]  # canonical label "c14nN" -> the holder's label "u..."
    mandatory_indexes: tuple[int, ...]


def _byte_string(value: Any, size: int, what: str) -> bytes:
    if type(value) is not bytes or len(value) != size:
        raise BadInput(_MALFORMED + f"{what} is not {size} bytes")
    return value


def _multibase_bytes(value: Any) -> bytes:
    if isinstance(value, str) and _BASE64URL_NO_PAD.fullmatch(value):
        try:
            return decode_base64url(value)
        except BadInput:  # a length base64 cannot have
            pass
    raise BadInput(_MALFORMED + "it is not multibase base64url (u...)")


def parse_derived_proof_value(value: Any) -> DerivedProof:
    """The parts of `value`; BadInput saying what is wrong when it is not a derived proof value."""
    raw = _multibase_bytes(value)
    if raw.startswith(BASE_HEADER):
        raise BadInput(BASE_PROOF)
    if not raw.startswith(DERIVED_HEADER):
        raise BadInput(_MALFORMED + "it does not start with the header of a derived proof (0xd9 0x5d 0x01)")
    body = io.BytesIO(raw[len(DERIVED_HEADER):])
    try:
        components = cbor2.CBORDecoder(body).decode()
    except cbor2.CBORDecodeError:
        raise BadInput(_MALFORMED + "it is not valid CBOR") from None
    if body.tell() != len(raw) - len(DERIVED_HEADER):
        raise BadInput(_MALFORMED + "bytes follow its CBOR value")
    if type(components) is not list or len(components) != 5:
        raise BadInput(_MALFORMED + "it is not a CBOR array of five components")
    base_signature, public_key, signatures, labels, indexes = components
    _byte_string(base_signature, 64, "the base signature")
    if _byte_string(public_key, 35, "the proof-scoped key")[:2] != P256_PREFIX:
        raise BadInput(_MALFORMED + "the proof-scoped key is not a P-256 Multikey")
    try:
        point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key[2:])
    except ValueError:
        raise BadInput(_MALFORMED + "the proof-scoped key is not a point of the P-256 curve") from None
    if type(signatures) is not list:
        raise BadInput(_MALFORMED + "its signatures are not an array")
    for signature in signatures:
        _byte_string(signature, 64, "a statement's signature")
    if type(labels) is not dict or any(type(k) is not int or k < 0 for k in labels):
        raise BadInput(_MALFORMED + "its label map is not a map of blank node numbers")
    label_map = {f"c14n{k}": encode_base64url(_byte_string(v, 32, "a blank node label")) for k, v in labels.items()}
    if type(indexes) is not list or any(type(i) is not int or i < 0 for i in indexes):
        raise BadInput(_MALFORMED + "its mandatory indexes are not an array of statement numbers")
    return DerivedProof(base_signature, public_key, PublicKey("the proof-scoped key", "", "P-256", other=point),
                        tuple(signatures), label_map, tuple(indexes))


@dataclass(frozen=True)
class VerifyData:
    """What the signatures are checked against (createVerifyData)."""

    proof_hash: bytes
    non_mandatory: tuple[str, ...]
    mandatory_hash: bytes


def relabelled_nquads(canonical: str, label_map: dict[str, str]) -> list[str] | None:
    """The canonical N-Quads (one string, each quad ending in a newline) with each blank node
    label replaced from `label_map`, sorted; None when a label is not in the map. Quads are
    split at newlines only: literals escape newlines, but not every character that
    `str.splitlines` would split at."""
    used = {m.group(1) for m in _TERMS.finditer(canonical) if m.group(1)}
    if not used <= label_map.keys():
        return None
    relabelled = _TERMS.sub(lambda m: "_:" + label_map[m.group(1)] if m.group(1) else m.group(0), canonical)
    return sorted(line + "\n" for line in relabelled.split("\n")[:-1])


def create_verify_data(document: dict[str, Any], proof: dict[str, Any], derived: DerivedProof,
                       canon: Canonicalizer = canonicalize) -> VerifyData | None:
    """None when the document does not fit the proof: a blank node the label map does not
    name, or a mandatory index past its last statement (it was changed)."""
    proof_hash = hashlib.sha256(canon(proof_config(document, proof)).encode()).digest()
    nquads = relabelled_nquads(canon(unsecured(document)), derived.label_map)
    if nquads is None or any(i >= len(nquads) for i in derived.mandatory_indexes):
        return None
    mandatory = set(derived.mandatory_indexes)
    mandatory_hash = hashlib.sha256("".join(q for i, q in enumerate(nquads) if i in mandatory).encode()).digest()
    return VerifyData(proof_hash, tuple(q for i, q in enumerate(nquads) if i not in mandatory), mandatory_hash)


def signatures_hold(issuer_key: PublicKey, derived: DerivedProof, data: VerifyData) -> bool:
    """The issuer's base signature over the proof hash, proof-scoped key and mandatory hash, and
    one signature of the proof-scoped key per non-mandatory statement."""
    if len(derived.signatures) != len(data.non_mandatory):
        return False
    return (issuer_key.verify("ES256", data.proof_hash + derived.public_key + data.mandatory_hash,
                              derived.base_signature)
            and all(derived.scoped_key.verify("ES256", statement.encode(), signature)
                    for statement, signature in zip(data.non_mandatory, derived.signatures)))


def verify_derived(document: dict[str, Any], proof: dict[str, Any], issuer_key: PublicKey,
                   canon: Canonicalizer = canonicalize) -> bool:
    """True when `proof` is a valid ecdsa-sd-2023 derived proof of `document` by `issuer_key`;
    False when a signature does not match what the document discloses. BadInput (its message
    says why) when the proof is not a derived proof that can be read, the key is not P-256, or
    the document cannot be canonicalised."""
    if not issuer_key.supports("ES256"):
        raise BadInput(f"{CRYPTOSUITE} needs a P-256 key, but {issuer_key.method} is {issuer_key.kind}")
    if "@context" not in document:  # a status list is read without the format check
        raise BadInput("it has no @context, so what its proof signs has no meaning")
    derived = parse_derived_proof_value(proof.get("proofValue"))
    data = create_verify_data(document, proof, derived, canon)
    return data is not None and signatures_hold(issuer_key, derived, data)
