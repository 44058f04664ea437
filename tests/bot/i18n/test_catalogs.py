"""The catalogs: complete in every shipped language, placeholders intact, and no
user-facing sentence in bot/ that bypasses them."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES, SOURCE, Text, _, best_language, lines, plural, render

BOT = Path(__file__).resolve().parents[3] / "bot"
TEMPLATE = BOT / "i18n" / "stylebot.pot"
MARKERS = {"_", "_p", "plural"}
#: modules whose prose is for operators (logs, the CLI, config errors, SQL, Prometheus
#: help), not for chat users
OPERATOR_MODULES = {"config.py", "cli.py", "redaction.py", "logs.py", "frontend.py",
                    "runner.py", "core/store.py", "core/metrics.py", "core/decoding.py"}
#: module constants and attributes that are for operators: why a start failed, health
OPERATOR_NAMES = {"REJECTED", "UNREACHABLE", "NO_INTENT", "problem"}


def placeholders(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name}


def catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "stylebot.po").open("rb") as po:
        return read_po(po, locale=language)


def template_ids() -> set[tuple[str, str | None]]:
    with TEMPLATE.open("rb") as pot:
        return {(m.id if isinstance(m.id, str) else m.id[0], m.context)
                for m in read_po(pot) if m.id}


def marked_in_code() -> set[tuple[str, str | None]]:
    """Every message the code marks, read from the code itself (not the template)."""
    found = set()
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in MARKERS and node.args \
                    and all(isinstance(a, ast.Constant) for a in node.args[:2]):
                args = [a.value for a in node.args if isinstance(a, ast.Constant)]
                if node.func.id == "_p":
                    found.add((args[1], args[0]))
                elif args:
                    found.add((args[0], None))
    return found


def test_the_template_holds_every_message_the_code_marks() -> None:
    """bot/i18n/stylebot.pot is up to date (re-run the pybabel extract in bot/i18n)."""
    assert marked_in_code() == template_ids()


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != SOURCE])
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    translated = {(m.id if isinstance(m.id, str) else m.id[0], m.context): m
                  for m in catalog(language) if m.id}
    missing = template_ids() - set(translated)
    assert not missing, f"{language}: untranslated {sorted(missing)[:5]}"
    for key, message in translated.items():
        if key not in template_ids():
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strs = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strs), f"{language}: empty translation of {key[0]!r}"
        assert not message.fuzzy, f"{language}: fuzzy translation of {key[0]!r}"
        expected = set().union(*map(placeholders, ids))
        for text in strs:
            assert placeholders(text) == expected, (language, key[0], text)
        if message.context == "command":  # Discord command names
            assert all(re.fullmatch(r"[-_\w]{1,32}", s) and s == s.lower() for s in strs), \
                (language, strs)


def called(call: ast.Call) -> str:
    """What a call is, for exemptions: a marker's name, "log" for ``log.x(...)``, "Error"
    for an exception being built."""
    func = call.func
    if isinstance(func, ast.Name):
        return "Error" if func.id.endswith("Error") else func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return ""


def test_no_user_facing_sentence_bypasses_the_catalogs() -> None:
    """Prose in chat-facing modules is always inside _(), _p() or plural()."""
    bypassing = []
    for path in sorted(BOT.rglob("*.py")):
        relative = str(path.relative_to(BOT))
        if relative in OPERATOR_MODULES:
            continue
        tree = ast.parse(path.read_text())
        exempt: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                 ast.AsyncFunctionDef)) and node.body and \
                    isinstance(node.body[0], ast.Expr):
                exempt.add(id(node.body[0].value))  # docstrings
            if isinstance(node, ast.Call) and called(node) in (*MARKERS, "log", "Error"):
                exempt.update(id(sub) for sub in ast.walk(node))  # marked, logs, errors
            if isinstance(node, (ast.Raise, ast.Assert)):
                exempt.update(id(sub) for sub in ast.walk(node))  # errors for logs
            if isinstance(node, ast.Assign) and any(
                    (isinstance(t, ast.Name) and t.id in OPERATOR_NAMES)
                    or (isinstance(t, ast.Attribute) and t.attr in OPERATOR_NAMES)
                    for t in node.targets):
                exempt.update(id(sub) for sub in ast.walk(node.value))
            if isinstance(node, ast.FunctionDef) and node.name == "__repr__":
                exempt.update(id(sub) for sub in ast.walk(node))
        for node in ast.walk(tree):
            if id(node) in exempt:
                continue
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and " " in text and \
                    len(re.findall(r"\b[a-z]{2,}\b", text)) >= 3:
                bypassing.append(f"{relative}:{node.lineno}: {text[:60]!r}")
    assert not bypassing, "\n".join(bypassing)


def test_rendering_follows_the_reader() -> None:
    text = plural("{count} picture", "{count} pictures", 3)
    assert render(text, "en") == "3 pictures"
    assert render(lines(_("Done"), "!"), "en") == "Done\n!"
    assert best_language("pt-br") == best_language("pt") == "pt_BR"
    assert best_language("de-DE") == "de" and best_language("es-419") == "es"
    assert best_language("fr") == best_language(None) == "en"
    assert isinstance(_("x"), Text)
