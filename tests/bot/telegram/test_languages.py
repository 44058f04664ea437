"""A Russian-speaking user goes through help → pair → result in Russian; the command menu
and descriptions exist in every shipped language; /weights language overrides the app's."""

from __future__ import annotations

from bot.core.jobdesk import RERUNS
from bot.core.service import HINT
from bot.core.settings import UserSettings
from bot.i18n import LANGUAGES, _, render
from bot.telegram.app import COMMANDS, DESCRIPTION, SHORT_DESCRIPTION
from bot.telegram.handlers.help import PRIVATE_HELP
from fakes.telegram import FakeTelegram
from tests.bot.harness import PAINTING, PHOTO, TelegramBot

GOT_PHOTO = _("Got the photo 👍 Pick a painting below — or send your own painting. (/swap if "
              "I mixed them up.)")


async def test_a_russian_user_is_answered_in_russian_throughout(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    ivan = fake.user(8001, "Иван", language_code="ru")
    chat = fake.private_chat(ivan)
    mark = fake.mark()
    fake.send_text(chat, ivan, "/help")
    help_text = (await fake.wait_for_call("sendMessage", since=mark)).params["text"]
    assert help_text == render(PRIVATE_HELP, "ru") != render(PRIVATE_HELP, "en")

    mark = fake.mark()
    fake.send_photo(chat, ivan, PHOTO)
    ask = await fake.wait_for_call("sendMessage", since=mark)
    assert ask.params["text"] == render(GOT_PHOTO, "ru")

    mark = fake.mark()
    fake.send_photo(chat, ivan, PAINTING)
    status = await fake.wait_for_call("sendPhoto", since=mark)
    result = await fake.wait_for_call(
        "sendPhoto", lambda c: c.params.get("reply_markup") is not None, since=mark, timeout=60)
    assert status.params["caption"] != render(_("🎨 Starting…"), "en")
    summary = render(UserSettings(size=64, steps=6).summary(), "ru")
    assert summary in result.params["caption"]
    labels = [b["text"] for row in result.params["reply_markup"]["inline_keyboard"]
              for b in row]
    offered = [label for change, label in RERUNS if change != "full"]  # not a fast result
    assert labels == [render(label, "ru") for label in offered]

    mark = fake.mark()
    fake.send_text(chat, ivan, "hello?")  # plain text gets a hint, in their language
    hint = await fake.wait_for_call("sendMessage", since=mark)
    assert hint.params["text"] == render(HINT, "ru")


async def test_weights_language_overrides_the_apps_language(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    olga = fake.user(8002, "Ольга", language_code="ru")
    chat = fake.private_chat(olga)
    mark = fake.mark()
    fake.send_text(chat, olga, "/weights language de")
    await fake.wait_for_call("sendMessage", since=mark)
    mark = fake.mark()
    fake.send_text(chat, olga, "/help")
    answer = await fake.wait_for_call("sendMessage", since=mark)
    assert answer.params["text"] == render(PRIVATE_HELP, "de")
    mark = fake.mark()
    fake.send_text(chat, olga, "/weights language auto")
    await fake.wait_for_call("sendMessage", since=mark)
    mark = fake.mark()
    fake.send_text(chat, olga, "/help")
    answer = await fake.wait_for_call("sendMessage", since=mark)
    assert answer.params["text"] == render(PRIVATE_HELP, "ru")


async def test_the_menu_and_descriptions_exist_in_every_language(
    tgbot: TelegramBot, fake: FakeTelegram
) -> None:
    for language in LANGUAGES:
        code = "" if language == "en" else language.split("_")[0]
        menu = {c["command"]: c["description"] for c in fake.commands_for(code)}
        assert menu == {name: render(text, language) for name, text in COMMANDS}
        assert fake.descriptions[code] == render(DESCRIPTION, language)
        assert fake.short_descriptions[code] == render(SHORT_DESCRIPTION, language)
