"""Form parsing for the instructor pages: the badge designer's fields into the achievement
data `criteria.achievements` takes, and the criteria builder's rows into a rule (and back).
Plain functions over a mapping of form values; every bad value is a BadInput naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _

from ..credentials import images
from ..credentials import microcredential as mc
from ..credentials.microcredential import check_alignment
from ..errors import BadInput, PayloadTooLarge

MIB = 1024 * 1024

ACHIEVEMENT_TYPE_CHOICES = ("Badge", "MicroCredential", "Certificate", "CertificateOfCompletion", "Competency")
EQF_LEVELS = tuple(str(n) for n in range(1, 9))
# The choices of the European micro-credential fields, as `_fields.html`'s fieldset names them.
MICRO_CREDENTIAL_CHOICES = {"eqf": EQF_LEVELS, "nqf": tuple(str(n) for n in mc.NQF_LEVELS), "assessments": mc.ASSESSMENT,
                            "participation": mc.PARTICIPATION, "supervision": mc.SUPERVISION,
                            "quality": tuple(mc.QUALITY_ASSURANCE), "stackability": mc.STACKABILITY}
REQUIREMENTS = ("", "completed", "status", "score")
MODULE_REQUIREMENTS = ("", "completed", "score")


def _number(form: Mapping[str, str], name: str, *, lo: float, hi: float, integer: bool = False) -> float | int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError as e:
        kind = "a whole number" if integer else "a number"
        raise BadInput(f"{name.replace('_', ' ')} must be {kind}", detail={"field": name}) from e
    if not lo <= value <= hi:
        raise BadInput(f"{name.replace('_', ' ')} must be between {lo:g} and {hi:g}", detail={"field": name})
    return value


def _choice(form: Mapping[str, str], name: str, choices: tuple[str, ...], default: str = "") -> str:
    value = (form.get(name) or default).strip()
    if value not in choices:
        raise BadInput(f"{name.replace('_', ' ')}: unknown choice {value!r}", detail={"field": name})
    return value


ALIGNMENT_PARTS = ("targetName", "targetFramework", "targetUrl", "targetCode", "targetType")


def parse_alignments(text: str) -> list[dict[str, str]]:
    """One skill per line: `name | framework | link | code | type` (the picker writes ESCO
    concepts this way). A line without a link is refused with its number, never dropped."""
    out = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        item = {key: value for key, value in zip(ALIGNMENT_PARTS, parts) if value}
        if not item.get("targetUrl"):
            raise BadInput(_("Skills line %(n)s: add a link (name | framework | link), for example the skill's ESCO "
                             "URI from the search above.", n=n), detail={"field": "skills"})
        try:
            out.append(check_alignment(item, n))
        except BadInput as e:
            raise BadInput(_("Skills line %(n)s: %(problem)s", n=n, problem=e.message), detail={"field": "skills"}) from e
    return out


def format_alignments(items: list[dict[str, str]] | None) -> str:
    lines = []
    for item in items or []:
        parts = [item.get(key, "") for key in ALIGNMENT_PARTS]
        while parts and not parts[-1]:
            parts.pop()
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def designer_data(form: Mapping[str, str], upload: bytes | None, upload_name: str | None,
                  previous_details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The designer form -> achievement data (name, description, image, details, validity...)."""
    details: dict[str, Any] = dict(previous_details or {})
    tags = [t.strip() for t in (form.get("tags") or "").split(",") if t.strip()]
    details["tags"] = tags[:30]
    details["alignments"] = parse_alignments(form.get("skills", ""))
    # European micro-credential elements, under the keys the credential composer reads.
    level = _choice(form, "eqf_level", ("",) + EQF_LEVELS)
    nqf = _choice(form, "nqf_level", ("",) + tuple(str(n) for n in mc.NQF_LEVELS))
    checked = _choice(form, "identity_checked", ("", "yes", "no"))
    eu: dict[str, Any] = {
        "eqf_level": int(level) if level else None,
        "nqf_level": int(nqf) if nqf else None,
        "nqf_url": (form.get("nqf_url") or "").strip(),
        "credits_ects": _number(form, "credits_ects", lo=0, hi=600),
        "workload_hours": _number(form, "workload_hours", lo=0, hi=10000, integer=True),
        "assessment": _choice(form, "assessment_type", ("",) + mc.ASSESSMENT),
        "participation": _choice(form, "participation", ("",) + mc.PARTICIPATION),
        "supervision": _choice(form, "supervision", ("",) + mc.SUPERVISION),
        "identity_checked": {"yes": True, "no": False}.get(checked),
        "stackability": _choice(form, "stackability", ("",) + mc.STACKABILITY),
        "quality_assurance": _choice(form, "quality_assurance", ("",) + tuple(mc.QUALITY_ASSURANCE)),
        "quality_assurance_url": (form.get("quality_assurance_url") or "").strip(),
        "learning_outcomes": [line.strip()[:500] for line in (form.get("learning_outcomes") or "").splitlines()
                              if line.strip()],
        "prerequisites": (form.get("prerequisites_text") or "").strip()[:1000],
        "further_information": (form.get("further_information") or "").strip(),
        "field_of_study": (form.get("field_of_study") or "").strip()[:300],
    }
    for key, value in eu.items():
        if value in (None, "", []):
            details.pop(key, None)
        else:
            details[key] = value
    details.pop("micro_credential", None)
    details["evidence"] = {
        "include_grades": form.get("evidence_grades") == "on",
        "include_activities": form.get("evidence_activities") == "on",
        "include_narrative": form.get("evidence_narrative") == "on",
    }
    language = (form.get("language") or "").strip()
    if language:
        details["language"] = language[:35]
    data: dict[str, Any] = {
        "name": (form.get("name") or "").strip(),
        "description": form.get("description") or "",
        "criteria_narrative": form.get("criteria_narrative") or "",
        "achievement_type": _choice(form, "achievement_type", ACHIEVEMENT_TYPE_CHOICES, "Badge"),
        "validity_days": _number(form, "validity_days", lo=1, hi=36500, integer=True),
        "regression_policy": _choice(form, "regression_policy", ("none", "suspend"), "none"),
    }
    if not data["name"]:
        raise BadInput("the badge needs a name", detail={"field": "name"})
    source = _choice(form, "image_source", ("keep", "upload", "generate"), "keep")
    if source == "upload":
        if not upload:
            raise BadInput("choose a PNG or SVG file to upload", detail={"field": "image_file"})
        image = images.sanitise_upload(upload, upload_name)
        data["image"], data["image_type"] = image.data, image.media_type
        details.pop("image_template", None)
    elif source == "generate":
        wanted = image_design(form, data["name"])
        image = images.generate_png(**wanted.as_details())
        data["image"], data["image_type"] = image.data, image.media_type
        details["image_template"] = wanted.as_details()
    data["details"] = details
    return data


