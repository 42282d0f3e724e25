"""Open Badges 2.0 views of what the tool already issued, for consumers that do not read
OB 3.0 (Moodle's backpack client, OB 2.0 verifiers): a hosted Assertion, BadgeClass and
Issuer derived from the signed OB 3.0 credential document and the achievement, and the
Badgr-style JSON Moodle's `backpack_api.php` reads. Plain dicts in, plain dicts out.

Spec: https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html
(Assertion, BadgeClass, Profile, IdentityObject; "hosted" verification: a revoked hosted
Assertion answers 410 with `revoked: true`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit
from typing import Any

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
API_PREFIX = "/ob2"
DEFAULT_ISSUER_ID = "default"

# The OB 3.0 identityType names and their OB 2.0 recipient types.
_RECIPIENT_TYPES = {"emailAddress": "email", "url": "url", "phoneNumber": "telephone"}


@dataclass(frozen=True)
class Ob2Urls:
    """Where each OB 2.0 object of one award lives (stable: ids of rows that never change)."""

    base_url: str
    credential_id: str
    badgeclass_id: str
    issuer_id: str

    @property
    def assertion(self) -> str:
        return assertion_url(self.base_url, self.credential_id)

    @property
    def badgeclass(self) -> str:
        return badgeclass_url(self.base_url, self.badgeclass_id)

    @property
    def issuer(self) -> str:
        return issuer_url(self.base_url, self.issuer_id)

    @property
    def credential(self) -> str:
        return f"{self.base_url}/credentials/{self.credential_id}"


def api_url(base_url: str) -> str:
    """What an LMS admin types as the backpack's API URL."""
    return base_url.rstrip("/") + API_PREFIX


def token_endpoint(base_url: str) -> str:
    """Where Moodle logs in: the host root of the backpack URL, whatever its path and port."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.hostname}/o/token"


def assertion_url(base_url: str, credential_id: str) -> str:
    return f"{api_url(base_url)}/assertions/{credential_id}"


def badgeclass_id(achievement_public_id: str, version_number: int) -> str:
    return f"{achievement_public_id}-v{version_number}"


def badgeclass_url(base_url: str, entity_id: str) -> str:
    return f"{api_url(base_url)}/badgeclasses/{entity_id}"


def issuer_url(base_url: str, entity_id: str) -> str:
    return f"{api_url(base_url)}/issuers/{entity_id}"


def _image_id(image: Any) -> str:
    return image.get("id", "") if isinstance(image, dict) else (image or "")


def recipient(document: dict[str, Any]) -> dict[str, Any]:
    """The OB 2.0 IdentityObject: the credential's own salted hash (the e-mail one first),
    so the same learner identity is claimed in both versions and nothing new is revealed."""
    identifiers = [i for i in document.get("credentialSubject", {}).get("identifier", []) if i.get("hashed")]
    identifiers.sort(key=lambda i: i.get("identityType") != "emailAddress")
    if not identifiers:
        return {"type": "id", "hashed": False, "identity": document.get("credentialSubject", {}).get("id", "")}
    first = identifiers[0]
    kind = first.get("identityType", "")
    return {"type": _RECIPIENT_TYPES.get(kind, kind), "hashed": True, "salt": first.get("salt", ""),
            "identity": first["identityHash"]}


def hosted_assertion(document: dict[str, Any], urls: Ob2Urls, *, revoked: bool, reason: str | None) -> dict[str, Any]:
    """The hosted OB 2.0 Assertion; a revoked one carries only what the spec asks for."""
    if revoked:
        body = {"@context": OB2_CONTEXT, "type": "Assertion", "id": urls.assertion, "revoked": True}
        if reason:
            body["revocationReason"] = reason
        return body
    body = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": urls.assertion,
        "recipient": recipient(document),
        "badge": urls.badgeclass,
        "verification": {"type": "hosted"},
        "issuedOn": document.get("awardedDate") or document.get("validFrom"),
        # schema:url, in the OB 2.0 context: the signed OB 3.0 credential this view is made from
        "url": urls.credential,
    }
    if document.get("validUntil"):
        body["expires"] = document["validUntil"]
    return body


def hosted_badgeclass(achievement: dict[str, Any], *, badgeclass: str, issuer: str) -> dict[str, Any]:
    """The OB 2.0 BadgeClass of an OB 3.0 Achievement (as `compose_achievement` makes it)."""
    criteria = achievement.get("criteria", {})
    body = {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badgeclass,
        "name": achievement.get("name", ""),
        "description": achievement.get("description", ""),
        "image": _image_id(achievement.get("image")),
        "criteria": {k: v for k, v in (("id", criteria.get("id")), ("narrative", criteria.get("narrative"))) if v},
        "issuer": issuer,
    }
    alignments = [{"targetName": a.get("targetName", ""), "targetUrl": a.get("targetUrl", ""),
                   **{k: a[k] for k in ("targetFramework", "targetCode") if a.get(k)}}
                  for a in achievement.get("alignment", []) if a.get("targetUrl")]
    if alignments:
        body["alignment"] = alignments
    if achievement.get("tag"):
        body["tags"] = list(achievement["tag"])
    return body


def hosted_issuer(profile: dict[str, Any], *, issuer: str) -> dict[str, Any]:
    """The OB 2.0 Issuer Profile of an OB 3.0 Profile (name, url, email, image)."""
    body = {"@context": OB2_CONTEXT, "type": "Issuer", "id": issuer, "name": profile.get("name", ""),
            "url": profile.get("url", "")}
    if profile.get("email"):
        body["email"] = profile["email"]
    if _image_id(profile.get("image")):
        body["image"] = _image_id(profile.get("image"))
    return body


# --- the Badgr-style backpack API (what Moodle's backpack_api.php reads) ------------------------

def api_issuer(profile: dict[str, Any], urls: Ob2Urls) -> dict[str, Any]:
    """Moodle's issuer_exporter reads entityType, entityId, name, email and url (all present)."""
    return {"entityType": "Issuer", "entityId": urls.issuer_id, "openBadgeId": urls.issuer,
            "name": profile.get("name", ""), "email": profile.get("email", ""), "url": profile.get("url", "")}


