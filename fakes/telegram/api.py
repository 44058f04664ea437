"""The fake Telegram's HTTP layer: decode Bot API requests, dispatch them, record every call.

Requests are decoded in every encoding the Bot API accepts (query string, JSON, URL-encoded
and multipart forms); answers carry Telegram's ``{"ok": ..., "result": ...}`` envelope or its
JSON error body, so python-telegram-bot's own error mapping is what the bot sees.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from typing import Any, NoReturn

from aiohttp import BodyPartReader, hdrs, web

from fakes.telegram.limits import LimitsMixin
from fakes.telegram.model import (
    JSON,
    MAX_UPLOAD_SIZE,
    ApiError,
    Call,
    Handler,
    Upload,
    Uploads,
    chat_id_value,
)

_log = logging.getLogger(__name__)

# Form fields that are plain strings even when they look like JSON (a caption "42", a file_id).
_STRING_PARAMS = frozenset({
    "action", "animation", "audio", "business_connection_id", "callback_query_id", "caption",
    "custom_title", "description", "document", "emoji", "file_id", "inline_message_id",
    "inline_query_id", "language_code", "message_effect_id", "name", "next_offset",
    "parse_mode", "photo", "short_description",
    "sticker", "text", "thumbnail", "title", "url", "video", "voice",
})


class ApiMixin(LimitsMixin):
    """Answers ``/bot<token>/<method>`` and serves ``/file/bot<token>/<path>`` downloads."""

    _methods: dict[str, Handler]
    """Bot API methods by lower-case name; ``FakeTelegram`` fills it in."""

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if path.startswith("file/bot"):
            return self._serve_file(path.removeprefix("file/bot"))
        token, _, method = path.removeprefix("bot").partition("/")
        if not path.startswith("bot") or not method or "/" in method:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        received = time.monotonic()
        params: JSON = {}
        uploads: Uploads = {}
        try:
            params, uploads = await _read_request(request)
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            result = await self._dispatch(method, params, uploads)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as error:
            status, body = error.status, error.body()
        except Exception as error:  # a bug in the fake: show it, don't hang the bot
            _log.exception("FakeTelegram failed on %s", method)
            status = 500
            body = {"ok": False, "error_code": 500, "description": f"Internal: {error!r}"}
        self.calls.append(
            Call(
                method=method,
                params=params,
                files={name: upload.data for name, upload in uploads.items()},
                time=received,
                chat_id=self._call_chat_id(method, params),
                status=status,
            )
        )
        self._notify()
        return web.json_response(body, status=status)

    def _serve_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        stored = self._file_paths.get(file_path)
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        self.downloads.append(file_path)
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def _dispatch(self, method: str, params: JSON, uploads: Uploads) -> Any:
        name = method.lower()
        handler = self._methods.get(name)
        if handler is None:
            raise ApiError(404, "Not Found")
        self._check_flood(name, params)
        refusals = self._refusals.get(name)
        if refusals:
            raise ApiError(400, refusals.popleft())
        result = handler(params, uploads)
        return await result if inspect.isawaitable(result) else result

    def _call_chat_id(self, method: str, params: JSON) -> int | None:
        if method.lower() == "answercallbackquery":
            return self._callback_chats.get(str(params.get("callback_query_id")))
        chat_id = chat_id_value(params.get("chat_id"))
        if isinstance(chat_id, str):
            chat = self._chat_by_username(chat_id)
            return chat["id"] if chat else None
        return chat_id


async def _read_request(request: web.Request) -> tuple[JSON, Uploads]:
    """Parameters and uploaded files of a Bot API request in any encoding Telegram accepts."""
    if request.content_length and request.content_length > MAX_UPLOAD_SIZE:
        raise ApiError(413, "Request Entity Too Large")
    params: JSON = {key: _decode_param(key, value) for key, value in request.query.items()}
    uploads: Uploads = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as error:
            raise ApiError(400, "Bad Request: can't parse JSON object") from error
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: can't parse JSON object")
        params.update(body)
    elif request.content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            data = bytes(await part.read())
            if part.filename is None:
                params[part.name] = _decode_param(part.name, data.decode())
            else:
                content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
                uploads[part.name] = Upload(data, part.filename, content_type)
    elif request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = _decode_param(key, value)
    return params, uploads


def _decode_param(key: str, raw: str) -> Any:
    """PTB sends non-string values JSON-encoded inside form fields; decode those."""
    if key in _STRING_PARAMS:
        return raw
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw
    return value if isinstance(value, dict | list | bool | int | float) else raw


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a Bot API value")
