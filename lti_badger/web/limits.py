"""Every request body has a limit, checked before anything reads it: the whole body
(`MAX_CONTENT_LENGTH`, the `max_content_length` setting) and each form field held in memory
(Flask's `MAX_FORM_MEMORY_SIZE`). Beyond either the answer is 413 with a message saying which
limit, the view never runs, and so nothing is stored. JSON nesting is limited where JSON is
parsed (`lti_badger.jsonbody`, a 400). Numbers in URLs are bounded like the ids they name. A NUL
character in the query or a form field is a 400 too (PostgreSQL cannot store one in text; found by
tests/security/test_fuzz_parsers.py)."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from werkzeug.routing import IntegerConverter

from ..errors import BadInput, PayloadTooLarge

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER column holds (SQLite and PostgreSQL agree up to here)


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: a number no row can have is a 404, not a database error."""

    def __init__(self, map, min: int = 0, max: int = MAX_ROW_ID, **kwargs) -> None:  # noqa: A002 - werkzeug's names
        super().__init__(map, min=min, max=max, **kwargs)


def too_large() -> PayloadTooLarge:
    """The refusal for this request: the whole body, or one form field, over its limit."""
    body_limit = request.max_content_length
    # The error page must not read the form again (it is what failed): render it without a launch.
    g.setdefault("scope", None)
    if request.content_length is None or request.content_length > body_limit:
        return PayloadTooLarge(f"the request body is larger than {body_limit // 1024} KiB, the limit of this tool")
    field_limit = current_app.config["MAX_FORM_MEMORY_SIZE"]
    return PayloadTooLarge(f"a form field is larger than {field_limit // 1024} KiB, the limit of this tool")


def init_limits(app: Flask) -> None:
    """Register before anything that reads the body (CSRF reads the form), and before the
    blueprints (their routes' `int` converter). Werkzeug's own 413 (a form field, or a body
    without a length) becomes `too_large()` in `web.errors`."""
    app.url_map.converters["int"] = RowIdConverter

    @app.before_request
    def _refuse_oversized_body() -> None:
        # `request.max_content_length` is the app's limit unless a route raised its own (the designer).
        if request.content_length is not None and request.content_length > request.max_content_length:
            raise too_large()
        fields = [request.args] + ([request.form] if request.mimetype in _FORMS else [])
        if any("\x00" in (key or "") or "\x00" in (value or "")  # a malformed multipart part may have no name
               for values in fields for key, value in values.items(multi=True)):
            raise BadInput("the request contains a NUL character, which this tool does not store")
