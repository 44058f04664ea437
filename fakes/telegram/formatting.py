"""Text as Telegram stores it: the entities it detects by itself, whitespace trimming, and the
HTML, MarkdownV2 and legacy Markdown parse modes with Telegram's error messages.

Entity offsets and lengths are in UTF-16 code units, as in the real API.
"""

from __future__ import annotations

import re

from fakes.telegram.model import JSON, MAX_CAPTION_LENGTH, ApiError, with_entities

_AUTO_ENTITY_RE = re.compile(
    r"(?P<bot_command>(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)"
    r"|(?P<mention>(?<![\w@/])@[A-Za-z0-9_]{5,32})"
    r"|(?P<url>\bhttps?://[^\s<>\"]+)"
)


def _u16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def u16_slice(text: str, offset: int, length: int) -> str:
    return text.encode("utf-16-le")[2 * offset : 2 * (offset + length)].decode("utf-16-le")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def auto_entities(text: str) -> list[JSON]:
    """Entities Telegram detects by itself: /commands, @mentions and URLs."""
    return [
        {
            "type": match.lastgroup,
            "offset": _u16_len(text[: match.start()]),
            "length": _u16_len(match.group()),
        }
        for match in _AUTO_ENTITY_RE.finditer(text)
    ]


def _merge_entities(explicit: list[JSON], detected: list[JSON]) -> list[JSON]:
    def overlaps(a: JSON, b: JSON) -> bool:
        return a["offset"] < b["offset"] + b["length"] and b["offset"] < a["offset"] + a["length"]

    extra = [d for d in detected if not any(overlaps(d, e) for e in explicit)]
    return sorted([*explicit, *extra], key=lambda e: (e["offset"], -e["length"]))


def _strip_text(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram trims surrounding whitespace and shifts entities accordingly."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _u16_len(text[: len(text) - len(text.lstrip())])
    end = lead + _u16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"], lead)
        stop = min(entity["offset"] + entity["length"], end)
        if stop > start:
            kept.append({**entity, "offset": start - lead, "length": stop - start})
    return stripped, kept


def formatted(
    params: JSON, key: str, entities_key: str, limit: int, too_long: str
) -> tuple[str, list[JSON]]:
    """Text (or caption) after parse_mode or explicit entities, as Telegram would store it."""
    raw = params.get(key)
    text = "" if raw is None else str(raw)
    if isinstance(params.get(entities_key), list):
        entities: list[JSON] = list(params[entities_key])
    else:
        mode = str(params.get("parse_mode") or "").lower()
        if mode == "html":
            text, entities = _parse_html(text)
        elif mode in ("markdown", "markdownv2"):
            text, entities = _parse_markdown(text, v2=mode == "markdownv2")
        elif mode:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        else:
            entities = []
    text, entities = _strip_text(text, entities)
    if _u16_len(text) > limit:
        raise ApiError(400, too_long)
    return text, _merge_entities(entities, auto_entities(text))


def caption_content(params: JSON) -> JSON:
    caption, entities = formatted(
        params,
        "caption",
        "caption_entities",
        MAX_CAPTION_LENGTH,
        "Bad Request: message caption is too long",
    )
    if not caption:
        return {}
    return with_entities({"caption": caption}, "caption_entities", entities)


def _parse_error(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {message}")


class _TextBuilder:
    """Parsed text plus its length in UTF-16 code units (the unit of entity offsets)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += _u16_len(text)

    def text(self) -> str:
        return "".join(self.parts)


_HTML_TAG_RE = re.compile(r"<(/?)([^\s>/]*)([^>]*)>")
_HTML_ATTR_RE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_HTML_CHAR_RE = re.compile(r"&(?:#(\d+)|#x([0-9a-fA-F]+)|(lt|gt|amp|quot));")
_HTML_ESCAPES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}


def _parse_html(source: str) -> tuple[str, list[JSON]]:
    """parse_mode=HTML with Telegram's tag set and error messages."""
    out = _TextBuilder()
    entities: list[JSON] = []
    stack: list[tuple[str, int, JSON | None]] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "&" and (match := _HTML_CHAR_RE.match(source, index)):
            decimal, hexadecimal, name = match.groups()
            if name:
                out.add(_HTML_ESCAPES[name])
            else:
                out.add(chr(int(decimal) if decimal else int(hexadecimal, 16)))
            index = match.end()
            continue
        if char != "<":
            out.add(char)
            index += 1
            continue
        offset = _byte_offset(source, index)
        tag = _HTML_TAG_RE.match(source, index)
        if tag is None:
            raise _parse_error(f"Unclosed start tag at byte offset {offset}")
        closing, name, rest = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
        index = tag.end()
        if closing:
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {offset}")
            opened, start, entity = stack.pop()
            if name != opened:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {offset}, expected "</{opened}>", '
                    f'found "</{name}>"'
                )
            if entity is not None and out.size > start:
                entities.append({**entity, "offset": start, "length": out.size - start})
            continue
        attrs = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _HTML_ATTR_RE.finditer(rest)
        }
        kind = _HTML_TAGS.get(name)
        if kind is None or (name == "span" and attrs.get("class") != "tg-spoiler"):
            raise _parse_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        entity: JSON | None = {"type": kind}
        if name == "a":
            entity = {"type": kind, "url": attrs["href"]} if "href" in attrs else None
        elif name == "tg-emoji":
            entity = {"type": kind, "custom_emoji_id": attrs.get("emoji-id", "")}
        elif name == "blockquote" and re.search(r"\bexpandable\b", rest):
            entity = {"type": "expandable_blockquote"}
        elif name == "code" and stack and stack[-1][0] == "pre" and stack[-1][2] is not None:
            language = attrs.get("class", "")
            if language.startswith("language-"):
                stack[-1][2]["language"] = language.removeprefix("language-")
                entity = None
        stack.append((name, out.size, entity))
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.text(), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_MD_V2_MARKERS = {
    "__": "underline",
    "||": "spoiler",
    "*": "bold",
    "_": "italic",
    "~": "strikethrough",
}
_MD_V1_MARKERS = {"*": "bold", "_": "italic"}
_MD_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD_ENTITY_NAMES = {
    "[": "TextUrl",
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
}
_MD_ESCAPE_RE = re.compile(r"\\([\x01-\x7e])")