def api_assertion(document: dict[str, Any], urls: Ob2Urls) -> dict[str, Any]:
    """One assertion expanded with its badge class and issuer (Moodle asks with
    `expand=badgeclass&expand=issuer`); built from the credential as it was signed."""
    achievement = document.get("credentialSubject", {}).get("achievement", {})
    criteria = achievement.get("criteria", {})
    badgeclass = {
        "entityType": "BadgeClass",
        "entityId": urls.badgeclass_id,
        "openBadgeId": urls.badgeclass,
        "name": achievement.get("name", ""),
        "image": _image_id(achievement.get("image")),
        "description": achievement.get("description", ""),
        "criteriaUrl": criteria.get("id", ""),
        "criteriaNarrative": criteria.get("narrative", ""),
        "issuer": api_issuer(document.get("issuer", {}), urls),
    }
    return {
        "entityType": "Assertion",
        "entityId": urls.credential_id,
        "openBadgeId": urls.assertion,
        "issuedOn": document.get("awardedDate") or document.get("validFrom"),
        "expires": document.get("validUntil"),
        "recipient": recipient(document),
        "badgeclass": badgeclass,
        "image": urls.credential + ".png",
        "revoked": False,
        "revocationReason": None,
        "acceptance": "Accepted",
    }


def api_collection(entity_id: str, name: str, description: str, share_url: str,
                   assertion_ids: list[str]) -> dict[str, Any]:
    """Moodle's collection_exporter reads all of these; `published` false: nothing here is
    public beyond the credentials' own pages."""
    return {"entityType": "BackpackCollection", "entityId": entity_id, "name": name, "description": description,
            "share_url": share_url, "published": False, "assertions": assertion_ids}
