"""Structured logs carry ids and never a token, whatever library logged it."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import JsonFormatter
from bot.redaction import RedactingFormatter, Redactor

TOKEN = "123456789:AAE-secret-token"


def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(JsonFormatter(), Redactor([TOKEN])))
    logger = logging.getLogger("test.logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_lines_with_ids_and_no_token() -> None:
    logger, stream = capture()
    logger.info(
        "HTTP Request: POST https://api.telegram.org/bot%s/getUpdates",
        TOKEN,
        extra={"job": "j00001", "user": 42, "url": f"/bot{TOKEN}/x"},
    )
    try:
        raise RuntimeError(f"failed calling /bot{TOKEN}/sendPhoto")
    except RuntimeError:
        logger.exception("boom", extra={"chat": -100})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["job"] == "j00001" and lines[0]["user"] == 42
    assert lines[1]["chat"] == -100 and "RuntimeError" in lines[1]["exc"]
    assert TOKEN not in stream.getvalue() and "/bot***/getUpdates" in lines[0]["msg"]
