"""The checks of our verifier (format, proof, issuer key, issuer identity, dates, status,
schema), each passed, failed or not checked with its reason in plain words, and the result
they add up to. `verify.py` is the entry point that picks a format; `jose.py` (VC-JWT) and
`ob2.py` (OB 2.0) build on the checks here, which import neither.

Documents the checks need (DID documents, key sets, status lists) come from a
`DocumentSource`: a file bundle or our own database offline, the outbound client online
(`fetching.py`). JSON-LD contexts are never fetched (`jsonld.py`).

Specs: VC 2.0 https://www.w3.org/TR/vc-data-model-2.0/ , VC 1.1 https://www.w3.org/TR/vc-data-model/ ,
Data Integrity https://www.w3.org/TR/vc-data-integrity/ , OB 3.0 https://www.imsglobal.org/spec/ob/v3p0/
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from ..errors import BadInput
from ..jsonbody import MAX_DEPTH
from . import ecdsa_sd, jcs
from .eddsa import Digest, hash_data, proofs_of, unsecured
from .jsonld import ContextNotAvailable, TooDeep, Walk, canonicalize, safe_mode_problems, shipped_name
from .keyresolve import ALG_KEY_KIND, DocumentSource, KeyProblem, PublicKey, _b64url, did_web_url, resolve
from .multibase import decode_base58btc
from .schema import endorsement_schema_errors, schema_errors
from .statuscheck import StatusProblem, parse_moment, read_status

CLOCK_SKEW = timedelta(seconds=300)
# A status list is re-signed whenever a credential changes state, so it is often dated after
# the verifier's clock (skew, or a verification "as of" an earlier moment); only a list dated
# more than this ahead (a test list valid from the year 3000) is refused as not yet valid.
LIST_START_SLACK = timedelta(days=2)
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB3_TYPES = ("OpenBadgeCredential", "AchievementCredential", "EndorsementCredential")
OB3_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/"
PROOF_PURPOSE = "assertionMethod"

PASSED, FAILED, NOT_CHECKED, WARNING = "passed", "failed", "not checked", "warning"
CHECK_ORDER = ("format", "proof", "issuer key", "issuer identity", "dates", "status", "schema")
_RANK = {name: i for i, name in enumerate(CHECK_ORDER)}
TAMPERED = "the signature does not match: the credential was changed after it was signed"
REVOKED = "revoked by its issuer"
SUSPENDED = "suspended by its issuer"
TOO_DEEP = f"the credential is nested more than {MAX_DEPTH} levels deep"
# The reasons a reader acts on, by code, with their arguments (days as YYYY-MM-DD).
CODES = {
    "dates.valid": ("since", "until"),  # either may be empty: no start date, does not expire
    "dates.expired": ("day",),
    "dates.not_yet_valid": ("day",),
    "status.revoked": (),
    "status.suspended": (),
    "proof.tampered": (),
    "format.unknown_context": ("context",),
}


class MapSource:
    """Documents from a map `{url or DID: document}` (a `--docs` bundle); a did:web DID is
    also found under its DID document's URL."""

    def __init__(self, docs: Mapping[str, Any] | None = None) -> None:
        self.docs = dict(docs or {})

    def get(self, url: str) -> dict[str, Any] | None:
        found = self.docs.get(url)
        if found is None and url.startswith("did:web:"):
            found = self.docs.get(did_web_url(url))
        return found if isinstance(found, dict) else None


class ChainSource:
    """The first source that knows a document wins."""

    def __init__(self, *sources: DocumentSource) -> None:
        self.sources = sources

    def _first(self, url: str) -> tuple[DocumentSource | None, dict[str, Any] | None]:
        for source in self.sources:
            found = source.get(url)
            if found is not None:
                return source, found
        return None, None

    def get(self, url: str) -> dict[str, Any] | None:
        return self._first(url)[1]

    def as_of(self, url: str) -> datetime | None:
        source, _found = self._first(url)
        return _as_of(source, url) if source is not None else None

    def fetched(self) -> list[dict[str, Any]]:
        return [item for source in self.sources for item in _fetched(source)]

    def recorded_status(self, credential_id: str, issuer: str | None) -> dict[str, bool] | None:
        for source in self.sources:
            found = _recorded(source, credential_id, issuer)
            if found is not None:
                return found
        return None


def _recorded(source: Any, credential_id: Any, issuer: str | None) -> dict[str, bool] | None:
    """What the issuer's own records say beyond the status lists ({"suspension": bool, ...}),
    when the source is that issuer's database; None otherwise."""
    recorded = getattr(source, "recorded_status", None)
    return recorded(credential_id, issuer) if callable(recorded) and isinstance(credential_id, str) else None


def _as_of(source: Any, url: str) -> datetime | None:
    """When a live source (our database, the network) read a document; None for a file."""
    as_of = getattr(source, "as_of", None)
    return as_of(url) if callable(as_of) else None


