"""Finds the public key a proof names, and who controls it: `did:key` and `did:jwk` are
computed locally; `did:web` DID documents, HTTPS controller documents and JWKS come from a
`DocumentSource` (files, our database, or the network in online mode). A key counts only
when its controller lists it for the proof's purpose (`assertionMethod`), either by
reference or embedded.

Specs: did:key https://w3c-ccg.github.io/did-key-spec/ , did:jwk https://github.com/quartzjer/did-jwk ,
Controlled Identifiers https://www.w3.org/TR/cid-1.0/ , JWK https://www.rfc-editor.org/rfc/rfc7517
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from ..errors import BadInput
from .multibase import decode_base58btc, b58decode

ED25519_PREFIX = b"\xed\x01"
# The elliptic curves a key may be on: the multicodec prefix of its Multikey (p256-pub 0x1200,
# p384-pub 0x1201, secp256k1-pub 0xe7, varint encoded) followed by the SEC1 compressed point,
# and its JWK `crv`. secp256k1 is what EcdsaSecp256k1Signature2019 and ES256K (RFC 8812) sign with.
P256_PREFIX = b"\x80\x24"
P384_PREFIX = b"\x81\x24"
SECP256K1_PREFIX = b"\xe7\x01"
EC_CURVES = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "secp256k1": ec.SECP256K1()}
_EC_PREFIXES = {P256_PREFIX: "P-256", P384_PREFIX: "P-384", SECP256K1_PREFIX: "secp256k1"}
# The kind of key each JOSE algorithm signs with.
ALG_KEY_KIND = {"EdDSA": "Ed25519", "ES256": "P-256", "ES384": "P-384", "ES256K": "secp256k1", "RS256": "RSA",
                "PS256": "RSA"}
# ECDSA as JOSE names it: the curve of the key, the hash, and the size of r and of s.
_ECDSA = {"ES256": ("P-256", hashes.SHA256(), 32), "ES384": ("P-384", hashes.SHA384(), 48),
          "ES256K": ("secp256k1", hashes.SHA256(), 32)}


class DocumentSource(Protocol):
    """Finds a document (DID document, key document, JWKS, status list) by URL or DID, or None."""

    def get(self, url: str) -> dict[str, Any] | None: ...


class KeyProblem(Exception):
    """Why no usable key was found; `unavailable` when a document could not be had (the
    check was not made) rather than the key being wrong."""

    def __init__(self, reason: str, *, unavailable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unavailable = unavailable


@dataclass(frozen=True)
class PublicKey:
    """A verification key: Ed25519 bytes, or an EC (P-256, P-384, secp256k1) or RSA key."""

    method: str
    controller: str
    kind: str  # "Ed25519", "P-256", "P-384", "secp256k1", "RSA"
    ed25519: bytes | None = None
    other: Any = None

    def verify(self, alg: str, message: bytes, signature: bytes) -> bool:
        """A raw signature check; `alg` is the JOSE name (EdDSA, ES256, ES384, ES256K, RS256, PS256). ECDSA
        signatures are IEEE P1363 `r || s`, and the message is hashed with the alg's hash."""
        try:
            if alg == "EdDSA" and self.ed25519 is not None:
                # libsodium directly (VerifyKey does the same after its own checks, made here)
                if len(signature) != 64 or len(self.ed25519) != 32:
                    return False
                crypto_sign_open(signature + message, self.ed25519)
                return True
            if alg in _ECDSA and isinstance(self.other, ec.EllipticCurvePublicKey):
                curve, digest, size = _ECDSA[alg]
                if self.kind != curve or len(signature) != 2 * size:
                    return False
                r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
                self.other.verify(encode_dss_signature(r, s), message, ec.ECDSA(digest))
                return True
            if alg == "RS256" and isinstance(self.other, rsa.RSAPublicKey):
                self.other.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
                return True
            if alg == "PS256" and isinstance(self.other, rsa.RSAPublicKey):  # RFC 7518: salt as long as the hash
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
                self.other.verify(signature, message, pss, hashes.SHA256())
                return True
        except (BadSignatureError, InvalidSignature, ValueError):
            return False
        return False

    def supports(self, alg: str) -> bool:
        return ALG_KEY_KIND.get(alg) == self.kind


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise BadInput("invalid base64url data") from e


