"""LTI 1.3 / LTI Advantage names the simulator speaks: claim URIs, scopes, media types and LIS
roles, written down once so the simulator follows the specs rather than our own tool.

- LTI 1.3 Core, section 5: https://www.imsglobal.org/spec/lti/v1p3/#required-message-claims
- Deep Linking 2.0: https://www.imsglobal.org/spec/lti-dl/v2p0
- AGS 2.0 media types and scopes: https://www.imsglobal.org/spec/lti-ags/v2p0
- NRPS 2.0: https://www.imsglobal.org/spec/lti-nrps/v2p0
- Dynamic Registration 1.0: https://www.imsglobal.org/spec/lti-dr/v1p0
"""

from __future__ import annotations

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = LTI + "message_type"
CLAIM_VERSION = LTI + "version"
CLAIM_DEPLOYMENT_ID = LTI + "deployment_id"
CLAIM_TARGET_LINK_URI = LTI + "target_link_uri"
CLAIM_RESOURCE_LINK = LTI + "resource_link"
CLAIM_ROLES = LTI + "roles"
CLAIM_CONTEXT = LTI + "context"
CLAIM_TOOL_PLATFORM = LTI + "tool_platform"
CLAIM_LAUNCH_PRESENTATION = LTI + "launch_presentation"
CLAIM_CUSTOM = LTI + "custom"
CLAIM_LIS = LTI + "lis"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CLAIM_DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
CLAIM_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
CLAIM_DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
CLAIM_DL_ERRORMSG = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"

LTI_VERSION = "1.3.0"
MSG_RESOURCE_LINK = "LtiResourceLinkRequest"
MSG_DEEP_LINKING = "LtiDeepLinkingRequest"
MSG_DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"

# Short names accepted by `LmsSimulator.launch(**overrides)` for the long claim URIs.
SHORT_CLAIMS = {
    "message_type": CLAIM_MESSAGE_TYPE,
    "version": CLAIM_VERSION,
    "deployment_id": CLAIM_DEPLOYMENT_ID,
    "target_link_uri": CLAIM_TARGET_LINK_URI,
    "resource_link": CLAIM_RESOURCE_LINK,
    "roles": CLAIM_ROLES,
    "context": CLAIM_CONTEXT,
    "tool_platform": CLAIM_TOOL_PLATFORM,
    "launch_presentation": CLAIM_LAUNCH_PRESENTATION,
    "custom": CLAIM_CUSTOM,
    "ags": CLAIM_AGS,
    "nrps": CLAIM_NRPS,
    "deep_linking_settings": CLAIM_DL_SETTINGS,
}

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
ALL_SCOPES = AGS_SCOPES + (SCOPE_NRPS,)

MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ROLE_TEACHING_ASSISTANT = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
ROLE_CONTENT_DEVELOPER = "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"
ROLE_INST_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
ROLE_INST_STUDENT = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
ROLE_INST_FACULTY = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"
ROLE_SYS_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"

CONTEXT_COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

DR_PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
DR_TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
