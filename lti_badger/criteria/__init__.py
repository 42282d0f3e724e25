"""Criteria: the rule language, its pure evaluation with an explanation, snapshots of learner
progress, achievements and their versions, preview, lint and the hand-off to awards."""

from .evaluate import (
    REASONS, ActivityInfo, ActivityProgress, CourseStructure, Decision, Explanation, ModuleInfo, Snapshot, evaluate,
)
from .lint import LintWarning, lint
from .rules import References, references, rule_hash, rule_schema, validate_rule
from .services import PreviewResult, Reevaluation, explain, preview, qualifies, reevaluate
from .snapshots import load_snapshot, load_snapshots, load_structure

__all__ = [
    "REASONS", "ActivityInfo", "ActivityProgress", "CourseStructure", "Decision", "Explanation", "LintWarning",
    "ModuleInfo", "PreviewResult", "explain", "qualifies", "Reevaluation", "References", "Snapshot", "evaluate", "lint", "load_snapshot",
    "load_snapshots", "load_structure", "preview", "reevaluate", "references", "rule_hash", "rule_schema",
    "validate_rule",
]