def _rsa_key(public: rsa.RSAPublicKey, method: str, controller: str) -> PublicKey:
    if public.key_size < 2048:
        raise KeyProblem(f"the RSA key {method} is shorter than 2048 bits")
    return PublicKey(method, controller, "RSA", other=public)


def _key_from_pem(pem: Any, method: str, controller: str) -> PublicKey:
    """An RSA key in PEM (`publicKeyPem`, as RsaVerificationKey2018 publishes it)."""
    try:
        public = serialization.load_pem_public_key(pem.encode())
    except (AttributeError, ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise KeyProblem(f"the key {method} is not a valid PEM public key") from e
    if not isinstance(public, rsa.RSAPublicKey):
        raise KeyProblem(f"the PEM key {method} is of a type this verifier does not support")
    return _rsa_key(public, method, controller)


def key_from_jwk(jwk: Any, method: str, controller: str) -> PublicKey:
    """An Ed25519 (OKP), P-256, P-384 or secp256k1 (EC) or RSA public key from a JWK; private parts are refused."""
    if not isinstance(jwk, dict):
        raise KeyProblem(f"the key {method} is not a JSON Web Key")
    if "d" in jwk:
        raise KeyProblem(f"the key {method} publishes its private part, so anyone can sign with it")
    try:
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            raw = _b64url(jwk["x"])
            if len(raw) == 32:
                return PublicKey(method, controller, "Ed25519", ed25519=raw)
        elif jwk.get("kty") == "EC" and jwk.get("crv") in EC_CURVES:
            x, y = _b64url(jwk["x"]), _b64url(jwk["y"])
            numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                                    EC_CURVES[jwk["crv"]])
            return PublicKey(method, controller, jwk["crv"], other=numbers.public_key())
        elif jwk.get("kty") == "RSA":
            n, e = int.from_bytes(_b64url(jwk["n"]), "big"), int.from_bytes(_b64url(jwk["e"]), "big")
            return _rsa_key(rsa.RSAPublicNumbers(e, n).public_key(), method, controller)
    except (KeyError, TypeError, BadInput, ValueError) as e:
        raise KeyProblem(f"the key {method} is not a valid JSON Web Key") from e
    raise KeyProblem(f"the key {method} is of a type this verifier does not support "
                     f"({jwk.get('kty')} {jwk.get('crv') or ''})".rstrip())


def _key_from_multibase(value: Any, method: str, controller: str, vm_type: str) -> PublicKey:
    try:
        raw = decode_base58btc(value)
    except BadInput as e:
        raise KeyProblem(f"the key {method} is not a valid multibase value") from e
    if len(raw) == 34 and raw[:2] == ED25519_PREFIX:
        return PublicKey(method, controller, "Ed25519", ed25519=raw[2:])
    if len(raw) == 32 and vm_type.startswith("Ed25519"):
        return PublicKey(method, controller, "Ed25519", ed25519=raw)
    curve = _EC_PREFIXES.get(raw[:2])
    if curve is not None:
        return _ec_point(curve, raw[2:], method, controller)
    raise KeyProblem(f"the key {method} is of a type this verifier does not support")


def _ec_point(curve: str, point: bytes, method: str, controller: str) -> PublicKey:
    """A key from its SEC1 point (compressed or not)."""
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(EC_CURVES[curve], point)
    except ValueError as e:
        raise KeyProblem(f"the key {method} is not a valid {curve} key") from e
    return PublicKey(method, controller, curve, other=public)


