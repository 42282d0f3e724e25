"""Open Badges 3.0 credentials: compose, sign (eddsa-rdfc-2022), verify, status lists,
baking and the issuer's DID document. No Flask or pylti1p3 in this package."""

from .services import IssuerProfile, issue_credential
from .status import set_status
from .verify import Verification, verify_credential

__all__ = ["IssuerProfile", "Verification", "issue_credential", "set_status", "verify_credential"]
