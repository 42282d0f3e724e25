"""DID Authentication: checking the signed presentation a wallet sends to prove it controls a
DID, as the VC-API (VCALM) exchange's `DIDAuthentication` query asks. The holder must be a
`did:key` with an Ed25519 key (what wallets such as the DCC Learner Credential Wallet
create), the proof's purpose `authentication`, and its challenge and domain the ones we
issued. Two proof suites are accepted: `eddsa-rdfc-2022` and the older
`Ed25519Signature2020` (the Learner Credential Wallet signs with it); they sign the same
hashes and differ in how the proof names itself.

Specs: VCALM DID Authentication https://w3c.github.io/vcalm/#did-authentication ,
did:key https://w3c-ccg.github.io/did-key-spec/ ,
Ed25519Signature2020 https://w3c-ccg.github.io/di-eddsa-2020/ ,
eddsa-rdfc-2022 https://www.w3.org/TR/vc-di-eddsa/
"""

from __future__ import annotations

from typing import Any

from ..errors import BadInput, Unauthorized
from .eddsa import CRYPTOSUITE, PROOF_TYPE, proofs_of, verify_signature
from .multibase import ed25519_public_from_multikey
from .safety import MAX_DEPTH, depth_of

LEGACY_PROOF_TYPE = "Ed25519Signature2020"
AUTHENTICATION = "authentication"
ACCEPTED_CRYPTOSUITES = (CRYPTOSUITE, LEGACY_PROOF_TYPE)
PRESENTATION_CONTEXTS = ("https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1")
DID_KEY = "did:key:"


def did_key_public_key(did: str) -> bytes:
    """The Ed25519 public key a `did:key` carries in its own identifier."""
    if not did.startswith(DID_KEY):
        raise BadInput("the holder must be a did:key")
    return ed25519_public_from_multikey(did[len(DID_KEY):])


def _holder_of(presentation: dict[str, Any]) -> str:
    holder = presentation.get("holder")
    if isinstance(holder, dict):
        holder = holder.get("id")
    if not isinstance(holder, str) or not holder:
        raise BadInput("the presentation names no holder")
    return holder


def _check_shape(presentation: Any) -> None:
    if not isinstance(presentation, dict):
        raise BadInput("verifiablePresentation must be a JSON object")
    if depth_of(presentation) > MAX_DEPTH:
        raise BadInput(f"the presentation is nested more than {MAX_DEPTH} levels deep")
    contexts = presentation.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    if first not in PRESENTATION_CONTEXTS:
        raise BadInput("the presentation's first @context must be the W3C credentials context")
    types = presentation.get("type")
    if "VerifiablePresentation" not in (types if isinstance(types, list) else [types]):
        raise BadInput("the presentation's type must include VerifiablePresentation")


def _suite_of(proof: dict[str, Any]) -> str | None:
    if proof.get("type") == PROOF_TYPE and proof.get("cryptosuite") == CRYPTOSUITE:
        return CRYPTOSUITE
    if proof.get("type") == LEGACY_PROOF_TYPE:
        return LEGACY_PROOF_TYPE
    return None


def verify_did_auth(presentation: Any, *, challenge: str, domain: str) -> str:
    """The holder DID of a valid DID Authentication presentation for our `challenge` and
    `domain`; BadInput for a malformed one, Unauthorized for one that does not prove control."""
    _check_shape(presentation)
    holder = _holder_of(presentation)
    public_key = did_key_public_key(holder)
    proofs = [p for p in proofs_of(presentation) if _suite_of(p)]
    if not proofs:
        raise BadInput("the presentation has no proof in an accepted suite (" + ", ".join(ACCEPTED_CRYPTOSUITES) + ")")
    if len(proofs) > 1:
        raise BadInput("send one authentication proof")
    proof = proofs[0]
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or method != f"{holder}#{holder[len(DID_KEY):]}":
        raise Unauthorized("the proof's verificationMethod is not the holder's did:key")
    if proof.get("proofPurpose") != AUTHENTICATION:
        raise Unauthorized("the proof's purpose must be authentication")
    if proof.get("challenge") != challenge:
        raise Unauthorized("the proof's challenge is not the one this exchange issued")
    if proof.get("domain") != domain:
        raise Unauthorized("the proof's domain is not this issuer's")
    if not verify_signature(presentation, proof, public_key):
        raise Unauthorized("the presentation's signature does not verify")
    return holder
