"""Our verifier and the interop verifier built on Digital Bazaar's libraries (tests/interop:
`vc`, `data-integrity`, eddsa-rdfc-2022 and ecdsa-rdfc-2019 cryptosuites) give the same
verdict on the corpus's ECDSA cases: P-256 and P-384 keys from did:key and from did:web
Multikey / JsonWebKey / JsonWebKey2020 methods, a tampered credential, keys of the wrong
kind for the suite, a short signature, and the W3C vc-di-ecdsa vectors. The whole corpus is
compared by `python -m tests.compare_verify_corpus` (docs/verify.md); these cases run in CI.

Digital Bazaar publishes no ecdsa-jcs-2019 cryptosuite, so the interop verifier does not
check ecdsa-jcs-2019 proofs: those cases are only checked to be refused by it as unsupported."""

from __future__ import annotations

import pytest

from tests.compare_verify_corpus import ours, theirs
from tests.integration.credentials.test_verify_corpus import CASES
from tests.ob3_everywhere import OB3_VERIFY_DIR

ECDSA = [c for c in CASES if "ecdsa" in c["name"] and "selective" not in c["name"]]
RDFC = [c for c in ECDSA if "ecdsa-jcs-2019" not in c["name"]]
JCS = [c for c in ECDSA if "ecdsa-jcs-2019" in c["name"]]


@pytest.fixture(autouse=True)
def interop_installed():
    if not (OB3_VERIFY_DIR / "node_modules").is_dir():
        pytest.fail(f"the interop verifier is not installed in {OB3_VERIFY_DIR} (run `npm ci` there, as .ci/run does)")


def test_the_ecdsa_cases_are_there():
    names = {c["name"] for c in ECDSA}
    assert {"suite-ecdsa-rdfc-2019-p256", "suite-ecdsa-rdfc-2019-p384", "suite-ecdsa-jcs-2019-p256",
            "suite-ecdsa-rdfc-2019-tampered", "suite-ecdsa-rdfc-2019-ed25519-key",
            "w3c-ecdsa-rdfc-2019-p256-vector"} <= names
    assert sum(c["valid"] for c in RDFC) >= 5 and sum(not c["valid"] for c in RDFC) >= 4


@pytest.mark.parametrize("case", RDFC, ids=[c["name"] for c in RDFC])
def test_digital_bazaar_agrees_on_the_ecdsa_rdfc_case(case, tmp_path):
    result = ours(case)
    verified, line = theirs(case, tmp_path)
    assert verified is result.valid is case["valid"], f"ours: {result.verdict}\nDigital Bazaar: {line}"


@pytest.mark.parametrize("case", JCS, ids=[c["name"] for c in JCS])
def test_digital_bazaar_does_not_check_ecdsa_jcs_proofs(case, tmp_path):
    assert ours(case).valid is case["valid"]
    verified, line = theirs(case, tmp_path)
    assert verified is False and "no DataIntegrityProof with" in line, line
