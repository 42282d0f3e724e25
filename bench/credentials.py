"""Credentials signed and verified per second on one core, next to the Node reference stack
(the interop verifier in tests/interop: @digitalbazaar/vc, eddsa-rdfc-2022, jsonld.js) in the same run.

    .venv/bin/python bench/credentials.py [--n 3000] [--node-n 300]

Ours: N distinct OpenBadgeCredentials of one achievement (different learners, dates, salts,
status indexes), composed by our composer, signed with eddsa-rdfc-2022 (fast RDFC-1.0 path),
then proof-verified; and the full `verify_credential` (schema, DID key, dates, revocation and
suspension) as an extra row. Node: the first of those credentials, signed N times and
verified N times in one process (status check stubbed, as on our proof-only row).
Runs single-threaded; pin it with `taskset -c 0` for a strict one-core figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lti_badger.credentials import jsonld  # noqa: E402
from lti_badger.credentials.compose import CredentialFacts, IssuerFacts, StatusRef, compose_credential  # noqa: E402
from lti_badger.credentials.eddsa import Signer, sign, verify_proof  # noqa: E402
from lti_badger.credentials.status import encode_list  # noqa: E402
from lti_badger.credentials.verify import MapSource, verify_credential  # noqa: E402

BASE = "https://badges.example.edu"
DID = "did:web:badges.example.edu"
OB3_VERIFY_DIR = Path(os.environ.get("OB3_VERIFY_DIR") or ROOT / "tests" / "interop")


def credentials(n: int, rng: random.Random) -> list[dict]:
    issuer = IssuerFacts(did=DID, name="Example University", url="https://example.edu/", email="badges@example.edu")
    out = []
    for i in range(n):
        facts = CredentialFacts(
            base_url=BASE, achievement_public_id="5b1e0d3c-0f6a-4a57-9d3e-7f2b8c1a9e40", version_number=2,
            name="Python Basics", description="Writes and tests small Python programs.",
            criteria_narrative="Complete modules 1-4 with at least 80% in each quiz.", achievement_type="Badge",
            rule_hash="9f" * 32,
            details={"tags": ["python", "programming"], "language": "en", "credits_ects": 2.5, "eqf_level": 4,
                     "alignments": [{"targetName": "Python functions", "targetUrl": "https://skills.example.org/1"}]},
            learner_email=f"learner{i}@example.edu", learner_sub=f"user-{i}", platform_issuer="https://canvas.example",
            awarded_at=datetime(2025, 5, 1, tzinfo=timezone.utc) + timedelta(minutes=i),
            evidence={"met": True, "explanation": {"type": "all", "met": True, "children": [
                {"type": "activity_completed", "met": True, "title": f"Quiz {1 + i % 4}", "module": "Week 1"}]}},
        )
        valid_from = datetime(2025, 5, 1, tzinfo=timezone.utc) + timedelta(minutes=i)
        out.append(compose_credential(
            facts, issuer, credential_id=f"{BASE}/credentials/{rng.getrandbits(128):032x}", valid_from=valid_from,
            valid_until=None, salt=f"{rng.getrandbits(64):016x}",
            status=[StatusRef("revocation", f"{BASE}/status/1", rng.randrange(131072)),
                    StatusRef("suspension", f"{BASE}/status/2", rng.randrange(131072))],
        ))
    return out


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


class Timer:
    """Wall-clock and CPU time of a block: on a shared machine the CPU rate is the one-core figure."""

    def __enter__(self) -> "Timer":
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def node_rates(unsigned: dict, n: int) -> dict | None:
    if not (OB3_VERIFY_DIR / "node_modules").is_dir() or shutil.which("node") is None:
        return None
    script = OB3_VERIFY_DIR / ".bench_sign.mjs"
    shutil.copyfile(ROOT / "bench" / "node_sign_bench.mjs", script)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(unsigned, fh)
    try:
        proc = subprocess.run(["node", str(script), fh.name, str(n)], capture_output=True, text=True, timeout=600)
    finally:
        os.unlink(fh.name)
        script.unlink(missing_ok=True)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="credentials for our rates")
    parser.add_argument("--node-n", type=int, default=300, help="iterations for the Node reference")
    args = parser.parse_args()

    rng = random.Random(2025)
    docs = credentials(args.n, rng)
    signer = Signer(bytes(range(32)), f"{DID}#key-1")
    sign(docs[0], signer, "2025-05-01T00:00:00Z")  # builds the shape's template once

    with Timer() as t_sign:
        signed = [sign(d, signer, d["validFrom"]) for d in docs]
    with Timer() as t_verify:
        ok = all(verify_proof(d, d["proof"][0], signer.public_key) for d in signed)
    assert ok, "a signature did not verify"

    did_doc = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"], "id": DID,
               "verificationMethod": [{"id": f"{DID}#key-1", "type": "Multikey", "controller": DID,
                                       "publicKeyMultibase": signer.public_multikey}],
               "assertionMethod": [f"{DID}#key-1"]}
    source = {DID: did_doc}
    for list_id, purpose in ((1, "revocation"), (2, "suspension")):
        url = f"{BASE}/status/{list_id}"
        source[url] = sign({"@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
                            "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": DID,
                            "validFrom": "2025-05-01T00:00:00Z",
                            "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                                                  "statusPurpose": purpose, "encodedList": encode_list(bytes(16384))}},
                           signer, "2025-05-01T00:00:00Z")
    docs_source = MapSource(source)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    full_n = min(len(signed), 1000)
    with Timer() as t_full:
        full_ok = all(verify_credential(d, status_source=docs_source, now=now).valid for d in signed[:full_n])
    assert full_ok, "verify_credential failed"

    node = node_rates(docs[0], args.node_n) or {}
    n = len(docs)
    rows = [
        ("signed/s per CPU-second (eddsa-rdfc-2022)", rate(n, t_sign.cpu), node.get("signed_per_cpu_s")),
        ("verified/s per CPU-second (proof)", rate(n, t_verify.cpu), node.get("verified_per_cpu_s")),
        ("signed/s wall clock", rate(n, t_sign.wall), node.get("signed_per_s")),
        ("verified/s wall clock", rate(n, t_verify.wall), node.get("verified_per_s")),
        ("verified/s per CPU-second (full verify_credential)", rate(full_n, t_full.cpu), None),
    ]
    print(f"credentials: {n} distinct credentials of one shape; Node: {args.node_n} iterations; "
          f"fast-path fallbacks: {jsonld.fallbacks}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'':52} {'ours':>10} {'node ref':>10} {'ratio':>7}")
    for label, ours, theirs in rows:
        ratio = f"{ours / theirs:6.1f}x" if theirs else "      -"
        print(f"{label:52} {ours:10.0f} {theirs if theirs else float('nan'):10.0f} {ratio}")
    if not node:
        print(f"(Node reference not run: no node or no npm ci in {OB3_VERIFY_DIR})")


if __name__ == "__main__":
    main()
