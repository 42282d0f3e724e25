"""lti_badger: an LTI 1.3 tool that turns course progress into signed Open Badges 3.0."""

__version__ = "0.1.0"