def _raw_public_key(vm: dict[str, Any], method: str) -> bytes | None:
    """The bytes of `publicKeyBase58` or `publicKeyHex` (the key formats of the 2018-2019 suites)."""
    try:
        if "publicKeyBase58" in vm:
            return b58decode(vm["publicKeyBase58"])
        if "publicKeyHex" in vm:
            return bytes.fromhex(vm["publicKeyHex"])
    except (BadInput, TypeError, ValueError) as e:
        raise KeyProblem(f"the key {method} is not valid base58 or hex") from e
    return None


def key_from_method(vm: dict[str, Any], method: str, default_controller: str) -> PublicKey:
    """The key material of a verification method object (Multikey, Ed25519VerificationKey2020
    and 2018, EcdsaSecp256k1VerificationKey2019, JsonWebKey2020 / JsonWebKey, RsaVerificationKey2018's PEM)."""
    controller = vm.get("controller") if isinstance(vm.get("controller"), str) else default_controller
    if vm.get("revoked"):
        raise KeyProblem(f"the issuer revoked the key {method} on {str(vm['revoked'])[:10]}")
    vm_type = vm.get("type") if isinstance(vm.get("type"), str) else ""
    if "publicKeyMultibase" in vm:
        return _key_from_multibase(vm["publicKeyMultibase"], method, controller, vm_type)
    if "publicKeyJwk" in vm:
        return key_from_jwk(vm["publicKeyJwk"], method, controller)
    if "publicKeyPem" in vm:
        return _key_from_pem(vm["publicKeyPem"], method, controller)
    raw = _raw_public_key(vm, method)
    if raw is not None and vm_type.startswith("Ed25519") and len(raw) == 32:
        return PublicKey(method, controller, "Ed25519", ed25519=raw)
    if raw is not None and vm_type.startswith("EcdsaSecp256k1"):
        return _ec_point("secp256k1", raw, method, controller)
    raise KeyProblem(f"the key {method} carries no public key this verifier can read")


@lru_cache(maxsize=256)  # a pure function of the DID; an issuer signs many credentials with one key
def _did_key(method: str) -> PublicKey:
    did, _, fragment = method.partition("#")
    identifier = did[len("did:key:"):]
    if fragment and fragment != identifier:
        raise KeyProblem(f"the key {method} does not exist in its did:key document")
    return _key_from_multibase(identifier, method, did, "")


@lru_cache(maxsize=256)
def _did_jwk(method: str) -> PublicKey:
    did, _, fragment = method.partition("#")
    if fragment not in ("", "0"):
        raise KeyProblem(f"the key {method} does not exist in its did:jwk document")
    try:
        jwk = json.loads(_b64url(did[len("did:jwk:"):]))
    except (BadInput, ValueError, UnicodeDecodeError) as e:
        raise KeyProblem(f"{did} does not hold a valid JSON Web Key") from e
    return key_from_jwk(jwk, method, did)


def _absolute(ref: str, base: str) -> str:
    return base + ref if ref.startswith("#") else ref


def _listed(doc: dict[str, Any], method: str, purpose: str) -> dict[str, Any] | bool:
    """The embedded method object if `doc[purpose]` embeds it, True if it references it, else False."""
    base = doc.get("id") if isinstance(doc.get("id"), str) else ""
    entries = doc.get(purpose)
    entries = entries if isinstance(entries, list) else [entries] if entries is not None else []
    for entry in entries:
        if isinstance(entry, str) and _absolute(entry, base) == method:
            return True
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and _absolute(entry["id"], base) == method:
            return entry
    return False


def _method_in(doc: dict[str, Any], method: str) -> dict[str, Any] | None:
    base = doc.get("id") if isinstance(doc.get("id"), str) else ""
    for vm in doc.get("verificationMethod") or []:
        if isinstance(vm, dict) and isinstance(vm.get("id"), str) and _absolute(vm["id"], base) == method:
            return vm
    return None


