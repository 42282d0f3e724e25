"""A test wallet: a holder with a did:key (PyNaCl) that signs DID Authentication
presentations as wallets do, with Ed25519Signature2020 (the DCC Learner Credential Wallet)
or eddsa-rdfc-2022. Canonicalisation is PyLD's reference path, not the fast path that the
server verifies with."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from nacl.signing import SigningKey

from lti_badger.credentials.jsonld import canonicalize_reference
from lti_badger.credentials.multibase import ed25519_public_multikey, encode_base58btc

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


class DidKeyWallet:
    """A did:key holder; `presentation` answers a DID Authentication request."""

    def __init__(self) -> None:
        self.key = SigningKey.generate()
        self.multikey = ed25519_public_multikey(bytes(self.key.verify_key))
        self.did = f"did:key:{self.multikey}"

    def presentation(self, challenge: str, domain: str, *, suite: str = "Ed25519Signature2020",
                     key: SigningKey | None = None) -> dict:
        if suite == "Ed25519Signature2020":
            vp = {"@context": [VC_V1, ED25519_2020], "type": ["VerifiablePresentation"], "holder": self.did}
            proof = {"type": "Ed25519Signature2020"}
        else:
            vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "holder": self.did}
            proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}
        proof.update({"created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "verificationMethod": f"{self.did}#{self.multikey}", "proofPurpose": "authentication",
                      "challenge": challenge, "domain": domain})
        options = {"@context": vp["@context"], **proof}
        signed = (hashlib.sha256(canonicalize_reference(options).encode()).digest()
                  + hashlib.sha256(canonicalize_reference(vp).encode()).digest())
        proof["proofValue"] = encode_base58btc((key or self.key).sign(signed).signature)
        return {**vp, "proof": proof}
