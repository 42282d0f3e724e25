"""Log lines: JSON off a terminal, one short readable line on it, with the request id."""

from __future__ import annotations

import io
import logging

import pytest

from lti_badger.logging import JsonFormatter, TextFormatter, pick_formatter
from lti_badger.settings import load_settings


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def record(level=logging.WARNING, msg="delivery attempt", exc=None, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("lti_badger.deliveries.worker", level, __file__, 1, msg, (), exc)
    rec.__dict__.update(extra)
    return rec


def test_auto_is_text_on_a_terminal_and_json_elsewhere():
    assert isinstance(pick_formatter("auto", Tty()), TextFormatter)
    assert isinstance(pick_formatter("auto", io.StringIO()), JsonFormatter)
    assert isinstance(pick_formatter("json", Tty()), JsonFormatter)
    assert isinstance(pick_formatter("text", io.StringIO()), TextFormatter)
    with pytest.raises(ValueError, match="log_format"):
        load_settings({"log_format": "xml"}, environ={})


def test_a_text_line_is_one_line_with_the_request_id_and_the_fields():
    try:
        raise ConnectionError("token endpoint refused")
    except ConnectionError:
        import sys
        exc = sys.exc_info()
    line = TextFormatter().format(record(exc=exc, request_id="3f2a9c1d77", delivery_id=7, status="pending"))
    assert "\n" not in line
    assert " WARNING deliveries.worker [3f2a9c1d] delivery attempt  delivery_id=7 status=pending" in line
    assert line.endswith("(ConnectionError: token endpoint refused)")
    error = TextFormatter().format(record(logging.ERROR, exc=exc, request_id="-"))
    assert "Traceback" in error  # errors keep their traceback