def _fetched(source: Any) -> list[dict[str, Any]]:
    fetched = getattr(source, "fetched", None)
    return fetched() if callable(fetched) else []


class Check(NamedTuple):
    """One check's answer. `reason` is in English, built from values; `code` (one of `CODES`)
    and `args` say the same for a reader of another language (`web/reasons.py`), where the
    reason is one a person acts on."""

    name: str
    state: str
    reason: str
    code: str | None = None
    args: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.state != FAILED

    @property
    def message(self) -> str:
        return self.reason


@dataclass
class Verification:
    """The verdict, every check behind it, and what the credential says (for the page)."""

    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str | None = None
    credential_id: str | None = None
    issuer: str | None = None
    issuer_name: str | None = None
    achievement: str | None = None
    learner: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    status_as_of: datetime | None = None
    revoked: bool | None = None
    suspended: bool | None = None
    fetched: list[dict[str, Any]] = field(default_factory=list)
    # The EndorsementCredentials its achievement carries, each verified on its own (verify.py):
    # {"issuer_name", "issuer", "date", "verdict", "valid"}.
    endorsements: list[dict[str, Any]] = field(default_factory=list)

    def state_of(self, name: str) -> str | None:
        return next((c.state for c in self.checks if c.name == name), None)

    @property
    def valid(self) -> bool:
        return (bool(self.checks) and all(c.state != FAILED for c in self.checks)
                and self.state_of("proof") == PASSED and self.state_of("issuer key") == PASSED)

    @property
    def failures(self) -> list[str]:
        failed = [c.reason for c in self.checks if c.state == FAILED]
        if failed:
            return failed
        return [c.reason for c in self.checks if c.state == NOT_CHECKED and c.name in ("proof", "issuer key")]

    @property
    def verdict(self) -> str:
        return "VERIFIED" if self.valid else "FAILED: " + "; ".join(self.failures)

    def add(self, name: str, state: str, reason: str, code: str | None = None, **args: str) -> None:
        """Sets a check, replacing an earlier answer for it; checks stay in `CHECK_ORDER`."""
        check = Check(name, state, reason, code, args or None)
        for i, existing in enumerate(self.checks):
            if existing.name == name:
                self.checks[i] = check
                return
        rank = _RANK.get(name, len(CHECK_ORDER))
        at = len(self.checks)
        while at and _RANK.get(self.checks[at - 1].name, len(CHECK_ORDER)) > rank:
            at -= 1
        self.checks.insert(at, check)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "verdict": self.verdict,
            "kind": self.kind,
            "credential_id": self.credential_id,
            "issuer": self.issuer,
            "issuer_name": self.issuer_name,
            "achievement": self.achievement,
            "learner": self.learner,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "status_as_of": _xsd(self.status_as_of) if self.status_as_of else None,
            "revoked": self.revoked,
            "suspended": self.suspended,
            "checks": [{"name": c.name, "state": c.state, "ok": c.ok, "reason": c.reason, "code": c.code,
                        "args": c.args} for c in self.checks],
            "warnings": list(self.warnings),
            "fetched": list(self.fetched),
            "endorsements": list(self.endorsements),
        }


