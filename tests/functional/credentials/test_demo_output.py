"""The demo's credentials contract: `lti-badger demo --headless --out DIR` writes every
issued credential (JSON, baked PNG, baked SVG), every status list and an ob3-verify docs map;
the independent verifier agrees with the verdicts in summary.json."""

from __future__ import annotations

import json
import subprocess

from click.testing import CliRunner

from lti_badger.cli import main
from lti_badger.credentials.baking import extract
from lti_badger.credentials.schema import endorsement_schema_errors, schema_errors
from lti_badger.credentials.verify import REVOKED, SUSPENDED
from tests.factories_credentials import OB3_VERIFY_DIR

# ob3-verify's wording of a verdict -> ours
OURS_FOR_THEIRS = {"VERIFIED": "VERIFIED", "FAILED: credential is revoked": f"FAILED: {REVOKED}",
                   "FAILED: credential is suspended": f"FAILED: {SUSPENDED}"}
from tests.functional.test_demo import run_headless

EU_TERMS = {"creditsAvailable", "timeInvestment", "participationType", "assessmentType", "supervisionType",
            "identityChecked", "stackability", "prerequisites", "furtherInformation", "alignment", "inLanguage"}


def test_headless_demo_writes_verifiable_credentials(app_settings, tmp_path):
    out = tmp_path / "out"
    answer = run_headless(app_settings, out)
    assert answer.exit_code == 0, answer.output
    summary = json.loads((out / "summary.json").read_text())
    creds = summary["credentials"]
    assert creds["ok"] is True and creds["count"] >= 1
    docs = json.loads((out / "docs.json").read_text())
    assert creds["issuer"] in docs
    for entry in creds["status_lists"]:
        assert (out / "status" / f"{entry['id']}.json").exists() and entry["url"] in docs
    verdicts = set()
    complete = []
    for entry in creds["credentials"]:
        base = out / "credentials" / entry["id"]
        document = json.loads(base.with_suffix(".json").read_text())
        assert extract(base.with_suffix(".png").read_bytes()) == document
        assert extract(base.with_suffix(".svg").read_bytes()) == document
        proc = subprocess.run(["node", str(OB3_VERIFY_DIR / "verify.mjs"), str(base.with_suffix(".json")),
                               "--docs", str(out / "docs.json"), "--strict", "--require-status", "-q"],
                              capture_output=True, text=True, timeout=120)
        theirs = proc.stdout.strip()
        assert OURS_FOR_THEIRS[theirs.split(" (index")[0]] == entry["verdict"], (theirs, entry)
        # our CLI, fed only the files (no database: a verifier on another machine)
        ours = CliRunner().invoke(main, ["verify", str(base.with_suffix(".png")), "--docs", str(out / "docs.json")],
                                  env={"LTI_BADGER_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}",
                                       "LTI_BADGER_INSTANCE_PATH": str(tmp_path / "elsewhere"),
                                       "LTI_BADGER_BASE_URL": "https://elsewhere.example"})
        assert ours.output.splitlines()[0] == entry["verdict"], ours.output
        assert ours.exit_code == (0 if entry["verdict"] == "VERIFIED" else 1)
        verdicts.add(entry["verdict"])
        assert schema_errors(document) == []  # the official OB 3.0 schema as shipped, unchanged
        assert isinstance(document["credentialStatus"], dict)
        achievement = document["credentialSubject"]["achievement"]
        if EU_TERMS <= set(achievement):
            complete.append(achievement)
            assert document["issuer"]["address"]["addressCountryCode"] == "ES"
    assert "VERIFIED" in verdicts
    # at least one demo badge carries every European micro-credential element and ESCO skills
    assert complete, "no demo credential carries every EU micro-credential element"
    for achievement in complete:
        assert "Learning outcomes:" in achievement["criteria"]["narrative"]
        types = {a.get("targetType") for a in achievement["alignment"]}
        assert {"ext:EQF", "ext:QualityAssurance"} <= types and types & {"ext:ESCOSkill", "ext:ESCOOccupation"}
        for alignment in achievement["alignment"]:
            assert {"targetName", "targetUrl", "targetFramework", "targetCode", "targetType"} <= set(alignment)
        esco = [a for a in achievement["alignment"] if a["targetFramework"] == "ESCO"]
        assert esco and all(a["targetUrl"].startswith("http://data.europa.eu/esco/") for a in esco)
    # one demo badge carries a verifiable industry endorsement (issue 14 D)
    [endorsement] = creds["endorsements"]
    assert endorsement["verdict"] == "VERIFIED" and summary["endorsement"]["id"] == endorsement["id"]
    path = out / "endorsements" / f"{endorsement['id']}.json"
    proc = subprocess.run(["node", str(OB3_VERIFY_DIR / "verify.mjs"), str(path), "--docs", str(out / "docs.json"),
                           "--strict", "--require-status", "-q"], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "VERIFIED", proc.stdout + proc.stderr
    signed = json.loads(path.read_text())
    assert endorsement_schema_errors(signed) == []
    carried = [c for c in creds["credentials"] if signed in json.loads(
        (out / "credentials" / f"{c['id']}.json").read_text())["credentialSubject"]["achievement"].get("endorsement", [])]
    assert carried and all(c["achievement"] == "Cell Explorer" for c in carried)
