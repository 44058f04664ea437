"""Parse modes: HTML and MarkdownV2 become entities, with Telegram's parse errors."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest

from fakes.telegram import FakeTelegram
from tests.fakes.telegram.conftest import ALICE_ID, plain_bot


async def test_parse_modes_produce_entities(tg: FakeTelegram) -> None:
    tg.private_chat(tg.user(ALICE_ID, "Alice"))
    async with plain_bot(tg) as bot:
        html = await bot.send_message(
            ALICE_ID, "<b>Done</b> in 3 s &amp; <a href='https://x.org'>more</a>", parse_mode="HTML"
        )
        markdown = await bot.send_message(ALICE_ID, r"*Style* 1\.5 \- try /stylize", "MarkdownV2")
        with pytest.raises(BadRequest, match='unsupported start tag "div"'):
            await bot.send_message(ALICE_ID, "<div>x</div>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"character '\.' is reserved"):
            await bot.send_message(ALICE_ID, "v1.5", parse_mode="MarkdownV2")

    assert html.text == "Done in 3 s & more"
    assert [(e.type, e.offset, e.length) for e in html.entities] == [
        ("bold", 0, 4),
        ("text_link", 14, 4),
    ]
    assert markdown.text == "Style 1.5 - try /stylize"
    assert [(e.type, e.offset) for e in markdown.entities] == [("bold", 0), ("bot_command", 16)]
