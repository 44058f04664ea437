"""Every user-facing text, in the reader's language: gettext catalogs through Babel.

Why gettext (with Babel) rather than Fluent: its plural rules are the CLDR ones for every
language (Russian's three forms included) and ``pybabel`` extracts, merges and checks
catalogs; the ``.po`` format is what translators and their tools (Weblate, Crowdin,
Poedit) know; and Python's own ``gettext`` runs them. Fluent's richer selectors are not
needed by a bot's short sentences, and its Python runtime is far less used.

Code never formats user-facing strings itself: it builds ``Text`` values with ``_()``
(and ``plural()``), which are rendered only when sent, in the language of whoever reads
them. English is the source language: the msgids are the English texts, and
``bot/i18n/locales/<lang>/LC_MESSAGES/stylebot.po`` hold the translations, compiled in
memory when first used (no binary ``.mo`` files in the repository).

    pybabel extract -k _ -k _p:1c,2 -k plural:1,2 --no-wrap -o bot/i18n/stylebot.pot bot
    pybabel update -i bot/i18n/stylebot.pot -d bot/i18n/locales -D stylebot
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "stylebot"
SOURCE = "en"
#: the shipped languages, each complete (a test checks every message in each)
LANGUAGES = ("en", "ru", "es", "de", "pt_BR")
#: what each language calls itself, for /weights language
NAMES = {"en": "English", "ru": "Русский", "es": "Español", "de": "Deutsch",
         "pt_BR": "Português (Brasil)"}


@dataclass(frozen=True)
class Text:
    """A user-facing message, rendered in the reader's language when it is sent.

    ``params`` fill the message's ``{name}`` placeholders; a param may itself be a
    ``Text`` (rendered in the same language) or a ``Lines``.
    """

    msgid: str
    plural_form: str | None = None
    count: int | None = None
    params: Mapping[str, object] = field(default_factory=dict)
    #: gettext's msgctxt: tells apart the same English word used as, say, a command name
    context: str | None = None


@dataclass(frozen=True)
class Lines:
    """Several texts shown together, one per line (or joined by ``sep``)."""

    parts: tuple[Text | Lines | str, ...]
    sep: str = "\n"


Speech = Text | Lines


def _(msgid: str, /, **params: object) -> Text:
    """Mark ``msgid`` for translation; ``params`` fill its placeholders."""
    return Text(msgid, params=params)


def _p(context: str, msgid: str, /) -> Text:
    """``msgid`` in a ``context`` of its own (a command's name is not a sentence)."""
    return Text(msgid, context=context)


def plural(singular: str, many: str, count: int, /, **params: object) -> Text:
    """A message with plural forms chosen by ``count`` (also available as ``{count}``)."""
    return Text(singular, many, count, {"count": count, **params})


def lines(*parts: Text | Lines | str | None, sep: str = "\n") -> Lines:
    """Texts one per line; ``None`` parts are left out (optional lines)."""
    return Lines(tuple(p for p in parts if p is not None), sep)


def best_language(code: str | None) -> str:
    """The shipped language closest to a platform's code ("pt-br", "de-DE", "es-419",
    Discord's "pt-BR"), English when none is close."""
    if not code:
        return SOURCE
    base, _sep, region = code.replace("-", "_").partition("_")
    base = base.lower()
    if base == "pt":
        return "pt_BR"  # the one Portuguese shipped
    exact = f"{base}_{region.upper()}" if region else base
    if exact in LANGUAGES:
        return exact
    return base if base in LANGUAGES else SOURCE


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English: the msgids themselves)."""
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == SOURCE or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def render(speech: Speech | str, language: str) -> str:
    """``speech`` in ``language`` (plain strings pass through: names, numbers, emoji)."""
    if isinstance(speech, str):
        return speech
    if isinstance(speech, Lines):
        return speech.sep.join(render(part, language) for part in speech.parts)
    catalog = translations(language)
    if speech.context is not None:
        template = catalog.pgettext(speech.context, speech.msgid)
    elif speech.plural_form is None:
        template = catalog.gettext(speech.msgid)
    else:
        assert speech.count is not None
        template = catalog.ngettext(speech.msgid, speech.plural_form, speech.count)
    values = {name: render(value, language) if isinstance(value, (Text, Lines)) else value
              for name, value in speech.params.items()}
    return template.format(**values)
