"""The REST layer: routes matched by method and path, bot-token authentication (interaction
and webhook routes carry their own token instead), Discord's JSON error bodies, and every
call recorded for tests to wait for."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from fakes.discord.model import API_PREFIX, JSON, ApiError, Call
from fakes.discord.state import DiscordState


@dataclass
class ApiRequest:
    params: dict[str, str]
    query: Mapping[str, str]
    json: Any
    files: dict[str, tuple[str, bytes]]

    @property
    def body(self) -> JSON:
        return self.json if isinstance(self.json, dict) else {}


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[ApiRequest], Any]
    auth: bool  # interaction and webhook routes are authenticated by their token instead


def route(
    method: str, template: str, handler: Callable[[ApiRequest], Any], *, auth: bool = True
) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return Route(method, re.compile(f"^{regex}$"), handler, auth)


def _json_response(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py's json_or_text() compares the header verbatim.
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


class RestMixin(DiscordState):
    """Answers ``/api/v10/...`` requests from the route table and records them as ``calls``."""

    _routes: list[Route]
    """Every REST route the fake answers; ``FakeDiscord`` fills it in."""

    async def _read_body(self, request: web.Request) -> tuple[Any, dict[str, tuple[str, bytes]]]:
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "multipart/form-data":
            body = None
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue  # Discord bodies never nest multiparts
                data = await part.read()
                if part.name == "payload_json":
                    body = json.loads(data)
                else:
                    name = part.name or ""
                    files[name] = (part.filename or name, bytes(data))
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), files

    async def _handle_api(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix(API_PREFIX)
        call = Call(request.method, path, None, {}, time.monotonic(), 0, dict(request.query))
        try:
            try:
                call.json, call.files = await self._read_body(request)
            except ValueError:
                raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
            result = self._dispatch_api(request, call)
            response = web.Response(status=204) if result is None else _json_response(result)
        except ApiError as error:
            body = {"message": error.message, "code": error.code}
            response = _json_response(body, status=error.status)
        call.status = response.status
        self.calls.append(call)
        self._call_added.set()
        self._call_added = asyncio.Event()
        return response

    def _dispatch_api(self, request: web.Request, call: Call) -> Any:
        allowed = False
        for route in self._routes:
            match = route.pattern.match(call.path)
            if match is None:
                continue
            if route.method != call.method:
                allowed = True
                continue
            if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise ApiError(401, 0, "401: Unauthorized")
            return route.handler(
                ApiRequest(match.groupdict(), request.query, call.json, call.files)
            )
        if allowed:
            raise ApiError(405, 0, "405: Method Not Allowed")
        raise ApiError(404, 0, "404: Not Found")

    def mark(self) -> int:
        """A position in :attr:`calls`, for ``wait_for(since=...)``."""
        return len(self.calls)

    async def wait_for(
        self, predicate: Callable[[Call], bool], *, since: int = 0, timeout: float = 10.0
    ) -> Call:
        """The first call from ``since`` on matching ``predicate``, waiting for it to happen."""
        deadline = time.monotonic() + timeout
        index = since
        while True:
            for call in self.calls[index:]:
                if predicate(call):
                    return call
            index = len(self.calls)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = "\n  ".join(c.summary() for c in self.calls[since:][-15:]) or "(none)"
                raise TimeoutError(
                    f"no matching call within {timeout}s; calls since mark:\n  {recent}"
                )
            event = self._call_added
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue
