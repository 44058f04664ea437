"""Inline mode: users type the bot's @name in any chat (or press a switch_inline_query
button), the bot answers with results, and the user posts one of them into the chat.

Modelled on https://core.telegram.org/bots/api#inline-mode: queries reach the bot only
when inline mode is on (@BotFather /setinline; ``FakeTelegram(inline_mode=True)``), each
may be answered once, and a cached photo result names a photo Telegram already stores.
The fake supports the result types a bot can use without reaching the internet: cached
photos and articles.
"""

from __future__ import annotations

import copy
import re

from fakes.telegram.formatting import caption_content
from fakes.telegram.model import JSON, ApiError, ChatRef, Uploads
from fakes.telegram.users import UsersMixin

_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_MAX_RESULTS = 50
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")


class InlineMixin(UsersMixin):
    """``inline_query``, ``press_switch_inline`` and ``choose_inline_result`` for tests;
    answerInlineQuery for the bot. ``inline_answers`` holds every accepted answer."""

    def inline_query(self, user: JSON, query: str = "", *, chat_type: str = "sender") -> str:
        """``user`` types "@bot <query>" in a chat of ``chat_type`` ("sender" is their own
        chat with the bot); returns the query id the bot must answer."""
        if not self.inline_mode:
            raise ValueError("inline mode is off for this bot (FakeTelegram(inline_mode=True))")
        query_id = str(next(self._inline_query_seq))
        self._inline_queries[query_id] = self._user_of(user)["id"]
        self._enqueue("inline_query", {"id": query_id, "from": dict(self._user_of(user)),
                                       "query": query, "offset": "", "chat_type": chat_type})
        return query_id

    def press_switch_inline(self, chat: ChatRef, user: JSON, message_id: int, *,
                            into_chat_type: str = "group") -> str:
        """``user`` presses the switch_inline_query button of a bot message, picks a chat
        of ``into_chat_type``, and the button's query is typed there; returns the query id."""
        known = self._chat_of(chat)
        message = self._messages.get((known["id"], message_id))
        if message is None or message.get("from", {}).get("id") != self.bot_id:
            raise ValueError(f"no bot message {message_id} in chat {known['id']}")
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        button = next((b for row in rows for b in row if "switch_inline_query" in b), None)
        if button is None:
            raise ValueError(f"message {message_id} shows no switch_inline_query button")
        return self.inline_query(user, button["switch_inline_query"], chat_type=into_chat_type)

    def choose_inline_result(self, user: JSON, chat: ChatRef, query_id: str,
                             result_id: str) -> JSON:
        """``user`` posts one of the bot's results into ``chat``, "via @bot"."""
        answer = self.inline_answers.get(query_id)
        if answer is None or self._inline_queries.get(query_id) != user["id"]:
            raise ValueError(f"query {query_id} of user {user['id']} was not answered")
        result = next((r for r in answer["results"] if r["id"] == result_id), None)
        if result is None:
            raise ValueError(f"the answer to query {query_id} has no result {result_id!r}")
        if result["type"] == "photo":
            content: JSON = {"photo": copy.deepcopy(self._files[result["photo_file_id"]].meta),
                             **caption_content(result)}
        else:
            content = {"text": result["input_message_content"]["message_text"]}
        content["via_bot"] = dict(self._bot_user)
        return self._user_message(chat, user, content, None)

    def _answer_inline_query(self, params: JSON, _uploads: Uploads) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise ApiError(400, _QUERY_INVALID)
        results = params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > _MAX_RESULTS:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [self._check_result(result) for result in results]
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        button = params.get("button")
        if button is not None:
            parameter = str(button.get("start_parameter") or "") if isinstance(button,
                                                                              dict) else ""
            if not (isinstance(button, dict) and button.get("text")) or (
                    "web_app" not in button and not _START_PARAMETER.fullmatch(parameter)):
                raise ApiError(400, "Bad Request: BUTTON_INVALID")
        self.inline_answers[query_id] = copy.deepcopy(params)
        return True

    def _check_result(self, result: object) -> str:
        """A result's id, after the checks Telegram makes of it."""
        if not isinstance(result, dict) or not isinstance(result.get("id"), str) or \
                not 1 <= len(result["id"].encode()) <= 64:
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        kind = result.get("type")
        if kind == "photo":
            stored = self._files.get(str(result.get("photo_file_id") or ""))
            if stored is None or stored.kind != "photo":
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        elif kind == "article":
            content = result.get("input_message_content") or {}
            if not result.get("title") or not content.get("message_text"):
                raise ApiError(400, "Bad Request: MESSAGE_EMPTY")
        else:
            raise ApiError(400, f"Bad Request: result type {kind!r} is not in FakeTelegram")
        caption_content(result)  # its length and entities, like a sent caption
        return result["id"]
