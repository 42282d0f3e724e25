"""Demo step of the credentials part: after the awards steps, write every issued credential
(JSON, baked PNG and SVG), every status list credential, and an interop verifier `--docs`
map so the whole output can be checked offline (tests/interop, after `npm ci` there):

    DIR/credentials/<id>.json|.png|.svg   DIR/status/<list id>.json   DIR/docs.json
    DIR/endorsements/<id>.json (with each endorser's DID document and status list in docs.json)

    node tests/interop/verify.mjs DIR/credentials/<id>.json --docs DIR/docs.json --strict --require-status
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..credentials.baking import badge_images, bake_png, bake_svg
from ..credentials.did import did_document, did_document_url
from ..credentials.jsonld import served_contexts
from ..credentials.services import IssuerProfile, LocalSource
from ..credentials.status import status_list_url
from ..credentials.verify import REVOKED, SUSPENDED, verify_credential
from ..models import AchievementVersion, Award, Credential, Endorsement, StatusList

if TYPE_CHECKING:
    from .demo import DemoRun

EXPECTED_VERDICTS = ("VERIFIED", f"FAILED: {REVOKED}", f"FAILED: {SUSPENDED}")


def step_write_credentials(run: "DemoRun") -> None:
    issuer = IssuerProfile.from_settings(run.settings)
    out: dict[str, Any] = {"issuer": issuer.did, "credentials": [], "status_lists": []}
    files: dict[str, bytes] = {}
    docs: dict[str, Any] = {}
    with run.sessions() as session:
        source = LocalSource(session, issuer, run.keys)
        now = datetime.now(timezone.utc)
        for credential in session.scalars(select(Credential).order_by(Credential.issued_at, Credential.id)):
            if not credential.document:
                continue
            award = session.get(Award, credential.award_id)
            version = session.get(AchievementVersion, award.version_id)
            png, svg = badge_images(version.name, version.image, version.image_type,
                                    (version.details or {}).get("image_template"))
            files[f"credentials/{credential.id}.json"] = credential.document.encode("utf-8")
            files[f"credentials/{credential.id}.png"] = bake_png(png.data, credential.document)
            files[f"credentials/{credential.id}.svg"] = bake_svg(svg.data, credential.document)
            document = json.loads(credential.document)
            docs.update(served_contexts(document))
            verdict = verify_credential(document, status_source=source, now=now).verdict
            out["credentials"].append({"id": credential.id, "award_id": award.id, "achievement": version.name,
                                       "award_status": award.status, "verdict": verdict})
        did_doc = did_document(issuer.did, run.keys)
        docs[issuer.did] = did_doc
        docs[did_document_url(issuer.base_url)] = did_doc
        for status_list in session.scalars(select(StatusList).order_by(StatusList.id)):
            url = status_list_url(issuer.base_url, status_list.id)
            document = source.get(url)
            docs[url] = document
            files[f"status/{status_list.id}.json"] = json.dumps(document, indent=2).encode("utf-8")
            out["status_lists"].append({"id": status_list.id, "url": url, "purpose": status_list.purpose})
        out["endorsements"] = _endorsements(session, source, issuer.base_url, now, files, docs)
    files["docs.json"] = json.dumps(docs, indent=2).encode("utf-8")
    if run.out is not None:
        for name, data in files.items():
            path = run.out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    out["count"] = len(out["credentials"])
    out["ok"] = (out["count"] > 0 and all(c["verdict"] in EXPECTED_VERDICTS for c in out["credentials"])
                 and all(e["verdict"] in EXPECTED_VERDICTS for e in out["endorsements"]))
    run.summary["credentials"] = out


def _endorsements(session, source: LocalSource, base_url: str, now: datetime, files: dict[str, bytes],
                  docs: dict[str, Any]) -> list[dict[str, Any]]:
    """Every signed endorsement, with its endorser's DID document and status list for the docs map."""
    out = []
    for row in session.scalars(select(Endorsement).where(Endorsement.document.is_not(None)).order_by(Endorsement.id)):
        document = json.loads(row.document)
        files[f"endorsements/{row.public_id}.json"] = row.document.encode("utf-8")
        did = document["issuer"]["id"]
        status = document["credentialStatus"]["statusListCredential"]
        docs[did] = source.get(did)
        docs[status] = source.get(status)
        out.append({"id": row.public_id, "endorser": document["issuer"]["name"],
                    "verdict": verify_credential(document, status_source=source, now=now).verdict})
    return out


CREDENTIAL_STEPS = [("write_credentials", step_write_credentials)]
