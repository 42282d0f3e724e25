"""A built-in LTI 1.3 platform (LMS simulator) for tests and `lti-badger demo`.

    sim = LmsSimulator().start()
    sim.register_tool(tool_url)
    sim.add_course("c1", "Biology"); sim.add_user("u1", "Ada Lovelace", "ada@example.org")
    sim.enroll("c1", "u1", [ROLE_LEARNER])
    response = sim.launch(requests.Session(), "u1", "c1")
"""

from .core import LaunchFailed, LaunchForm, ToolKeysUnavailable, parse_form
from .simulator import LmsSimulator
from .spec import (
    ROLE_CONTENT_DEVELOPER,
    ROLE_INST_ADMIN,
    ROLE_INST_FACULTY,
    ROLE_INST_STUDENT,
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    ROLE_SYS_ADMIN,
    ROLE_TEACHING_ASSISTANT,
)

__all__ = [
    "LaunchFailed", "LaunchForm", "LmsSimulator", "ToolKeysUnavailable", "parse_form",
    "ROLE_CONTENT_DEVELOPER", "ROLE_INST_ADMIN", "ROLE_INST_FACULTY", "ROLE_INST_STUDENT", "ROLE_INSTRUCTOR",
    "ROLE_LEARNER", "ROLE_SYS_ADMIN", "ROLE_TEACHING_ASSISTANT",
]
