"""Credentials verified per second, offline, for each proof type our verifier accepts, next to
the Node reference (the interop stack in tests/interop: @digitalbazaar/vc with the
eddsa-rdfc-2022 cryptosuite) verifying an eddsa-rdfc-2022 credential in the same run.

    .venv/bin/python bench/verify.py [--n 1000] [--node-n 300]

Ours: for each proof type, N distinct OB 3.0 credentials (a learner, credential id and
revocation index of their own) signed with that proof and verified with the whole
`verify_credential` (format and JSON-LD safe mode, proof, issuer key from its DID document
or JWKS, issuer identity, dates, a signed revocation list, the OB 3.0 schema), with
documents from a `MapSource` bundle: nothing touches the network. The signing keys and
documents are the verification corpus's (tests/make_verify_corpus.py). Node: one credential
of the same shape signed once and verified N times in one process (`vc.verifyCredential`,
status check stubbed), by `bench/node_sign_bench.mjs`. Rates are per CPU-second of the
process (the one-core figure on a shared machine) and wall clock. Besides the full
verification, two rows of eddsa-rdfc-2022 run only part of it: what the Node reference checks
(format and safe mode, proof, key, dates: `node_scope`), and proof and key alone.

    .venv/bin/python bench/verify.py --instructions

counts instead the CPU instructions (valgrind's callgrind) of one eddsa-rdfc-2022 verification,
for each of the three scopes: within about 1 % on every run whatever else the machine does
(rates on this shared machine move by a third), so two versions of the code compare well
where they differ by more than that.
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from credentials import Timer, node_rates, rate  # noqa: E402  (bench/credentials.py, beside this file)

from lti_badger.credentials.eddsa import Signer, sign  # noqa: E402
from lti_badger.credentials.checks import check_dates, check_format, check_proofs  # noqa: E402
from lti_badger.credentials.jsonld import Walk  # noqa: E402
from lti_badger.credentials.verify import MapSource, Verification, verify_credential  # noqa: E402
from tests.make_verify_corpus import (ISSUER, JWK_ED, JWK_ED_DID, P256, P256_DID, P256_KEY_DID, RSA_ISSUER,  # noqa: E402
                                      RSA_JWKS, STATUS, base, bundle, entry, jws_rs256, jwt, ob2_signed_assertion,
                                      sign_2020, sign_detached_jws, sign_ecdsa, sign_jcs)

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
SIGNED_AT = "2025-01-15T10:00:00Z"
JWK_ED_SIGNER = Signer(JWK_ED.seed, JWK_ED_DID + "#0")


def issuer_at(did: str) -> dict[str, Any]:
    return {"id": did, "type": ["Profile"], "name": "Example College"}


def credential(i: int, issuer: dict[str, Any] | None = None) -> dict[str, Any]:
    """The i-th learner's credential: its own id, learner and revocation index (bit 7 is set)."""
    document = base(issuer, credentialStatus=entry("BitstringStatusListEntry", "revocation", STATUS + "revocation",
                                                   100 + i % 1000))
    document["id"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
    subject = copy.deepcopy(document["credentialSubject"])
    subject.update(id=f"did:example:learner-{i}", name=f"Learner {i}")
    document["credentialSubject"] = subject
    return document


ED2018 = "https://w3id.org/security/suites/ed25519-2018/v1"


def with_context(document: dict[str, Any], context: str) -> dict[str, Any]:
    return {**document, "@context": [*document["@context"], context]}


def jwt_claims(iss: str, vc: dict[str, Any]) -> dict[str, Any]:
    return {"iss": iss, "jti": vc["id"], "nbf": 1736935200, "vc": vc}


PROOF_TYPES: dict[str, Callable[[int], Any]] = {
    "eddsa-rdfc-2022 (did:key)": lambda i: sign(credential(i), ISSUER, SIGNED_AT),
    "eddsa-jcs-2022 (did:key)": lambda i: sign_jcs(credential(i), ISSUER),
    "Ed25519Signature2020 (did:key)": lambda i: sign_2020(credential(i), ISSUER),
    "Ed25519Signature2018 (did:key)": lambda i: sign_detached_jws(with_context(credential(i), ED2018),
                                                                  "Ed25519Signature2018", "EdDSA",
                                                                  ISSUER.verification_method, ed25519=ISSUER),
    "ecdsa-rdfc-2019 P-256 (did:key)": lambda i: sign_ecdsa(credential(i, issuer_at(P256_KEY_DID)), P256,
                                                            f"{P256_KEY_DID}#{P256_KEY_DID[8:]}"),
    "VC-JWT EdDSA (did:jwk)": lambda i: jwt(credential(i, issuer_at(JWK_ED_DID)), "EdDSA",
                                            {"kid": JWK_ED_SIGNER.verification_method, "typ": "vc+jwt"}),
    "VC-JWT ES256 (did:jwk)": lambda i: jwt(jwt_claims(P256_DID, credential(i, issuer_at(P256_DID))), "ES256",
                                            {"kid": P256_DID + "#0"}),
    "VC-JWT RS256 (JWKS)": lambda i: jwt(jwt_claims(RSA_ISSUER, credential(i, issuer_at(RSA_ISSUER))), "RS256",
                                         {"kid": RSA_JWKS + "#rsa-1"}),
    "OB 2.0 signed (RS256 JWS)": lambda i: jws_rs256(ob2_signed_assertion(1000 + i)),
}


def full(document: Any, source: MapSource) -> bool:
    return verify_credential(document, status_source=source, now=NOW).valid


def proof_only(document: Any, source: MapSource) -> bool:
    """What the Node reference checks besides structure and dates: proof, key, controller."""
    result = Verification()
    check_proofs(document, source, NOW, result)
    return all(c.state == "passed" for c in result.checks)


def node_scope(document: Any, source: MapSource) -> bool:
    """What the Node reference checks: format and JSON-LD safe mode, proof, key, controller,
    dates (its status check is stubbed, and it has no OB 3.0 schema check)."""
    result = Verification()
    walk = Walk(document)
    model = check_format(document, result, walk=walk)
    check_proofs(document, source, NOW, result, walk=walk)
    check_dates(document, model or "2.0", NOW, result)
    return result.valid


WARM_UP = 20  # as many as the Node reference's warm-up rounds, on credentials not measured


def measure(label: str, make: Callable[[int], Any], n: int, source: MapSource,
            check: Callable[[Any, MapSource], bool] = full) -> tuple[float, float]:
    documents = [make(i) for i in range(n + WARM_UP)]
    assert all(check(d, source) for d in documents[n:]), label  # warms the caches of this shape
    documents = documents[:n]
    gc.collect()  # not the garbage of building the credentials (GC stays on while timing)
    with Timer() as t:
        verdicts = [check(d, source) for d in documents]
    assert all(verdicts), f"{label}: {verdicts.count(False)} not verified"
    return rate(n, t.cpu), rate(n, t.wall)


SCOPES = {"full verify_credential": full, "Node's checks": node_scope, "proof+key only": proof_only}
COUNTED = 300  # verifications whose instructions are counted


def verify_some(scope: str, n: int) -> None:
    """Signs COUNTED + WARM_UP credentials, then verifies the warm-up ones and `n` more: two
    runs that differ only in `n` differ only by those verifications."""
    source = MapSource(bundle())
    documents = [PROOF_TYPES["eddsa-rdfc-2022 (did:key)"](i) for i in range(COUNTED + WARM_UP)]
    for document in documents[COUNTED:] + documents[:n]:
        SCOPES[scope](document, source)


def count_instructions() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")

    def instructions(scope: str, n: int) -> int:
        run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                              __file__, "--verify-some", scope, str(n)], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": "0"})  # the same dict layouts, run after run
        return int(re.search(r"Collected : (\d+)", run.stderr).group(1))

    print(f"eddsa-rdfc-2022, instructions per verification (callgrind, {COUNTED} verifications counted)")
    for scope in SCOPES:
        print(f"{scope:34} {(instructions(scope, COUNTED) - instructions(scope, 0)) / COUNTED:12,.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="credentials per proof type")
    parser.add_argument("--node-n", type=int, default=300, help="verifications for the Node reference")
    parser.add_argument("--instructions", action="store_true",
                        help="count the instructions of one eddsa-rdfc-2022 verification (valgrind) instead")
    parser.add_argument("--verify-some", nargs=2, metavar=("SCOPE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.verify_some:
        verify_some(args.verify_some[0], int(args.verify_some[1]))
        return
    if args.instructions:
        count_instructions()
        return

    source = MapSource(bundle())
    rows = [(label, *measure(label, make, args.n, source)) for label, make in PROOF_TYPES.items()]
    rdfc = PROOF_TYPES["eddsa-rdfc-2022 (did:key)"]
    scope_row = ("eddsa-rdfc-2022 Node's checks", *measure("node scope", rdfc, args.n, source, node_scope))
    proof_row = ("eddsa-rdfc-2022 proof+key only", *measure("proof only", rdfc, args.n, source, proof_only))
    node = node_rates(credential(0), args.node_n) or {}

    print(f"{args.n} distinct credentials per proof type, full verify_credential offline; Node: {args.node_n} "
          f"verifications; load average {os.getloadavg()[0]:.1f}")
    print(f"{'':34} {'per CPU-s':>10} {'wall /s':>10}")
    for label, cpu, wall in [*rows, scope_row, proof_row]:
        print(f"{label:34} {cpu:10.0f} {wall:10.0f}")
    if not node:
        print("Node reference not run: no node, or no `npm ci` in tests/interop")
        return
    print(f"{'Node reference eddsa-rdfc-2022':34} {node['verified_per_cpu_s']:10.1f} {node['verified_per_s']:10.1f}")
    for label, (_name, cpu, wall) in (("full verify_credential", rows[0]), ("Node's checks", scope_row),
                                       ("proof+key only", proof_row)):
        print(f"eddsa-rdfc-2022 ours ({label}) / Node: {cpu / node['verified_per_cpu_s']:.1f}x per CPU-second, "
              f"{wall / node['verified_per_s']:.1f}x wall clock")


if __name__ == "__main__":
    main()
