"""Secrets never reach a log line, a traceback or a terminal, in any spelling.

Libraries put the Telegram token in URLs (``…/bot<token>/getUpdates``), percent-encoded
(``%3A`` for the colon) or inside exception messages, and a traceback can show any of
these. So redaction is not a logging filter: ``install()`` wraps ``sys.stdout`` and
``sys.stderr`` themselves and the process's last-resort hooks (``sys.excepthook``,
``threading.excepthook``, ``sys.unraisablehook``), and log handlers redact their final
formatted text. Every exit path of a process then goes through one ``Redactor``.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from types import TracebackType
from typing import TextIO
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "***"
#: parts of a token this long are secret on their own (Telegram's half after the colon
#: is 35 characters, Discord's signature 27+); shorter ones (a bot id) are public
MIN_SECRET_PART = 16


def spellings(secret: str) -> set[str]:
    """Every form in which ``secret`` may appear in text: as is, percent-encoded (either
    case), JSON- and repr-escaped, and its long parts on their own."""
    forms = {secret}
    for part in re.split(r"[:.]", secret):
        if len(part) >= MIN_SECRET_PART:
            forms.add(part)
    for form in list(forms):
        for encoded in (quote(form, safe=""), quote_plus(form, safe="")):
            forms.add(encoded)
            forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded))
        forms.add(json.dumps(form)[1:-1])
        forms.add(repr(form)[1:-1])
    return {f for f in forms if len(f) >= 4}  # shorter would mask ordinary words


def url_secrets(url: str) -> list[str]:
    """The password of a URL such as ``redis://:pw@host``, as written and decoded."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


class Redactor:
    """Replaces every spelling of every secret with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= spellings(secret)
        # Longest first, so a token is masked whole rather than around its parts.
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(MASK, text)

    def __bool__(self) -> bool:
        return self._pattern is not None


class RedactingStream(io.TextIOBase):
    """A text stream that redacts whole lines before passing them on.

    Writes are held until a newline (or ``flush``), so a secret written in pieces, as
    ``traceback`` and ``print`` may do, is still seen whole.
    """

    def __init__(self, inner: TextIO, redact: Redactor) -> None:
        super().__init__()
        self.inner = inner
        self.redact = redact
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            head, newline, tail = self._pending.rpartition("\n")
            if newline:
                self.inner.write(self.redact(head + newline))
                self._pending = tail
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self.inner.write(self.redact(self._pending))
                self._pending = ""
        self.inner.flush()

    def fileno(self) -> int:
        return self.inner.fileno()

    def isatty(self) -> bool:
        return self.inner.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding

    def writable(self) -> bool:
        return True


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter and redacts its final text: messages, ``extra`` values of any
    type, tracebacks and stack traces alike."""

    def __init__(self, inner: logging.Formatter, redact: Redactor) -> None:
        super().__init__()
        self.inner = inner
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(self.inner.format(record))


def install(redact: Redactor) -> None:
    """Route this process's standard streams and last-resort hooks through ``redact``.

    Idempotent: installing again replaces the redactor.
    """
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, RedactingStream):
            stream.flush()
            stream.redact = redact
        else:
            setattr(sys, name, RedactingStream(stream, redact))

    def excepthook(kind: type[BaseException], value: BaseException,
                   tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(redact(text))
        sys.stderr.flush()

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value,
                                                  args.exc_traceback))
        sys.stderr.write(redact(f"Exception in thread {name}:\n{text}"))
        sys.stderr.flush()

    def unraisable_hook(args: sys.UnraisableHookArgs) -> None:
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value,
                                                  args.exc_traceback))
        where = f"{args.err_msg or 'Exception ignored in'}: {args.object!r}"
        sys.stderr.write(redact(f"{where}\n{text}"))
        sys.stderr.flush()

    sys.excepthook = excepthook
    threading.excepthook = thread_hook
    sys.unraisablehook = unraisable_hook
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter or logging.Formatter()
        if isinstance(formatter, RedactingFormatter):
            formatter.redact = redact
        else:
            handler.setFormatter(RedactingFormatter(formatter, redact))
