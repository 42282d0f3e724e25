"""The request id on every log line of a request (accepted from X-Request-ID and returned),
"-" outside a request."""

from __future__ import annotations

import io
import json
import logging
import uuid

from lti_badger.logging import JsonFormatter, RequestIdFilter


def test_every_line_of_a_request_carries_its_request_id(client):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("lti_badger")
    logger.addHandler(handler)
    try:
        answer = client.get(f"/credentials/{uuid.uuid4()}.json", headers={"X-Request-ID": "edge-42",
                                                                        "Accept": "application/json"})
        logging.getLogger("lti_badger.test").info("outside any request")
    finally:
        logger.removeHandler(handler)
    assert answer.status_code == 404 and answer.headers["X-Request-ID"] == "edge-42"
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    refused = [line for line in lines if line["msg"] == "request refused"]
    assert refused and all(line["request_id"] == "edge-42" for line in refused)
    assert lines[-1]["msg"] == "outside any request" and lines[-1]["request_id"] == "-"