def _plain(number) -> str:
    """A stored number as the form shows it: 6.0 -> "6", None -> ""."""
    return "" if number is None else f"{number:g}"


def designer_values(version) -> dict[str, Any]:
    """The designer's form values for a saved version (the inverse of `designer_data`), or a
    new badge's defaults for None."""
    if version is None:
        return {"achievement_type": "Badge", "image_source": "generate", "image_template": "circle",
                "image_colour": images.DEFAULT_COLOUR, "image_icon": "none", "evidence_activities": "on",
                "evidence_narrative": "on"}
    d = version.details or {}
    ev = d.get("evidence", {})
    gen = d.get("image_template", {})
    return {
        "name": version.name, "description": version.description, "criteria_narrative": version.criteria_narrative,
        "achievement_type": version.achievement_type, "validity_days": version.validity_days or "",
        "tags": ", ".join(d.get("tags", [])), "skills": format_alignments(d.get("alignments")),
        "workload_hours": _plain(d.get("workload_hours")), "credits_ects": _plain(d.get("credits_ects")),
        "eqf_level": str(d.get("eqf_level") or ""), "assessment_type": d.get("assessment", ""),
        "nqf_level": str(d.get("nqf_level") or ""), "nqf_url": d.get("nqf_url", ""),
        "quality_assurance": d.get("quality_assurance", ""), "participation": d.get("participation", ""),
        "quality_assurance_url": d.get("quality_assurance_url", ""), "supervision": d.get("supervision", ""),
        "identity_checked": {True: "yes", False: "no"}.get(d.get("identity_checked"), ""),
        "stackability": d.get("stackability", ""), "further_information": d.get("further_information", ""),
        "learning_outcomes": "\n".join(d.get("learning_outcomes", [])),
        "prerequisites_text": d.get("prerequisites", ""), "field_of_study": d.get("field_of_study", ""),
        "evidence_grades": "on" if ev.get("include_grades") else "",
        "evidence_activities": "on" if ev.get("include_activities") else "",
        "evidence_narrative": "on" if ev.get("include_narrative") else "",
        "language": d.get("language", ""), "image_source": "keep" if version.image else "generate",
        "image_template": gen.get("template", "circle"), "image_icon": gen.get("icon", "none"),
        # An older badge's colour outside the palette is shown as the default until changed.
        "image_colour": gen.get("colour") if gen.get("colour") in images.PALETTE else images.DEFAULT_COLOUR,
        "image_text": gen.get("text", ""),
    }


