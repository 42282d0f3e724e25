"""Claim URIs, scopes and media types of LTI 1.3 and LTI Advantage, written down once.

- LTI 1.3 Core, message claims: https://www.imsglobal.org/spec/lti/v1p3/#required-message-claims
- Deep Linking 2.0: https://www.imsglobal.org/spec/lti-dl/v2p0
- Assignment and Grade Services 2.0: https://www.imsglobal.org/spec/lti-ags/v2p0
- Names and Role Provisioning 2.0: https://www.imsglobal.org/spec/lti-nrps/v2p0
- Dynamic Registration 1.0: https://www.imsglobal.org/spec/lti-dr/v1p0
"""

from __future__ import annotations

_LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = _LTI + "message_type"
VERSION = _LTI + "version"
DEPLOYMENT_ID = _LTI + "deployment_id"
TARGET_LINK_URI = _LTI + "target_link_uri"
RESOURCE_LINK = _LTI + "resource_link"
ROLES = _LTI + "roles"
CONTEXT = _LTI + "context"
TOOL_PLATFORM = _LTI + "tool_platform"
LAUNCH_PRESENTATION = _LTI + "launch_presentation"
CUSTOM = _LTI + "custom"
LIS = _LTI + "lis"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

LTI_VERSION = "1.3.0"
MSG_RESOURCE_LINK = "LtiResourceLinkRequest"
MSG_DEEP_LINKING = "LtiDeepLinkingRequest"
ACCEPTED_MESSAGE_TYPES = (MSG_RESOURCE_LINK, MSG_DEEP_LINKING)

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOOL_SCOPES = (SCOPE_LINEITEM, SCOPE_RESULT_READONLY, SCOPE_SCORE, SCOPE_NRPS)

MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# Custom parameters our deep-linked resource links carry (what the link opens).
CUSTOM_VIEW = "lti_badger_view"
VIEW_ALL = "all"  # custom view of the person placements: "All my badges", whatever context comes along
VIEW_BACKPACK = "backpack"  # a launch without a course that opens the backpack connection page
CUSTOM_ACHIEVEMENT = "lti_badger_achievement"
