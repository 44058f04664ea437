"""Secrets never reach logs, tracebacks or the terminal, in any spelling."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap

from bot.config import with_password
from bot.logs import JsonFormatter, TextFormatter
from bot.redaction import RedactingFormatter, RedactingStream, Redactor, url_secrets

TOKEN = "123456789:AAE-test-secret-half-of-the-token"
HALF = TOKEN.split(":")[1]
# shaped like the real thing, but too short to pass for a real one (only the parts
# the redaction looks for are long enough)
DISCORD = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GabcDE.test-signature-part-01"
REDIS_PASSWORD = "p%40ss%2Fword-xyz"  # percent-encoded, as a URL carries it
REDIS_URL = with_password("redis://127.0.0.1:6379/0", "p@ss/word-xyz")  # as config makes it


def all_spellings() -> list[str]:
    return [TOKEN, TOKEN.replace(":", "%3A"), TOKEN.replace(":", "%3a"), HALF, DISCORD,
            DISCORD.split(".")[2], "p@ss/word-xyz", REDIS_PASSWORD]


def test_every_spelling_of_every_secret_is_masked() -> None:
    redact = Redactor([TOKEN, DISCORD, *url_secrets(REDIS_URL)])
    for spelling in all_spellings():
        text = f"GET https://api.telegram.org/bot{spelling}/getMe failed"
        assert spelling not in redact(text), spelling
        assert "***" in redact(text)
    assert redact("nothing secret here") == "nothing secret here"
    assert redact(json.dumps({"pw": "p@ss/word-xyz"})) == '{"pw": "***"}'


def test_short_or_public_parts_are_left_alone() -> None:
    redact = Redactor([TOKEN])
    assert redact("bot 123456789 is up") == "bot 123456789 is up"  # the public bot id


class Leaky:
    def __repr__(self) -> str:
        return f"<Leaky {TOKEN}>"


def test_log_records_are_redacted_whatever_the_types() -> None:
    redact = Redactor([TOKEN])
    for formatter in (JsonFormatter(), TextFormatter()):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(RedactingFormatter(formatter, redact))
        logger = logging.getLogger(f"test.redaction.{type(formatter).__name__}")
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.warning("url /bot%s/x", TOKEN.replace(":", "%3A"),
                       extra={"obj": Leaky(), "numbers": [HALF], "job": "j1"})
        try:
            raise RuntimeError(f"failed calling /bot{TOKEN}/sendPhoto")
        except RuntimeError:
            logger.exception("boom", stack_info=True)
        out = stream.getvalue()
        assert TOKEN not in out and HALF not in out and "%3A" not in out
        assert "j1" in out and "RuntimeError" in out


def test_stream_redacts_secrets_written_in_pieces() -> None:
    inner = io.StringIO()
    stream = RedactingStream(inner, Redactor([TOKEN]))  # type: ignore[arg-type]
    for char in f"token={TOKEN}\nmore {TOKEN[:5]}":
        stream.write(char)
    stream.write(f"{TOKEN[5:]}\n")
    stream.flush()
    assert TOKEN not in inner.getvalue() and inner.getvalue().count("***") == 2


def test_every_exit_path_of_a_process_is_redacted() -> None:
    """Uncaught exceptions (main thread, other threads), unraisable ones, prints and logs."""
    script = textwrap.dedent(f"""
        import gc, logging, sys, threading
        from bot.logs import setup_logging
        from bot.redaction import Redactor, install
        redact = Redactor([{TOKEN!r}])
        setup_logging("INFO", "json", redact)
        install(redact)
        print("printed {TOKEN}")
        logging.getLogger("x").error("logged %s", {TOKEN!r})
        def worker():
            raise ValueError("thread {TOKEN}")
        t = threading.Thread(target=worker); t.start(); t.join()
        class Bad:
            def __del__(self):
                raise ValueError("unraisable {HALF}")
        Bad(); gc.collect()
        raise SystemExit("exiting with {TOKEN}") if False else RuntimeError("main {TOKEN}")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 1
    for marker in ("printed ***", "logged ***", "thread ***", "unraisable ***", "main ***"):
        assert marker in output, (marker, output)
    assert TOKEN not in output and HALF not in output
