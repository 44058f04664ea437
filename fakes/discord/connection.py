"""One bot's gateway connection: its websocket, session and the writer that keeps frames in
order."""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from typing import Any

from aiohttp import web


class GatewaySession:
    """One bot connection. A single writer task sends frames so events keep their order."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        # discord.py asks for zlib-stream unless zstd is importable; it accepts TEXT frames
        # for any other value, so plain JSON text is what the fake sends then.
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.session_id = secrets.token_hex(16)
        self.seq = 0
        self.intents = 0
        self.identified = False
        self.closed = False

    def push(self, op: int, d: Any, t: str | None = None) -> None:
        seq = None
        if op == 0:
            self.seq += 1
            seq = self.seq
        # Serialised now, so later changes to live records cannot leak into a queued frame.
        frame = {"op": op, "d": d, "s": seq, "t": t}
        self.outbox.put_nowait(json.dumps(frame, separators=(",", ":")))

    async def pump(self) -> None:
        while True:
            raw = await self.outbox.get()
            try:
                if self._zlib is None:
                    await self.ws.send_str(raw)
                else:
                    data = self._zlib.compress(raw.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
            except ConnectionError:  # the bot went away: release anyone waiting on join()
                self.closed = True
                self.drop_pending()
                return
            finally:
                self.outbox.task_done()

    def drop_pending(self) -> None:
        """Release anyone waiting on outbox.join() once the socket is gone."""
        while not self.outbox.empty():
            self.outbox.get_nowait()
            self.outbox.task_done()
