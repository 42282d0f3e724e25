"""LTI 1.3 tool side: pylti1p3 behind our own tool configuration (SQLAlchemy), launch
recording, deep linking, dynamic registration and the LTI Advantage client (AGS, NRPS)."""