def _xsd(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def types_of(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def _text(value: Any) -> str | None:
    """A name that may be a string or a language map / value object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _text(value.get("@value")) or next((v for v in value.values() if isinstance(v, str)), None)
    if isinstance(value, list) and value:
        return _text(value[0])
    return None


def describe(document: dict[str, Any], result: Verification) -> None:
    """What the page shows: issuer, achievement, learner (where disclosed), dates."""
    result.credential_id = document.get("id") if isinstance(document.get("id"), str) else None
    result.issuer = issuer_id(document)
    issuer = document.get("issuer")
    result.issuer_name = _text(issuer.get("name")) if isinstance(issuer, dict) else None
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    if isinstance(subject, dict):
        achievement = subject.get("achievement")
        if isinstance(achievement, dict):
            result.achievement = _text(achievement.get("name"))
        result.learner = _text(subject.get("name"))
    result.achievement = result.achievement or _text(document.get("name"))
    for attr, keys in (("valid_from", ("validFrom", "issuanceDate")), ("valid_until", ("validUntil", "expirationDate"))):
        value = next((document[k] for k in keys if isinstance(document.get(k), str)), None)
        setattr(result, attr, value)


# --- format -----------------------------------------------------------------------------------

def _contexts(document: dict[str, Any]) -> list[Any]:
    contexts = document.get("@context")
    return contexts if isinstance(contexts, list) else [contexts] if contexts is not None else []


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")  # an absolute URL or IRI: a scheme, no white space
# Parts that VC 1.1 and 2.0 require to say their type (VC 2.0 §4.10-4.13, §5.4-5.6).
_TYPED_PARTS = ("credentialStatus", "credentialSchema", "evidence", "termsOfUse", "refreshService")


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _not_url(value: Any) -> bool:
    return not (isinstance(value, str) and _URL.match(value))


def structure_problem(document: dict[str, Any]) -> str | None:
    """The first of the data model's MUSTs the credential breaks (ids are URLs, subjects say
    something, typed parts have a type, a schema has an id), in words; None when it keeps them."""
    if "id" in document and _not_url(document["id"]):
        return f"the credential's id ({str(document['id'])[:60]}) is not a URL"
    if _not_url(issuer_id(document)):
        return f"the issuer's id ({str(issuer_id(document))[:60]}) is not a URL"
    subjects = document.get("credentialSubject")
    if not isinstance(subjects, (dict, list)) or not subjects:
        return "the credential has no credentialSubject"
    for subject in _items(subjects):
        if not isinstance(subject, dict) or not subject:
            return "one of its credentialSubject entries is empty: it says nothing about anyone"
        if "id" in subject and _not_url(subject["id"]):
            return f"the subject's id ({str(subject['id'])[:60]}) is not a URL"
    for part in _TYPED_PARTS:
        for item in _items(document.get(part, [])):
            if not isinstance(item, dict) or "type" not in item:
                return f"its {part} does not say its type"
            if "id" in item and _not_url(item["id"]):
                return f"the id of its {part} ({str(item['id'])[:60]}) is not a URL"
            if part == "credentialSchema" and "id" not in item:
                return "its credentialSchema does not say where the schema is (no id)"
    return None


def _is_ob3_context(url: str) -> bool:
    """Whether we read `url` as an OB 3.0 context (JFF plugfest 1's context is its beta)."""
    return (shipped_name(url) or "").startswith("ob-v3p0-context")


def check_format(document: dict[str, Any], result: Verification, *, rdf_signed: bool = True,
                 walk: Walk | None = None) -> str | None:
    """The data model ("1.1" or "2.0"), or None when the document is not a credential we can read.
    Terms its contexts leave undefined fail a Data Integrity credential (canonicalisation drops
    them, so its signature does not cover them) and are only a warning under a JOSE signature,
    which covers the bytes (`rdf_signed=False`)."""
    contexts = _contexts(document)
    first = contexts[0] if contexts else None
    model = {VC_V1: "1.1", VC_V2: "2.0"}.get(first) if isinstance(first, str) else None
    if model is None:
        result.add("format", FAILED, "not a W3C verifiable credential: its first @context is "
                                     f"{first!r}, not the VC 2.0 or VC 1.1 context")
        return None
    for context in contexts:
        if isinstance(context, str) and shipped_name(context.split("#", 1)[0]) is None:
            result.add("format", FAILED, f"it uses the JSON-LD context {context}, which this verifier does not "
                                         "know (contexts are never fetched, so unknown ones are refused)",
                       "format.unknown_context", context=context)
            return None
        if not isinstance(context, (str, dict)):
            result.add("format", FAILED, "its @context holds something that is neither a URL nor an object")
            return None
    types = types_of(document.get("type"))
    if "VerifiableCredential" not in types:
        result.add("format", FAILED, "not a verifiable credential: its type does not include VerifiableCredential")
        return None
    if issuer_id(document) is None:
        result.add("format", FAILED, "the credential does not name its issuer")
        return None
    problem = structure_problem(document)
    if problem:
        result.add("format", FAILED, problem)
        return None
    if model == "1.1" and "issuanceDate" not in document:
        result.add("format", FAILED, "a VC 1.1 credential must have an issuanceDate")
        return None
    ob3 = any(isinstance(c, str) and (c.startswith(OB3_CONTEXT_PREFIX) or _is_ob3_context(c)) for c in contexts)
    if ob3 and any(t in types for t in OB3_TYPES):
        result.kind = f"Open Badges 3.0 (VC {model})"
    elif "ClrCredential" in types:
        result.kind = f"CLR 2.0 (VC {model})"
    else:
        result.kind = f"verifiable credential (VC {model})"
    try:
        problems = safe_mode_problems(document, walked=walk.key() if walk is not None else None)
    except BadInput as e:  # e.g. an id that is a list: JSON-LD cannot read it at all
        reason = e.message.split("\n", 1)[0].removeprefix("document is not valid JSON-LD: ")
        result.add("format", FAILED, "it is not valid JSON-LD: " + reason)
        return None
    if problems and rdf_signed:
        result.add("format", FAILED, "part of it has no meaning under its contexts, so the signature could not "
                                     "cover it: " + "; ".join(problems[:3]))
        return None
    if problems:
        result.warnings.append("part of it has no meaning under its contexts: " + "; ".join(problems[:3]))
    result.add("format", PASSED, f"{result.kind}")
    return model


# --- proofs -----------------------------------------------------------------------------------

_ED25519, _NIST = ("Ed25519",), ("P-256", "P-384")
# The suites this verifier checks, by (proof type, cryptosuite): how the document and proof
# configuration are canonicalised, and the kinds of key the suite signs with. They share the
# hash data (`eddsa.hash_data`) and differ in canonical form, hash and signature algorithm.
# vc-di-eddsa https://www.w3.org/TR/vc-di-eddsa/ , vc-di-ecdsa https://www.w3.org/TR/vc-di-ecdsa/
_SUITES = {("DataIntegrityProof", "eddsa-rdfc-2022"): (canonicalize, _ED25519),
           # its name until 2023 (Digital Bazaar's eddsa-2022-cryptosuite, wallets of that year): same algorithm
           ("DataIntegrityProof", "eddsa-2022"): (canonicalize, _ED25519),
           ("DataIntegrityProof", "eddsa-jcs-2022"): (jcs.canonicalize, _ED25519),
           ("DataIntegrityProof", "ecdsa-rdfc-2019"): (canonicalize, _NIST),
           ("DataIntegrityProof", "ecdsa-jcs-2019"): (jcs.canonicalize, _NIST),
           ("DataIntegrityProof", ecdsa_sd.CRYPTOSUITE): (canonicalize, ("P-256",)),
           ("Ed25519Signature2020", None): (canonicalize, _ED25519),
           ("Ed25519Signature2018", None): (canonicalize, _ED25519),
           ("RsaSignature2018", None): (canonicalize, ("RSA",)),
           ("EcdsaSecp256k1Signature2019", None): (canonicalize, ("secp256k1",)),
           ("JsonWebSignature2020", None): (canonicalize, ("Ed25519", *_NIST, "secp256k1", "RSA"))}
# Per kind of key: the signature algorithm (JOSE name), the hash of the hash data (SHA-384 on
# P-384, https://www.w3.org/TR/vc-di-ecdsa/#hashing-ecdsa-rdfc-2019, SHA-256 otherwise) and the
# signature's length in bytes (ECDSA: r || s, IEEE P1363).
_SIGNING = {"Ed25519": ("EdDSA", hashlib.sha256, 64), "P-256": ("ES256", hashlib.sha256, 64),
            "P-384": ("ES384", hashlib.sha384, 96)}
# The Linked Data Signatures suites of VC 1.1 wallets (JFF plugfests, 2022-2023) sign the same
# two SHA-256 hashes in a detached JWS with an unencoded payload (RFC 7797), with these algorithms.
_JWS_SUITES = {"Ed25519Signature2018": ("EdDSA",),
               "RsaSignature2018": ("PS256",),
               "EcdsaSecp256k1Signature2019": ("ES256K",),
               "JsonWebSignature2020": ("EdDSA", "ES256", "ES384", "ES256K", "PS256")}
SUPPORTED_SUITES = ("eddsa-rdfc-2022 (and its former name eddsa-2022), eddsa-jcs-2022, ecdsa-rdfc-2019, "
                    "ecdsa-jcs-2019, derived ecdsa-sd-2023 proofs, Ed25519Signature2020, Ed25519Signature2018, "
                    "EcdsaSecp256k1Signature2019, JsonWebSignature2020, RsaSignature2018 and VC-JWT")
SELECTIVE_DISCLOSURE_SUITES = ("bbs-2023",)


@dataclass
class _ProofOutcome:
    proof: tuple[str, str]
    key: tuple[str, str] | None = None
    identity: tuple[str, str] | None = None


def _suite_name(proof: dict[str, Any]) -> str:
    name = proof.get("cryptosuite") or proof.get("type")
    return name if isinstance(name, str) else "an unnamed proof"


def _unsupported(proof: dict[str, Any]) -> str:
    name = _suite_name(proof)
    if name in SELECTIVE_DISCLOSURE_SUITES:
        return (f"it is signed with {name}, which this verifier does not support: selective disclosure proofs "
                f"({' and '.join(SELECTIVE_DISCLOSURE_SUITES)}) are not verified; {SUPPORTED_SUITES} are")
    return f"it is signed with {name}, which this verifier does not support ({SUPPORTED_SUITES} are)"


def _jcs_hash_data(document: dict[str, Any], proof: dict[str, Any], digest: Digest) -> bytes:
    """The hash data of a JCS proof with its options as they are (vc-di-eddsa and vc-di-ecdsa,
    jcs "Verify Proof"): where the proof carries an @context, the document is hashed with that
    @context (a prefix of its own, checked before), so contexts added after signing do not
    break the proof. Where it carries none (as Digital Bazaar's eddsa-jcs-2022 cryptosuite 1.0
    signs), the options are hashed without one: JCS gives @context no meaning, and the
    document hash covers the document, @context included."""
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" in proof:
        unsecured["@context"] = proof["@context"]
    return digest(jcs.canonicalize(options).encode()).digest() + digest(jcs.canonicalize(unsecured).encode()).digest()


def _foreign_context(document: dict[str, Any], proof: dict[str, Any]) -> bool:
    """A Data Integrity proof's own @context must be where the document's begins, in order
    (vc-data-integrity "Verify Proof"): otherwise the proof was made for another document."""
    if "@context" not in proof:
        return False
    own = _contexts(proof)
    return not own or _contexts(document)[:len(own)] != own


def controller_matches(key: PublicKey, issuer: str | None) -> bool:
    return issuer is not None and key.controller == issuer


def identity_check(key: PublicKey, issuer: str | None) -> tuple[str, str]:
    """Whether the signing key belongs to the issuer. An issuer named by a DID or a web
    address that another key signed for is an impostor; an issuer id that names no one who
    could hold a key (a `urn:uuid:`, as 1EdTech's samples use) ties to nothing, so the link
    is not checked and the signer is named instead."""
    if controller_matches(key, issuer):
        return PASSED, f"the key belongs to the issuer {issuer}"
    if issuer is not None and not issuer.startswith(("did:", "https:", "http:")):
        return NOT_CHECKED, (f"the issuer's id {issuer} is not a DID or a web address, so nothing ties it to "
                             f"a key; the credential was signed by {key.controller}")
    return FAILED, f"the credential was signed by {key.controller}, not by its issuer {issuer}"


def _detached_jws(proof: dict[str, Any]) -> tuple[str, bytes, bytes]:
    """(alg, what precedes the payload in the signing input, signature) of the proof's `jws`:
    `header..signature`, the payload left out and signed unencoded (`b64: false`)."""
    jws = proof.get("jws")
    parts = jws.split(".") if isinstance(jws, str) else []
    if len(parts) != 3 or parts[1]:
        raise BadInput("the proof's jws is not a detached JSON Web Signature (header..signature)")
    try:
        header = json.loads(_b64url(parts[0]))
        signature = _b64url(parts[2])
    except (BadInput, ValueError, UnicodeDecodeError) as e:
        raise BadInput("the proof's jws is not a valid JSON Web Signature") from e
    if not isinstance(header, dict) or header.get("b64") is not False or "b64" not in (header.get("crit") or []):
        raise BadInput("the proof's jws does not sign its payload unencoded (b64: false), as the suite requires")
    return header.get("alg"), parts[0].encode() + b".", signature


def _signature(proof: dict[str, Any], suite_type: str, kind: str) -> tuple[str, Digest, bytes, bytes]:
    """(JOSE algorithm, hash of the hash data, signing-input prefix, signature) of a proof by a
    key of `kind`; BadInput says in words what is wrong with the signature value."""
    if suite_type in _JWS_SUITES:
        alg, prefix, signature = _detached_jws(proof)
        if alg not in _JWS_SUITES[suite_type]:
            raise BadInput(f"its {suite_type} signature names the algorithm {str(alg)[:20]!r}, which that suite "
                           "does not use")
        return alg, hashlib.sha256, prefix, signature
    alg, digest, size = _SIGNING[kind]
    try:
        signature = decode_base58btc(proof.get("proofValue", ""))
    except BadInput:
        raise BadInput("the proof's signature value is not valid base58") from None
    if len(signature) != size:
        raise BadInput(f"the proof's signature is {len(signature)} bytes long, but {kind} signatures are {size} "
                       "bytes long")
    return alg, digest, b"", signature


def _check_one_proof(document: dict[str, Any], proof: dict[str, Any], issuer: str | None, source: DocumentSource,
                     now: datetime, walk: Walk | None = None) -> _ProofOutcome:
    suite = (proof.get("type"), proof.get("cryptosuite") if proof.get("type") == "DataIntegrityProof" else None)
    found = _SUITES.get(suite) if all(isinstance(part, (str, type(None))) for part in suite) else None
    if found is None:
        return _ProofOutcome((FAILED, _unsupported(proof)))
    canon, kinds = found
    if suite[0] == "DataIntegrityProof" and _foreign_context(document, proof):
        return _ProofOutcome((FAILED, "the proof's @context is not where the credential's @context begins, so "
                                      "the proof was not made for this credential"))
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        return _ProofOutcome((FAILED, f"the proof's purpose is {proof.get('proofPurpose')!r}, not "
                                      "assertionMethod, so it does not assert the credential"))
    expires = parse_moment(proof.get("expires"))
    if expires is not None and expires + CLOCK_SKEW < now:
        return _ProofOutcome((FAILED, f"the proof expired on {_day(expires)}"))
    try:
        key = resolve(proof.get("verificationMethod"), source)
    except KeyProblem as e:
        state = NOT_CHECKED if e.unavailable else FAILED
        return _ProofOutcome((NOT_CHECKED, "the signature was not checked: the issuer's key is unknown"),
                             key=(state, e.reason))
    key_check = (PASSED, f"{key.kind} key {key.method}")
    identity = identity_check(key, issuer)
    if key.kind not in kinds:
        return _ProofOutcome((FAILED, f"{_suite_name(proof)} works with {' or '.join(kinds)} keys only, but "
                                      f"{key.method} is {key.kind}"), key=key_check, identity=identity)
    if suite[1] == ecdsa_sd.CRYPTOSUITE:
        try:
            verified = ecdsa_sd.verify_derived(document, proof, key, canon)
        except BadInput as e:
            return _ProofOutcome((FAILED, e.message), key_check, identity)
        return _ProofOutcome((PASSED, f"signed with {_suite_name(proof)} by {key.method}") if verified
                             else (FAILED, TAMPERED), key_check, identity)
    try:
        alg, digest, prefix, signature = _signature(proof, suite[0], key.kind)
    except BadInput as e:
        return _ProofOutcome((FAILED, e.message), key_check, identity)
    if not key.supports(alg):
        needed = ALG_KEY_KIND.get(alg)
        article = "an" if needed and needed[0] in "ER" else "a"  # an Ed25519, an RSA, a P-256
        reason = (f"{_suite_name(proof)} signed with {alg} needs {article} {needed} key, but {key.method} is "
                  f"{key.kind}" if needed else f"it is signed with {alg}, which this verifier does not support")
        return _ProofOutcome((FAILED, reason), key=key_check, identity=identity)
    signature_field = "jws" if suite[0] in _JWS_SUITES else "proofValue"
    try:
        canonical = (canonicalize(unsecured(document), walked=walk.without("proof"))
                     if walk is not None and canon is canonicalize else None)
        messages = [] if canon is jcs.canonicalize else [prefix + hash_data(
            document, proof, canon, canonical_document=canonical, digest=digest, signature_field=signature_field)]
        if canon is jcs.canonicalize:
            messages.append(_jcs_hash_data(document, proof, digest))
            if "@context" not in proof:  # also signed with the document's @context added, as `hash_data` adds it
                messages.append(hash_data(document, proof, canon, digest=digest))
    except ContextNotAvailable as e:
        return _ProofOutcome((FAILED, e.message), key_check, identity)
    except (BadInput, KeyError, TypeError) as e:
        return _ProofOutcome((FAILED, f"the credential could not be processed for its signature: {e}"), key_check,
                             identity)
    if not any(key.verify(alg, m, signature) for m in messages):
        return _ProofOutcome((FAILED, TAMPERED), key_check, identity)
    return _ProofOutcome((PASSED, f"signed with {_suite_name(proof)} by {key.method}"), key_check, identity)


def _worst(outcomes: list[tuple[str, str]]) -> tuple[str, str]:
    for state in (FAILED, NOT_CHECKED):
        found = [reason for s, reason in outcomes if s == state]
        if found:
            return state, "; ".join(dict.fromkeys(found))
    return PASSED, "; ".join(dict.fromkeys(reason for _s, reason in outcomes))


def check_proofs(document: dict[str, Any], source: DocumentSource, now: datetime, result: Verification, *,
                 walk: Walk | None = None) -> None:
    """Every proof must hold (a proof set); adds the proof, issuer key and identity checks.
    `walk`: the document's shape walk, when the caller made one for safe mode."""
    issuer = issuer_id(document)
    try:
        proofs = proofs_of(document)
    except BadInput as e:
        result.add("proof", FAILED, e.message)
        return
    if not proofs:
        result.add("proof", FAILED, "the credential carries no proof: it is not signed")
        return
    outcomes = [_check_one_proof(document, proof, issuer, source, now, walk) for proof in proofs]
    state, reason = _worst([o.proof for o in outcomes])
    result.add("proof", state, reason, "proof.tampered" if reason == TAMPERED else None)
    keys = [o.key for o in outcomes if o.key]
    identities = [o.identity for o in outcomes if o.identity]
    result.add("issuer key", *(_worst(keys) if keys else (NOT_CHECKED, "no key was looked up")))
    result.add("issuer identity", *(_worst(identities) if identities else
                                    (NOT_CHECKED, "the key's controller is unknown")))
    if identities and result.state_of("issuer identity") == NOT_CHECKED:
        result.warnings.append(result.checks[[c.name for c in result.checks].index("issuer identity")].reason)


# --- dates ------------------------------------------------------------------------------------

class _Period(NamedTuple):
    """A validity period as read from a document: its start, its end, what could not be read."""

    start: datetime | None
    end: datetime | None
    problems: tuple[str, ...]


def _period(document: dict[str, Any], model: str) -> _Period:
    start_key, end_key = ("validFrom", "validUntil") if model == "2.0" else ("issuanceDate", "expirationDate")
    if model == "2.0" and "validFrom" not in document and "issuanceDate" in document:
        start_key = "issuanceDate"
    problems: list[str] = []
    moments: dict[str, datetime | None] = {}
    for key in (start_key, end_key):
        if key in document:
            moments[key] = parse_moment(document[key])
            if moments[key] is None:
                problems.append(f"its {key} ({str(document[key])[:40]}) is not a valid date and time")
    return _Period(moments.get(start_key), moments.get(end_key), tuple(problems))


def _period_problem(period: _Period, now: datetime, what: str, start_slack: timedelta
                    ) -> tuple[str, str | None, dict[str, str]] | None:
    """(reason, code, its arguments) when the period does not hold at `now`."""
    start, end = period.start, period.end
    if period.problems:
        return "; ".join(period.problems), None, {}
    if end is not None and end + CLOCK_SKEW < now:
        return f"{what} expired on {_day(end)}", "dates.expired", {"day": _day(end)}
    if start is not None and start - start_slack > now:
        return f"{what} is not valid until {_day(start)}", "dates.not_yet_valid", {"day": _day(start)}
    if end is not None and start is not None and end < start:
        return f"{what} ends ({_day(end)}) before it starts ({_day(start)})", None, {}
    return None


def check_dates(document: dict[str, Any], model: str, now: datetime, result: Verification, *,
                what: str = "the credential") -> None:
    """Its validity period, with `CLOCK_SKEW` of slack."""
    period = _period(document, model)
    problem = _period_problem(period, now, what, CLOCK_SKEW)
    if problem:
        reason, code, args = problem
        result.add("dates", FAILED, reason, code, **args)
        return
    since, until = (_day(period.start) if period.start else ""), (_day(period.end) if period.end else "")
    result.add("dates", PASSED, f"{'valid since ' + since if since else 'no start date'}, "
                                f"{'valid until ' + until if until else 'does not expire'}",
               "dates.valid", since=since, until=until)


# --- status -----------------------------------------------------------------------------------

# (the list and its key documents, the list's signature problem, its validity period)
_LIST_CACHE: dict[tuple[int, ...], tuple[tuple[Any, ...], tuple[str, str] | None, _Period]] = {}
_LIST_CACHE_MAX = 64


def _key_documents(listing: dict[str, Any], source: DocumentSource) -> list[Any]:
    """The documents a list's keys come from: part of what a cached verdict depends on."""
    try:
        proofs = proofs_of(listing)
    except BadInput:
        return []
    methods = [p.get("verificationMethod") for p in proofs]
    return [source.get(m.split("#", 1)[0]) for m in methods
            if isinstance(m, str) and not m.startswith(("did:key:", "did:jwk:"))]


def _list_verifier(issuer: str | None, source: DocumentSource, now: datetime, warnings: list[str]):
    """Verifies a status list credential (proof, key, validity period) before anything is read
    from it. Thousands of credentials share one list: its signature is checked once per list
    document and key documents (the same objects from the source, held by the cache so their
    identity stands for their content); its validity period is read once and compared
    with the moment every time."""

    def verify_list(listing: dict[str, Any], purpose: str) -> None:
        documents = (listing, *_key_documents(listing, source))
        key = tuple(map(id, documents))
        cached = _LIST_CACHE.get(key)
        if cached is None or any(a is not b for a, b in zip(cached[0], documents)):
            cached = documents, _list_signature_problem(listing, source, now), _list_period(listing)
            if len(_LIST_CACHE) >= _LIST_CACHE_MAX:
                _LIST_CACHE.clear()
            if not any("expires" in p for p in _proof_dicts(listing)):  # a proof's own expiry depends on now
                _LIST_CACHE[key] = cached
        problem = cached[1] or _list_dates_problem(cached[2], now)
        if problem:
            state, reason = problem
            raise StatusProblem(f"its {purpose} status list cannot be trusted: {reason}",
                                unavailable=state == NOT_CHECKED)
        if issuer_id(listing) != issuer:
            warnings.append(f"its {purpose} status list was issued by {issuer_id(listing)}, not by the "
                            "credential's issuer")

    return verify_list


def _proof_dicts(listing: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        return [p for p in proofs_of(listing) if isinstance(p, dict)]
    except BadInput:
        return []


def _first_problem(inner: Verification, names: tuple[str, ...]) -> tuple[str, str] | None:
    """(state, reason) of the first of these checks that did not pass, or None."""
    for name in names:
        found = next((c for c in inner.checks if c.name == name), None)
        if found is None or found.state != PASSED:
            return (found.state, found.reason) if found else (FAILED, "it is not signed")
    return None


def _list_signature_problem(listing: dict[str, Any], source: DocumentSource, now: datetime) -> tuple[str, str] | None:
    inner = Verification()
    check_proofs(listing, source, now, inner)
    return _first_problem(inner, ("issuer key", "proof", "issuer identity"))


def _list_period(listing: dict[str, Any]) -> _Period:
    contexts = _contexts(listing)
    return _period(listing, {VC_V1: "1.1"}.get(contexts[0] if contexts and isinstance(contexts[0], str) else "", "2.0"))


def _list_dates_problem(period: _Period, now: datetime) -> tuple[str, str] | None:
    problem = _period_problem(period, now, "the status list", LIST_START_SLACK)
    return (FAILED, problem[0]) if problem else None


def check_status(document: dict[str, Any], source: DocumentSource, now: datetime, result: Verification) -> None:
    """The status entries, then what the issuer's own records add: a credential issued with
    one (revocation) entry is suspended in our database only, and our verifier says so."""
    issuer = issuer_id(document)
    _check_status_entries(document, source, now, result)
    recorded = _recorded(source, document.get("id"), issuer)
    if recorded is None or result.suspended is not None or result.revoked:
        return
    result.suspended = bool(recorded.get("suspension"))
    reason = next((c.reason for c in result.checks if c.name == "status"), "")
    if result.suspended:
        said = SUSPENDED + " (recorded by the issuer; other verifiers only see its revocation entry)"
        result.add("status", FAILED, said if result.state_of("status") != FAILED else f"{said}; {reason}",
                   "status.suspended")
    elif result.state_of("status") == PASSED:
        when = f" as of {_xsd(result.status_as_of)}" if result.status_as_of else ""
        result.add("status", PASSED, f"{reason}, not suspended{when} (recorded by the issuer)")


def _check_status_entries(document: dict[str, Any], source: DocumentSource, now: datetime,
                          result: Verification) -> None:
    issuer = issuer_id(document)
    try:
        reading = read_status(document, source, _list_verifier(issuer, source, now, result.warnings), issuer)
    except StatusProblem as e:
        if e.unavailable:
            result.add("status", NOT_CHECKED, f"not checked: {e.reason}")
            result.warnings.append(f"whether the issuer revoked it could not be checked: {e.reason}")
        else:
            result.add("status", FAILED, e.reason)
        return
    if reading is None:
        result.add("status", PASSED, "it carries no status information (its issuer cannot revoke it)")
        return
    as_of = [m for m in (_as_of(source, url) or valid_from for url, valid_from in reading.lists) if m is not None]
    result.status_as_of = min(as_of) if as_of else None
    read = reading.set_purposes + reading.clear_purposes
    result.revoked = "revocation" in reading.set_purposes if "revocation" in read else None
    result.suspended = "suspension" in reading.set_purposes if "suspension" in read else None
    when = f" as of {_xsd(result.status_as_of)}" if result.status_as_of else ""
    if result.revoked:
        result.add("status", FAILED, REVOKED + (f" ({'; '.join(reading.reasons)})" if reading.reasons else ""),
                   "status.revoked")
    elif result.suspended:
        result.add("status", FAILED, SUSPENDED, "status.suspended")
    else:
        words = {"revocation": "not revoked", "suspension": "not suspended"}
        said = [words.get(p, f"{p}: clear") + when for p in dict.fromkeys(reading.clear_purposes)]
        result.add("status", PASSED, ", ".join(said + reading.messages))


# --- schema -----------------------------------------------------------------------------------

def _short(error: str) -> str:
    return error if len(error) <= 160 else error[:157] + "..."


def check_schema(document: dict[str, Any], result: Verification, walk: Walk | None = None) -> None:
    if not (result.kind or "").startswith("Open Badges 3.0"):
        result.add("schema", NOT_CHECKED, "no Open Badges 3.0 schema applies to this kind of credential")
        return
    if _contexts(document)[0] != VC_V2:
        result.add("schema", NOT_CHECKED, "the OB 3.0 JSON schema describes VC 2.0 credentials; this one is VC 1.1")
        return
    errors = []
    if isinstance(document.get("proof"), dict):
        # Common in the wild (VC 1.1 wallets, the W3C vectors); said in words, and the rest of
        # the document is checked as if the proof were a list of one.
        errors.append("its proof is a single object where the schema expects a list of proofs")
        document = {**document, "proof": [document["proof"]]}
    endorsement = "EndorsementCredential" in types_of(document.get("type"))
    errors += endorsement_schema_errors(document) if endorsement else schema_errors(document, walk=walk)
    if errors:
        result.add("schema", WARNING, "it departs from the OB 3.0 JSON schema (this does not affect its "
                                      "signature): " + "; ".join(_short(e) for e in errors[:3]))
        result.warnings.append("it departs from the OB 3.0 JSON schema")
    else:
        result.add("schema", PASSED, "matches the OB 3.0 JSON schema")


# --- Data Integrity credentials ---------------------------------------------------------------

def verify_data_integrity(document: dict[str, Any], source: DocumentSource, now: datetime,
                          result: Verification) -> None:
    try:
        walk = Walk(document)  # one walk of the credential serves all the checks
    except TooDeep:
        result.add("format", FAILED, TOO_DEEP)
        return
    describe(document, result)
    model = check_format(document, result, walk=walk)
    if model is None:
        return
    check_proofs(document, source, now, result, walk=walk)
    verify_claims(document, model, source, now, result, walk=walk)


def verify_claims(document: dict[str, Any], model: str, source: DocumentSource, now: datetime,
                  result: Verification, *, walk: Walk | None = None) -> None:
    """The checks that do not depend on how the credential is secured."""
    check_dates(document, model, now, result)
    check_status(document, source, now, result)
    check_schema(document, result, walk)
