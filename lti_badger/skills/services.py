"""Skills and occupations of ESCO (the European classification of Skills, Competences and
Occupations) as alignments: search for the badge designer, and the import of ESCO's published
CSV files (`skills_en.csv`, `occupations_en.csv`: columns conceptType, conceptUri,
preferredLabel, ...). Nothing is fetched: the package ships a small starter index of real ESCO
v1.2.0 concepts (`esco_starter.csv`), and `lti-badger skills import-esco FILE` loads the full
set into the database.

ESCO: https://esco.ec.europa.eu/ ; concept URIs http://data.europa.eu/esco/skill/<uuid> and
http://data.europa.eu/esco/occupation/<uuid>
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import dialect_insert
from ..errors import BadInput, NotFound
from ..models import SkillConcept

ESCO_FRAMEWORK = "ESCO"
_PREFIXES = {"http://data.europa.eu/esco/skill/": "skill", "http://data.europa.eu/esco/occupation/": "occupation"}
TARGET_TYPES = {"skill": "ext:ESCOSkill", "occupation": "ext:ESCOOccupation"}
MAX_RESULTS = 20
MAX_LABEL = 500


@dataclass(frozen=True)
class Concept:
    uri: str
    label: str
    kind: str  # "skill" or "occupation"

    def alignment(self) -> dict[str, str]:
        """The OB 3.0 Alignment the designer stores for this concept."""
        return {"targetName": self.label, "targetUrl": self.uri, "targetFramework": ESCO_FRAMEWORK,
                "targetCode": self.uri.rsplit("/", 1)[1], "targetType": TARGET_TYPES[self.kind]}


def _kind(uri: str) -> str | None:
    return next((kind for prefix, kind in _PREFIXES.items() if uri.startswith(prefix) and len(uri) > len(prefix)),
                None)


def parse_esco_csv(text: str) -> Iterator[Concept]:
    """Concepts of an ESCO CSV file; a row that is not an ESCO skill or occupation is refused
    with its number, never skipped (labels span lines, so the row ends on a later line)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"conceptUri", "preferredLabel"} <= set(reader.fieldnames):
        raise BadInput("not an ESCO CSV file: the columns conceptUri and preferredLabel are missing")
    for n, row in enumerate(reader, start=1):
        uri, label = (row.get("conceptUri") or "").strip(), " ".join((row.get("preferredLabel") or "").split())
        kind = _kind(uri)
        if kind is None or len(uri) > 300:
            raise BadInput(f"row {n} (ending on line {reader.line_num}): {uri[:100]!r} is not an ESCO skill or "
                           "occupation URI")
        if not label or len(label) > MAX_LABEL:
            raise BadInput(f"row {n} (ending on line {reader.line_num}): the preferred label is missing or too long")
        yield Concept(uri, label, kind)


@lru_cache(maxsize=1)
def starter_index() -> tuple[Concept, ...]:
    """The shipped starter subset (a few dozen real ESCO concepts, not the full classification)."""
    text = resources.files(__package__).joinpath("esco_starter.csv").read_text("utf-8")
    return tuple(parse_esco_csv(text))


def import_concepts(session: Session, concepts: Iterator[Concept]) -> int:
    """Insert or update (by URI) every concept; returns how many. Flushes, never commits: a
    refused row anywhere in the file stores nothing."""
    table = SkillConcept.__table__
    count = 0
    for concept in concepts:
        values = {"uri": concept.uri, "label": concept.label, "kind": concept.kind, "search": concept.label.lower()}
        stmt = dialect_insert(session, table).values(**values)
        session.execute(stmt.on_conflict_do_update(index_elements=["uri"], set_={
            "label": values["label"], "kind": values["kind"], "search": values["search"]}))
        count += 1
    session.flush()
    return count


def search(session: Session, query: str, limit: int = MAX_RESULTS) -> list[Concept]:
    """Concepts whose preferred label contains every word of `query` (at least 2 characters):
    labels starting with the query first, then those holding it as a phrase; the starter
    index and the imported set together."""
    words = query.lower().split()
    if len(" ".join(words)) < 2:
        raise BadInput("type at least 2 characters to search skills", detail={"field": "q"})
    found = {c.uri: c for c in starter_index() if all(w in c.label.lower() for w in words)}
    like = [SkillConcept.search.contains(w, autoescape=True) for w in words[:8]]
    for row in session.scalars(select(SkillConcept).where(*like).order_by(SkillConcept.label).limit(limit * 5)):
        found[row.uri] = Concept(row.uri, row.label, row.kind)
    first = " ".join(words)
    ranked = sorted(found.values(), key=lambda c: (not c.label.lower().startswith(first), first not in c.label.lower(),
                                                   c.label.lower()))
    return ranked[:limit]


def find_concept(uri: str) -> Concept:
    """A concept of the starter index by URI (the demo's badges use these)."""
    for concept in starter_index():
        if concept.uri == uri:
            return concept
    raise NotFound(f"no ESCO concept {uri} in the starter index")