def image_design(form: Mapping[str, str], name: str) -> images.Design:
    """The generated image the designer's fields describe: empty text means the name's initials,
    or the icon alone if one is chosen. The designer offers the accessible palette only; any
    other value is refused (BadInput), not adjusted."""
    icon = form.get("image_icon") or "none"
    text = (form.get("image_text") or "").strip() or ("" if icon != "none" else initials(name))
    return images.design(form.get("image_template") or "circle", form.get("image_colour") or images.DEFAULT_COLOUR,
                         text, icon, palette_only=True)


def read_upload(files: Mapping[str, Any], field: str) -> tuple[bytes | None, str | None]:
    """An uploaded image's bytes and file name, or (None, None) when no file was chosen. Reads one
    byte past the limit at most, enough for the sanitiser to refuse it as too large."""
    file = files.get(field)
    if file is None or not file.filename:
        return None, None
    return file.read(images.MAX_UPLOAD_BYTES + 1), file.filename


def read_badge_image(files: Mapping[str, Any], field: str) -> tuple[bytes | None, str | None]:
    """`read_upload` for the designer, refusing a file over the limit with its size and the
    limit in the reader's words (the whole upload has arrived: its size is known)."""
    file = files.get(field)
    if file is not None and file.filename:
        file.stream.seek(0, 2)
        size = file.stream.tell()
        file.stream.seek(0)
        if size > images.MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(
                _("The image is too large (%(size)s MiB): a badge image may be at most %(limit)s MiB. Choose a "
                  "smaller file, or generate an image.", size=format_decimal(round(size / MIB, 1)),
                  limit=format_decimal(images.MAX_UPLOAD_BYTES / MIB)), detail={"field": field})
    return read_upload(files, field)


def initials(name: str) -> str:
    words = [w for w in name.split() if w[:1].isalnum()]
    return "".join(w[0].upper() for w in words[:3]) or "?"


# --- criteria builder --------------------------------------------------------------------

def _requirement(form: Mapping[str, str], kind: str, lms_id: str, choices: tuple[str, ...],
                 what: str) -> dict[str, Any] | None:
    """One row of the builder for a module or an activity (`kind`): completed, a minimum
    percent (`<kind>_pct:<id>`), the LMS's completion status only (`status`, activities), or
    nothing asked."""
    need = _choice(form, f"{kind}:{lms_id}", choices)
    if need == "completed":
        return {"type": f"{kind}_completed", kind: lms_id}
    if need == "status":
        return {"type": "activity_completed", "activity": lms_id, "require_status": True}
    if need == "score":
        field = f"{kind}_pct:{lms_id}"
        pct = _number(form, field, lo=0, hi=100)
        if pct is None:
            raise BadInput(f"{what} needs a minimum percent", detail={"field": field})
        return {"type": f"{kind}_score", kind: lms_id, "min_percent": pct}
    return None


