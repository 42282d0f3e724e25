"""ESCO skills and occupations: the shipped starter index (real ESCO v1.2.0 concepts), the
import of ESCO's published CSV (all of a file or nothing, upsert by URI) through the CLI,
and search over both."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lti_badger.app import build_services
from lti_badger.cli import main
from lti_badger.errors import BadInput
from lti_badger.models import SkillConcept
from lti_badger.settings import load_settings
from lti_badger.skills.services import find_concept, import_concepts, parse_esco_csv, search, starter_index

HEADER = ("conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,hiddenLabels,status,"
          "modifiedDate,scopeNote,definition,inScheme,description\n")
ROW = ('KnowledgeSkillCompetence,http://data.europa.eu/esco/skill/{id},skill/competence,sector-specific,{label},'
       '"alt one\nalt two",,released,2023-01-01T00:00:00Z,,,http://data.europa.eu/esco/concept-scheme/skills,"A, b."\n')
ESCO_URI = re.compile(r"^http://data\.europa\.eu/esco/(skill|occupation)/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                      r"[0-9a-f]{4}-[0-9a-f]{12}$")


def test_the_starter_index_holds_real_esco_uris():
    concepts = starter_index()
    assert len(concepts) >= 40 and len({c.uri for c in concepts}) == len(concepts)
    assert all(ESCO_URI.match(c.uri) and c.uri.split("/")[-2] == c.kind for c in concepts)
    biologist = find_concept("http://data.europa.eu/esco/occupation/eee68e13-8248-43bb-a9fb-959832a6c217")
    assert biologist.label == "biologist" and biologist.alignment() == {
        "targetName": "biologist", "targetUrl": biologist.uri, "targetFramework": "ESCO",
        "targetCode": "eee68e13-8248-43bb-a9fb-959832a6c217", "targetType": "ext:ESCOOccupation"}


def test_search_ranks_labels_starting_with_the_words_first(db):
    found = search(db, "research")
    labels = [c.label for c in found]
    assert labels[0].startswith("research") or all("research" in label for label in labels)
    assert "perform scientific research" in labels and "manage research data" in labels
    assert [c.label for c in search(db, "think crit")] == ["think critically"]
    with pytest.raises(BadInput):
        search(db, " a ")


def test_import_upserts_and_search_finds_imported_concepts(db):
    text = HEADER + ROW.format(id="1111", label="use microscopes") + ROW.format(id="2222", label="grow cell cultures")
    assert import_concepts(db, parse_esco_csv(text)) == 2
    assert [c.uri for c in search(db, "microscope")] == ["http://data.europa.eu/esco/skill/1111"]
    import_concepts(db, parse_esco_csv(HEADER + ROW.format(id="1111", label="operate microscopes")))
    assert db.scalar(select(func.count()).select_from(SkillConcept)) == 2
    assert [c.label for c in search(db, "microscope")] == ["operate microscopes"]


@pytest.mark.parametrize("text, words", [
    ("name,uri\nx,y\n", "columns conceptUri and preferredLabel"),
    (HEADER + ROW.format(id="1", label="ok").replace("esco/skill/1", "esco/isco/C1"), r"row 1 \(ending on line 3\)"),
    (HEADER + ROW.format(id="1", label=""), "preferred label is missing"),
])
def test_a_bad_file_is_refused_with_a_message(text, words):
    with pytest.raises(BadInput, match=words):
        list(parse_esco_csv(text))


@pytest.fixture
def instance(tmp_path, database_url, clean_engine, monkeypatch):
    monkeypatch.setenv("LTI_BADGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LTI_BADGER_INSTANCE_PATH", str(tmp_path / "instance"))
    services = build_services(load_settings())
    yield services
    services.engine.dispose()


def _count(services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(SkillConcept))


def test_cli_imports_all_files_or_nothing(instance, tmp_path):
    skills = tmp_path / "skills_en.csv"
    skills.write_text(HEADER + ROW.format(id="1111", label="use microscopes"), encoding="utf-8")
    occupations = tmp_path / "occupations_en.csv"
    occupations.write_text("conceptType,conceptUri,iscoGroup,preferredLabel\n"
                           "Occupation,http://data.europa.eu/esco/occupation/3333,2131,cell biologist\n",
                           encoding="utf-8")
    broken = tmp_path / "broken.csv"
    broken.write_text(HEADER + "KnowledgeSkillCompetence,https://elsewhere.example/x,,,label\n", encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(main, ["skills", "import-esco", str(skills), str(broken)])
    assert refused.exit_code != 0 and "is not an ESCO skill or occupation URI" in refused.output
    assert _count(instance) == 0
    result = runner.invoke(main, ["skills", "import-esco", str(skills), str(occupations)])
    assert result.exit_code == 0, result.output
    assert "skills_en.csv: 1 concepts" in result.output and _count(instance) == 2
    found = runner.invoke(main, ["skills", "search", "cell", "biologist"])
    assert "occupation cell biologist  http://data.europa.eu/esco/occupation/3333" in found.output
