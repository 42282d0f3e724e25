"""The OB 3.0 JSON schema check: the official schema as shipped, unchanged, and the fast
compiled validator never accepts what the official validator rejects."""

from __future__ import annotations

import json
import random
from pathlib import Path

from .samples import random_credential


def test_fast_schema_check_never_accepts_what_the_official_validator_rejects():
    import copy

    from lti_badger.credentials import schema

    rng = random.Random(11)
    for _ in range(30):
        document = random_credential(rng)
        document["proof"] = [{"type": "DataIntegrityProof", "created": "2025-01-01T00:00:00Z"}]
        mutations = [lambda d: d["credentialSubject"]["achievement"].pop("criteria"),
                     lambda d: d.update(type=["VerifiableCredential"]),
                     lambda d: d["credentialSubject"].update(identifier=[{"type": "IdentityObject"}]),
                     lambda d: d.update(proof=d["proof"][0]),
                     lambda d: d["issuer"].pop("id"),
                     lambda d: d.update({"@context": ["https://www.w3.org/ns/credentials/v2"]})]
        for mutate in [lambda d: None, *mutations]:
            changed = copy.deepcopy(document)
            mutate(changed)
            if schema._fast_ok(changed):
                assert schema._slow_errors(changed) == []
            else:
                assert mutate is not None
        one_entry = isinstance(document["credentialStatus"], dict)
        assert (schema.schema_errors(document) == []) is one_entry


def test_schema_check_is_the_official_schema_unchanged():
    """The default credential (one status object) is valid; a status list, as the two-entry
    mode writes it, is reported, since the official schema wants one object."""
    from pathlib import Path

    from lti_badger.credentials import schema

    shipped = Path(schema.__file__).parent / "schemas" / schema.SCHEMA_FILE
    official = Path(__file__).parents[2] / "data" / "ob3-schema" / schema.SCHEMA_FILE
    assert shipped.read_bytes() == official.read_bytes()
    document = json.loads((Path(__file__).parent / "golden" / "credential.json").read_text())
    assert isinstance(document["credentialStatus"], dict)
    assert schema.schema_errors(document) == []
    entry = document["credentialStatus"]
    document["credentialStatus"] = [entry, {**entry, "statusPurpose": "suspension"}]
    errors = schema.schema_errors(document)
    assert errors and all(e.startswith("credentialStatus") for e in errors)
    document["credentialStatus"] = {"type": "BitstringStatusListEntry"}
    assert schema.schema_errors(document) == ["credentialStatus: 'id' is a required property"]


def test_verifier_never_raises_on_mangled_credentials():
    """A fuzz: values replaced by other JSON types and JSON-LD keywords give a verdict (or a
    domain error), never an unexpected exception."""
    import copy
    from datetime import datetime, timezone
    from pathlib import Path

    from lti_badger.credentials.verify import MapSource, verify_credential
    from lti_badger.errors import BadgerError

    golden = json.loads((Path(__file__).parent / "golden" / "credential.json").read_text())
    values = [None, 1, 1.5, True, "", "x", "@id", "_:b0", "http://x", [], {}, {"@id": 3},
              {"@value": 1, "@type": "x"}, {"@context": {"a": "@type"}}, {"@list": [1]}, "did:web:x#y"]

    def paths(node, prefix=()):
        if prefix:
            yield prefix
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            yield from paths(value, prefix + (key,))

    every = list(paths(golden))
    rng = random.Random(0)
    for _ in range(300):
        document = copy.deepcopy(golden)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(every)
            target = document
            try:
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = rng.choice(values)
            except (KeyError, IndexError, TypeError):
                continue
        try:
            result = verify_credential(document, status_source=MapSource({}), now=datetime.now(timezone.utc))
        except BadgerError:
            continue
        assert not result.valid


def test_a_match_is_remembered_by_shape_and_constrained_values_only():
    """Credentials of one shape share a match; a date that is not one, or a value outside an
    enumeration, in that same shape is still caught, and a mismatch is never remembered."""
    import copy
    from pathlib import Path

    from lti_badger.credentials import schema
    from lti_badger.credentials.jsonld import Walk

    golden = json.loads((Path(__file__).parent / "golden" / "credential.json").read_text())

    def errors_of(change) -> list[str]:
        document = copy.deepcopy(golden)
        change(document)
        return schema.schema_errors(document, walk=Walk(document))

    assert errors_of(lambda d: None) == []
    remembered = len(schema._matches)
    assert errors_of(lambda d: d["credentialSubject"]["achievement"].update(name="Another Badge")) == []
    assert len(schema._matches) == remembered  # an unconstrained value: the same match
    assert errors_of(lambda d: d.update(validFrom="2025-03-01T10:00:00Z")) == []
    assert len(schema._matches) == remembered  # another valid date: the same match

    def bad_date(d):
        d["validFrom"] = "2025-02-30T10:00:00Z"

    def bad_type(d):
        d["credentialSubject"]["achievement"]["achievementType"] = "Diploma Mill"

    for change, where in ((bad_date, "validFrom"), (bad_type, "credentialSubject/achievement/achievementType")):
        for _ in range(2):  # the second time too: a mismatch is not remembered
            found = errors_of(change)
            assert found and found[0].startswith(where), found


def test_a_credential_nested_too_deep_is_refused_on_its_format_whatever_its_kind():
    """Deeper than the parser's limit, given as an object (not parsed from text here): a
    verdict on the format, before anything recursive reads it; just under it, checked as usual."""
    from datetime import datetime, timezone

    from lti_badger.credentials.verify import MapSource, verify_credential
    from lti_badger.jsonbody import MAX_DEPTH, depth_of

    def nested(levels: int) -> list:
        value: list = []
        for _ in range(levels - 1):
            value = [value]
        return value

    golden = json.loads((Path(__file__).parent / "golden" / "credential.json").read_text())
    ob2 = {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": "https://example.org/a/1"}
    enveloped = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "EnvelopedVerifiableCredential"}
    now = datetime.now(timezone.utc)
    for document in (golden, ob2, enveloped):
        for levels, refused in ((5000, True), (MAX_DEPTH, True), (MAX_DEPTH - 1, False)):
            deep = {**document, "extra": nested(levels)}  # the member sits one level under the top
            assert (depth_of(deep) > MAX_DEPTH) is refused  # the parser's count, the same limit
            result = verify_credential(deep, status_source=MapSource({}), now=now)
            assert (result.state_of("format") == "failed" and "nested more than" in result.verdict) is refused, \
                (levels, result.verdict)
