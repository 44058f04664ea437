"""What tests assert on: the calls the bot made (waiting for them to happen) and the messages
it left in each chat, with their edit history."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable

from fakes.telegram.model import JSON, Call, MethodRef
from fakes.telegram.updates import UpdatesMixin


class ObservationMixin(UpdatesMixin):
    """``calls`` filtered and awaited; ``bot_messages`` in their current state."""

    def mark(self) -> int:
        """Index for ``since=`` arguments: only calls made after this point."""
        return len(self.calls)

    def calls_to(
        self, method: MethodRef, *, chat_id: int | None = None, since: int = 0
    ) -> list[Call]:
        """Calls of ``method`` (case-insensitive; a tuple means any of them)."""
        names = _method_names(method)
        return [
            call
            for call in self.calls[since:]
            if call.method.lower() in names and (chat_id is None or call.chat_id == chat_id)
        ]

    async def wait_for_call(
        self,
        method: MethodRef,
        predicate: Callable[[Call], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 10.0,
    ) -> Call:
        """The first call of ``method`` at index >= ``since`` for which ``predicate`` holds.

        Raises TimeoutError listing the recent calls, which usually explains what went wrong.
        """
        names = _method_names(method)
        deadline = time.monotonic() + timeout
        index = since
        while True:
            for call in self.calls[index:]:
                if call.method.lower() in names and (predicate is None or predicate(call)):
                    return call
            index = max(index, len(self.calls))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                condition = " matching the predicate" if predicate else ""
                raise TimeoutError(
                    f"no {method} call{condition} within {timeout}s (since call #{since}); "
                    f"latest calls, getUpdates omitted:\n{self._describe_calls(since)}"
                )
            await self._wait_changed(remaining)

    async def wait_delivered(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched and confirmed every update enqueued so far."""
        deadline = time.monotonic() + timeout
        while any(self._is_allowed(update) for update in self._pending):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self._pending)} updates still pending after {timeout}s")
            await self._wait_changed(remaining)

    def bot_messages(self, chat_id: int) -> list[JSON]:
        """Messages the bot sent in the chat, oldest first, each in its current state.

        Keys: message_id, text, caption, entities, media (the bytes the bot uploaded, or the
        stored file's bytes when it sent a file_id), media_kind ("photo" | "document" | None),
        file_id (of the largest photo size or the document), file_name, reply_markup (as
        sent, parsed), reply_to_message_id, media_group_id, message_thread_id, edits,
        history (earlier states, oldest first) and deleted.
        """
        records = sorted(
            ((key[1], record) for key, record in self._bot_records.items() if key[0] == chat_id),
            key=lambda item: item[0],
        )
        return [
            {
                **copy.deepcopy(record.current),
                "edits": record.edits,
                "history": copy.deepcopy(record.history),
                "deleted": record.deleted,
            }
            for _, record in records
        ]

    def _describe_calls(self, since: int) -> str:
        lines = [
            f"  #{index} {call.method} chat_id={call.chat_id} status={call.status} "
            f"params={_shorten(call.params)} files={sorted(call.files)}"
            for index, call in enumerate(self.calls)
            if index >= since and call.method.lower() != "getupdates"
        ]
        return "\n".join(lines[-15:]) or "  (none besides getUpdates)"


def _method_names(method: MethodRef) -> set[str]:
    return {name.lower() for name in ((method,) if isinstance(method, str) else method)}


def _shorten(params: JSON, limit: int = 160) -> str:
    text = json.dumps(params, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