def rule_from_form(form: Mapping[str, str], activity_ids: list[str], module_ids: list[str],
                   badge_ids: list[int]) -> dict[str, Any]:
    """Rows of the builder -> a rule: each activity / module / badge / course-grade requirement
    is a node; they combine with all / any / at least N; optional opening and closing dates."""
    modules = (_requirement(form, "module", lms_id, MODULE_REQUIREMENTS, "a module score requirement")
               for lms_id in module_ids)
    activities = (_requirement(form, "activity", lms_id, REQUIREMENTS, "a score requirement")
                  for lms_id in activity_ids)
    nodes: list[dict[str, Any]] = [node for node in (*modules, *activities) if node is not None]
    grade = _number(form, "course_grade", lo=0, hi=100)
    if grade is not None:
        nodes.append({"type": "course_grade", "min_percent": grade})
    for badge_id in badge_ids:
        if form.get(f"badge:{badge_id}") == "on":
            nodes.append({"type": "badge_earned", "achievement": badge_id})
    if not nodes:
        raise BadInput("choose at least one requirement (an activity, a module, a grade or a badge)")
    combine = _choice(form, "combine", ("all", "any", "at_least"), "all")
    if combine == "at_least":
        count = _number(form, "at_least", lo=1, hi=len(nodes), integer=True)
        if count is None:
            raise BadInput("say how many of the requirements are needed", detail={"field": "at_least"})
        rule: dict[str, Any] = {"type": "at_least", "count": count, "rules": nodes}
    elif len(nodes) == 1:
        rule = nodes[0]
    else:
        rule = {"type": combine, "rules": nodes}
    closes = (form.get("closes") or "").strip()
    opens = (form.get("opens") or "").strip()
    if closes:
        rule = {"type": "before", "date": closes, "rule": rule}
    if opens:
        rule = {"type": "after", "date": opens, "rule": rule}
    return rule


def form_from_rule(rule: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The builder's values for a rule it could have produced; None if the rule was written by
    hand in a shape the builder cannot show (the JSON view still shows it)."""
    values: dict[str, str] = {"combine": "all"}
    if not rule:
        return values
    node: Mapping[str, Any] = rule
    for kind, key in (("after", "opens"), ("before", "closes")):
        if node.get("type") == kind and "rule" in node:
            values[key] = str(node["date"])[:10]
            node = node["rule"]
    if node.get("type") in ("all", "any", "at_least"):
        values["combine"] = node["type"]
        if node["type"] == "at_least":
            values["at_least"] = str(node["count"])
        leaves = list(node["rules"])
    else:
        leaves = [node]
    for leaf in leaves:
        kind = leaf.get("type")
        if kind == "activity_completed" and not leaf.get("require_pass"):
            values[f"activity:{leaf['activity']}"] = "status" if leaf.get("require_status") else "completed"
        elif kind == "activity_score" and "min_percent" in leaf:
            values[f"activity:{leaf['activity']}"] = "score"
            values[f"activity_pct:{leaf['activity']}"] = f"{leaf['min_percent']:g}"
        elif kind == "module_completed" and leaf.get("mode", "requirements") == "requirements":
            values[f"module:{leaf['module']}"] = "completed"
        elif kind == "module_score" and "min_percent" in leaf and leaf.get("aggregate", "average") == "average":
            values[f"module:{leaf['module']}"] = "score"
            values[f"module_pct:{leaf['module']}"] = f"{leaf['min_percent']:g}"
        elif kind == "course_grade":
            values["course_grade"] = f"{leaf['min_percent']:g}"
        elif kind == "badge_earned":
            values[f"badge:{leaf['achievement']}"] = "on"
        else:
            return None
    return values
