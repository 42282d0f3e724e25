"""Runs the verification corpus through our verifier and through the interop verifier built
on Digital Bazaar's libraries (tests/interop, or OB3_VERIFY_DIR), and prints where the two
disagree on valid / not valid, as a Markdown table for docs/verify.md.

    .venv/bin/python -m tests.compare_verify_corpus
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from lti_badger.credentials.baking import extract_credential
from lti_badger.credentials.verify import MapSource, Verification, verify_credential
from tests.integration.credentials.test_verify_corpus import CASES, CORPUS, _bundle
from tests.ob3_everywhere import OB3_VERIFY_DIR


def theirs(case: dict, folder: Path) -> tuple[bool | None, str]:
    """(verified, verdict line) from the interop verifier; None when it cannot read the input."""
    path = CORPUS / case["credential"]
    if path.suffix != ".json":
        return None, "(reads JSON credentials only)"
    docs = folder / f"{case['name']}.docs.json"
    docs.write_text(json.dumps(_bundle(case["docs"])))
    proc = subprocess.run(["node", str(OB3_VERIFY_DIR / "verify.mjs"), str(path), "--docs", str(docs), "--now",
                           case["now"], "-q"], capture_output=True, text=True, timeout=120)
    line = (proc.stdout.strip().splitlines() or [proc.stderr.strip()])[-1]
    return (proc.returncode == 0) if proc.returncode in (0, 1) else None, line


def ours(case: dict) -> Verification:
    credential = extract_credential((CORPUS / case["credential"]).read_bytes())
    now = datetime.fromisoformat(case["now"].replace("Z", "+00:00"))
    return verify_credential(credential, status_source=MapSource(_bundle(case["docs"])), now=now)


def main() -> None:
    rows = []
    agree = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            result = ours(case)
            verified, line = theirs(case, Path(tmp))
            if verified is result.valid:
                agree += 1
            else:
                rows.append(f"| {case['name']} | {result.verdict[:90]} | {line[:90]} |")
    print(f"agree on {agree} of {len(CASES)} cases\n")
    print("| case | ours | Digital Bazaar (interop verifier) |\n| --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
