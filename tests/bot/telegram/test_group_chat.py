"""Groups with privacy mode on: /stylize prompts, per-user pairs, results for everyone."""

from __future__ import annotations

import asyncio
import os
import signal

from bot.core.who import Who
from fakes.telegram import FakeTelegram
from tests.bot.harness import PAINTING, PHOTO, TelegramBot, wait_until


def done(call) -> bool:
    return "Done" in call.params.get("caption", "")


async def prompt(fake: FakeTelegram, chat: dict, user: dict) -> int:
    mark = fake.mark()
    fake.send_text(chat, user, "/stylize@StylebotTestBot")
    answer = await fake.wait_for_call("sendMessage", since=mark)
    assert "reply to this message" in answer.params["text"]
    return next(
        m["message_id"]
        for m in reversed(fake.bot_messages(chat["id"]))
        if m.get("text") == answer.params["text"]
    )


async def test_two_users_interleave_without_mixing(tgbot: TelegramBot, fake: FakeTelegram) -> None:
    group = fake.group_chat(-100500, "Art club")
    ann, ben = fake.user(3001, "Ann", "ann"), fake.user(3002, "Ben", "ben")
    ann_prompt = await prompt(fake, group, ann)
    ben_prompt = await prompt(fake, group, ben)
    mark = fake.mark()
    ann_photo = fake.send_photo(group, ann, PHOTO, reply_to=ann_prompt)
    ben_photo = fake.send_photo(group, ben, PAINTING, reply_to=ben_prompt)  # Ben: wide style
    fake.send_text(group, ann, "nice weather")  # not for the bot: never delivered
    ann_style = fake.send_photo(group, ann, PAINTING, reply_to=ann_prompt)
    ben_style = fake.send_photo(group, ben, PHOTO, reply_to=ben_prompt)
    results = []
    for _ in range(2):
        results.append(
            await fake.wait_for_call(
                "sendPhoto", lambda c: done(c) and c not in results, since=mark, timeout=90
            )
        )
    by_reply = {c.params["reply_parameters"]["message_id"]: c for c in results}
    assert set(by_reply) == {ann_style["message_id"], ben_style["message_id"]}
    assert "for @ann" in by_reply[ann_style["message_id"]].params["caption"]
    assert "for @ben" in by_reply[ben_style["message_id"]].params["caption"]
    assert ann_photo and ben_photo
    # No update without a command, reply or mention reached the bot.
    assert not any(
        "nice weather" in str(u)
        for u in fake.updates
        if "message" in u and u["message"].get("text") == "nice weather"
    )


async def test_album_captioned_stylize_asks_for_the_missing_image(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    """In privacy mode only the captioned first item of such an album reaches the bot."""
    group = fake.group_chat(-100501, "Gallery")
    cleo = fake.user(3003, "Cleo", "cleo")
    mark = fake.mark()
    fake.send_album(group, cleo, [PHOTO, PAINTING], caption="/stylize")
    ask = await fake.wait_for_call("sendMessage", since=mark)
    assert "@cleo" in ask.params["text"] and "Pick a painting" in ask.params["text"]
    assert "your own painting in reply to this message" in ask.params["text"]
    ask_id = fake.bot_messages(group["id"])[-1]["message_id"]
    mark = fake.mark()
    fake.send_photo(group, cleo, PAINTING, reply_to=ask_id)
    await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)


async def test_album_sent_as_reply_delivers_every_item(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    group = fake.group_chat(-100502, "Studio")
    dora = fake.user(3004, "Dora")
    prompt_id = await prompt(fake, group, dora)
    mark = fake.mark()
    fake.send_album(group, dora, [PHOTO, PAINTING], reply_to=prompt_id)
    await fake.wait_for_call("sendPhoto", done, since=mark, timeout=60)


async def test_group_admins_set_chat_defaults_others_cannot(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    group = fake.group_chat(-100503, "Club")
    boss, member = fake.user(3005, "Boss"), fake.user(3006, "Member")
    fake.set_admin(group, boss)
    mark = fake.mark()
    fake.send_text(group, member, "/weights@StylebotTestBot group strength 9")
    refused = await fake.wait_for_call("sendMessage", since=mark)
    assert "Only admins can change" in refused.params["text"]
    mark = fake.mark()
    fake.send_text(group, boss, "/weights@StylebotTestBot group strength 9")
    accepted = await fake.wait_for_call("sendMessage", since=mark)
    assert (
        "This group's defaults" in accepted.params["text"]
        and "strength: 9" in accepted.params["text"]
    )
    who = Who("telegram", str(member["id"]), str(group["id"]), True,
              community=str(group["id"]))
    assert (await tgbot.core.preferences.of(who)).strength == 9  # members start from it


async def test_a_killed_worker_fails_one_job_and_the_bot_carries_on(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    group = fake.group_chat(-100504, "Lab")
    eli, fay = fake.user(3007, "Eli"), fake.user(3008, "Fay")
    eli_prompt = await prompt(fake, group, eli)
    await tgbot.store.update_user("telegram", eli["id"], {"steps": 900})
    mark = fake.mark()
    fake.send_album(group, eli, [PHOTO, PAINTING], reply_to=eli_prompt)
    await fake.wait_for_call("editMessageMedia", since=mark, timeout=30)
    os.kill(tgbot.pool.workers[0].process.pid, signal.SIGKILL)
    failed = await fake.wait_for_call(
        "editMessageCaption",
        lambda c: "stopped unexpectedly" in c.params["caption"],
        since=mark,
        timeout=30,
    )
    assert failed is not None
    fay_prompt = await prompt(fake, group, fay)
    mark = fake.mark()
    fake.send_album(group, fay, [PHOTO, PAINTING], reply_to=fay_prompt)
    await fake.wait_for_call("sendPhoto", done, since=mark, timeout=90)
    await wait_until(lambda: tgbot.pool.stats().workers == 1, what="a replacement worker")
    await asyncio.sleep(0)