def _parse_markdown(source: str, *, v2: bool) -> tuple[str, list[JSON]]:
    """parse_mode=MarkdownV2 (strict escaping) or legacy Markdown, per the Bot API docs.

    MarkdownV2 line-start ``>`` quotes become blockquote entities; expandable quotes and
    custom emoji are not modelled.
    """
    markers = _MD_V2_MARKERS if v2 else _MD_V1_MARKERS
    out = _TextBuilder()
    entities: list[JSON] = []
    stack: list[tuple[str, int, int]] = []  # (marker, text offset, source index)
    quote_start: int | None = None

    def unclosed(marker: str, source_index: int) -> ApiError:
        offset = _byte_offset(source, source_index)
        if v2:
            kind = _MD_ENTITY_NAMES[markers.get(marker, marker)]
            return _parse_error(f"Can't find end of {kind} entity at byte offset {offset}")
        return _parse_error(f"Can't find end of the entity starting at byte offset {offset}")

    def close_quote() -> None:
        if quote_start is None or out.size <= quote_start:
            return
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "blockquote"
            and last["offset"] + last["length"] + 1 == (quote_start)
        ):
            last["length"] = out.size - last["offset"]
        else:
            entities.append(
                {"type": "blockquote", "offset": quote_start, "length": out.size - quote_start}
            )

    index = 0
    while index < len(source):
        char = source[index]
        if v2 and char == ">" and (index == 0 or source[index - 1] == "\n"):
            quote_start = out.size
            index += 1
            continue
        if char == "\\" and index + 1 < len(source):
            escaped = source[index + 1]
            if (v2 and ord(escaped) <= 126) or (not v2 and escaped in "_*`["):
                out.add(escaped)
                index += 2
                continue
        if char == "\n" and quote_start is not None:
            close_quote()
            quote_start = None
        if char == "`":
            fence = "```" if source.startswith("```", index) else "`"
            end = _md_find(source, fence, index + len(fence), v2)
            if end < 0:
                raise unclosed("pre" if fence == "```" else "code", index)
            body = source[index + len(fence) : end]
            if v2:
                body = _MD_ESCAPE_RE.sub(r"\1", body)
            entity: JSON = {"type": "code"}
            if fence == "```":
                entity = {"type": "pre"}
                first, newline, rest = body.partition("\n")
                if newline and not re.search(r"\s", first):
                    body = rest
                    if first:
                        entity["language"] = first
            start = out.size
            out.add(body)
            if out.size > start:
                entities.append({**entity, "offset": start, "length": out.size - start})
            index = end + len(fence)
            continue
        if char == "[":
            stack.append(("[", out.size, index))
            index += 1
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            if not source.startswith("(", index + 1):
                if v2:
                    raise _parse_error(
                        "Character ']' is reserved and must be escaped with the preceding '\\'"
                    )
                out.add(char)
                index += 1
                continue
            end = _md_find(source, ")", index + 2, v2)
            if end < 0:
                raise unclosed("[", stack[-1][2])
            url = source[index + 2 : end]
            _, start, _ = stack.pop()
            if out.size > start:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": start,
                        "length": out.size - start,
                        "url": _MD_ESCAPE_RE.sub(r"\1", url) if v2 else url,
                    }
                )
            index = end + 1
            continue
        marker = next((m for m in markers if source.startswith(m, index)), None)
        if marker is not None:
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                if out.size > start:
                    entities.append(
                        {"type": markers[marker], "offset": start, "length": out.size - start}
                    )
            elif any(opened == marker for opened, _, _ in stack):
                raise unclosed(stack[-1][0], stack[-1][2])
            else:
                stack.append((marker, out.size, index))
            index += len(marker)
            continue
        if v2 and char in _MD_V2_RESERVED:
            raise _parse_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(char)
        index += 1
    close_quote()
    if stack:
        opened, _, source_index = stack[-1]
        raise unclosed(opened, source_index)
    return out.text(), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _md_find(source: str, token: str, start: int, v2: bool) -> int:
    """Index of the next unescaped ``token`` at or after ``start``; -1 if there is none."""
    index = start
    while index < len(source):
        if v2 and source[index] == "\\":
            index += 2
            continue
        if source.startswith(token, index):
            return index
        index += 1
    return -1
