"""`lti-badger demo --headless --out DIR` runs the awards flow for real (criteria, not direct
awards) and writes DIR/gradebook.json and DIR/audit.json."""

from __future__ import annotations

import json

from tests.functional.test_demo import run_headless


def test_headless_demo_awards_by_criteria_and_writes_gradebook_and_audit(app_settings, tmp_path):
    out = tmp_path / "out"
    answer = run_headless(app_settings, out)
    assert answer.exit_code == 0, answer.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] is True and summary["awards"]["ok"] is True
    gradebook = json.loads((out / "gradebook.json").read_text())
    labels = sorted(i["label"] for i in gradebook["line_items"])
    assert labels == ["Badge: Biology 101 Pathway", "Badge: Cell Explorer", "Badge: Genetics Lab Pro"]
    assert all(i["tag"] == "lti_badger" and i["scoreMaximum"] == 1 for i in gradebook["line_items"])
    earned = sorted((s["userId"], s["scoreGiven"]) for s in gradebook["scores"])
    # learner 1 holds both module badges, so also the pathway badge that stacks them.
    assert earned == [("demo-learner-1", 1), ("demo-learner-1", 1), ("demo-learner-1", 1), ("demo-learner-2", 0),
                      ("demo-learner-2", 1), ("demo-learner-3", 1)]
    assert all("/credentials/" in s["comment"] for s in gradebook["scores"] if s["scoreGiven"] == 1)
    audit = json.loads((out / "audit.json").read_text())
    creates = [e for e in audit if e["action"] == "award.create"]
    assert len(creates) == 5 and all(e["actor_type"] == "rule" for e in creates)
    [revoke] = [e for e in audit if e["action"] == "award.revoke"]
    assert revoke["actor_type"] == "user" and revoke["before"]["status"] == "active"
    assert revoke["after"]["status"] == "revoked" and "quiz was taken twice" in revoke["reason"]
