"""Logs on stderr: one JSON object per line in production (with any `extra=` fields kept), or a
short readable line on a terminal (the demo, `serve` in a TTY). Every line carries the id of the
request it belongs to (`X-Request-ID`, accepted or made up by `web.request_id`), "-" outside one.

The `log_format` setting chooses: "json", "text", or "auto" (text when stderr is a terminal)."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone

NO_REQUEST = "-"

request_id: ContextVar[str] = ContextVar("lti_badger_request_id", default=NO_REQUEST)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def _extras(record: logging.LogRecord) -> dict:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class RequestIdFilter(logging.Filter):
    """Stamps the current request id on every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", NO_REQUEST),
            "msg": record.getMessage(),
        }
        body.update(_extras(record))
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


class TextFormatter(logging.Formatter):
    """`12:03:04 WARNING deliveries.worker [3f2a…] attempt failed  delivery_id=7 error=…`:
    one line per record; a traceback only for errors (warnings name the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        name = record.name.removeprefix("lti_badger.")
        rid = getattr(record, "request_id", NO_REQUEST)
        line = f"{when} {record.levelname:<7} {name} [{rid[:8]}] {record.getMessage()}"
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        if extras:
            line += "  " + extras
        if record.exc_info:
            if record.levelno >= logging.ERROR:
                line += "\n" + self.formatException(record.exc_info)
            elif record.exc_info[1] is not None:
                line += f"  ({type(record.exc_info[1]).__name__}: {str(record.exc_info[1])[:200]})"
        return line


def pick_formatter(log_format: str = "auto", stream=None) -> logging.Formatter:
    stream = stream or sys.stderr
    if log_format == "auto":
        log_format = "text" if getattr(stream, "isatty", lambda: False)() else "json"
    return TextFormatter() if log_format == "text" else JsonFormatter()


def configure_logging(log_format: str = "auto", level: int = logging.INFO) -> None:
    """Once per process: our handler on the `lti_badger` logger (the first app's format wins)."""
    root = logging.getLogger("lti_badger")
    if any(getattr(h, "lti_badger", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.lti_badger = True  # type: ignore[attr-defined]
    handler.setFormatter(pick_formatter(log_format, sys.stderr))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
