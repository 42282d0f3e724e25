"""All models, imported here so Alembic and `Base.metadata` see every table."""

from .achievement import Achievement, AchievementVersion
from .award import AuditEvent, Award
from .backpack import AppPassword, BackpackToken
from .base import Base
from .course import Activity, Course, Enrollment, Module, Person, ResourceLink
from .credential import Credential, StatusEntry, StatusList
from .endorsement import Endorsement, Endorser
from .delivery import Delivery, DeliveryAttempt, PlatformCircuit, WebhookEndpoint
from .issuer import IssuerProfileRecord
from .lti_state import CacheEntry, UsedNonce
from .obapi import ApiToken, HostedCredential, HostedProfile, OAuthClient, OAuthCode, OAuthToken
from .platform import Deployment, Platform, RegistrationInvite
from .progress import Progress, ProgressEvent, ProgressSource
from .skill import SkillConcept
from .template import ApprovalRequest, CriteriaPolicy, CriteriaTemplate, GroupDefault, TemplateAttachment
from .wallet import WalletExchange

__all__ = [
    "Achievement", "AchievementVersion", "Activity", "AppPassword", "AuditEvent", "Award", "BackpackToken", "Base",
    "CacheEntry",
    "Course", "Credential", "Delivery", "DeliveryAttempt", "Deployment", "Endorsement", "Endorser", "Enrollment", "IssuerProfileRecord", "Module",
    "Person", "Platform", "Progress", "ProgressEvent", "ProgressSource", "RegistrationInvite", "ResourceLink",
    "SkillConcept", "StatusEntry", "StatusList", "UsedNonce", "WalletExchange", "WebhookEndpoint", "PlatformCircuit",
    "ApprovalRequest", "CriteriaPolicy", "CriteriaTemplate", "GroupDefault", "TemplateAttachment",
    "ApiToken", "HostedCredential", "HostedProfile", "OAuthClient", "OAuthCode", "OAuthToken",
]