def _from_controller_document(doc: dict[str, Any], method: str, controller: str, purpose: str) -> PublicKey:
    listed = _listed(doc, method, purpose)
    if listed is False:
        raise KeyProblem(f"{controller} does not list the key {method} for signing credentials ({purpose})")
    vm = listed if isinstance(listed, dict) else _method_in(doc, method)
    if vm is None:
        raise KeyProblem(f"the key {method} is not in the document of {controller}")
    key = key_from_method(vm, method, controller)
    if key.controller != controller:
        raise KeyProblem(f"the key {method} is controlled by {key.controller}, not by {controller}")
    return key


def did_web_url(did: str) -> str:
    """Where a did:web DID document lives: https://host[:port]/path/did.json or /.well-known/did.json."""
    parts = did[len("did:web:"):].split(":")
    host = unquote(parts[0])
    path = "/".join(unquote(p) for p in parts[1:])
    return f"https://{host}/{path}/did.json" if path else f"https://{host}/.well-known/did.json"


def _document(source: DocumentSource, url: str, what: str) -> dict[str, Any]:
    doc = source.get(url)
    if doc is None:
        raise KeyProblem(f"{what} could not be retrieved", unavailable=True)
    return doc


def _from_jwks(jwks: dict[str, Any], method: str, url: str) -> PublicKey:
    """The key the fragment (or the whole URL) names by its kid; with no fragment, a set's only key."""
    _base, _, fragment = method.partition("#")
    keys = [jwk for jwk in jwks.get("keys") or [] if isinstance(jwk, dict)]
    for jwk in keys:
        if jwk.get("kid") in (method, fragment):
            return key_from_jwk(jwk, method, url)
    if not fragment and len(keys) == 1:
        return key_from_jwk(keys[0], method, url)
    raise KeyProblem(f"the key set at {url} has no key {fragment or method}")


def resolve(method: str, source: DocumentSource, purpose: str = "assertionMethod") -> PublicKey:
    """The key `method` names, checked to be listed by its controller for `purpose`."""
    if not isinstance(method, str) or not method:
        raise KeyProblem("the proof does not name its key")
    if method.startswith("did:key:"):
        return _did_key(method)
    if method.startswith("did:jwk:"):
        return _did_jwk(method)
    did_or_url = method.split("#", 1)[0]
    if method.startswith("did:web:"):
        doc = _document(source, did_or_url, f"the issuer's DID document ({did_or_url})")
        if doc.get("id") != did_or_url:
            raise KeyProblem(f"the DID document found for {did_or_url} belongs to {doc.get('id')}")
        return _from_controller_document(doc, method, did_or_url, purpose)
    if method.startswith("https://"):
        doc = _document(source, did_or_url, f"the issuer's key document ({did_or_url})")
        if isinstance(doc.get("keys"), list):
            return _from_jwks(doc, method, did_or_url)
        if "kty" in doc:  # one JWK, what OB 3.0 lets a JWT's kid name (the URL says whose it is)
            return key_from_jwk(doc, method, did_or_url)
        if doc.get("id") == method:  # a key document naming its controller
            controller = doc.get("controller")
            if not isinstance(controller, str):
                raise KeyProblem(f"the key document {method} names no controller")
            controller_doc = _document(source, controller, f"the controller document of the key ({controller})")
            if controller_doc.get("id") != controller:
                raise KeyProblem(f"the controller document at {controller} belongs to {controller_doc.get('id')}")
            if _listed(controller_doc, method, purpose) is False:
                raise KeyProblem(f"{controller} does not list the key {method} for signing credentials ({purpose})")
            return key_from_method(doc, method, controller)
        if doc.get("id") != did_or_url:
            raise KeyProblem(f"the document at {did_or_url} belongs to {doc.get('id')}")
        return _from_controller_document(doc, method, did_or_url, purpose)
    if method.startswith("did:"):
        raise KeyProblem(f"the DID method of {did_or_url} is not supported (did:key, did:web and did:jwk are)")
    raise KeyProblem(f"the key {method} is neither a DID URL nor an https URL")
