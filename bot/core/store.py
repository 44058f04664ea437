"""Per-user and per-chat settings in an embedded SQLite database.

All SQLite work runs on one dedicated thread: the event loop never waits on disk, and a
single connection needs no locking. Rows hold only the knobs someone changed, as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .settings import UserSettings

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS user_settings (
    platform TEXT NOT NULL, user_id TEXT NOT NULL, changes TEXT NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (platform, user_id));
CREATE TABLE IF NOT EXISTS chat_settings (
    platform TEXT NOT NULL, chat_id TEXT NOT NULL, changes TEXT NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (platform, chat_id));
"""

_TABLES = {"user": ("user_settings", "user_id"), "chat": ("chat_settings", "chat_id")}


def upgraded(changes: dict[str, Any]) -> dict[str, Any]:
    """Rows written before settings had one name each: ``keep_colors`` is ``colors``."""
    if "keep_colors" in changes:
        changes["colors"] = "keep" if changes.pop("keep_colors") else "style"
    return changes


class SettingsStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="settings-db")
        self._db: sqlite3.Connection | None = None

    async def _run(self, fn: Any, *args: Any) -> T:  # type: ignore[type-var]
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        if self.path.parent != Path():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        assert self._db is not None
        self._db.commit()
        self._db.close()
        self._db = None

    def _get(self, scope: str, platform: str, key: str) -> dict[str, Any]:
        assert self._db is not None, "store not opened"
        table, column = _TABLES[scope]
        row = self._db.execute(f"SELECT changes FROM {table} WHERE platform=? AND {column}=?",
                               (platform, key)).fetchone()
        return upgraded(json.loads(row[0])) if row else {}

    def _update(self, scope: str, platform: str, key: str,
                changes: dict[str, Any] | None) -> dict[str, Any]:
        assert self._db is not None, "store not opened"
        table, column = _TABLES[scope]
        if changes is None:
            self._db.execute(f"DELETE FROM {table} WHERE platform=? AND {column}=?",
                             (platform, key))
            self._db.commit()
            return {}
        merged = {**self._get(scope, platform, key), **changes}
        self._db.execute(
            f"INSERT INTO {table} (platform, {column}, changes, updated) VALUES (?, ?, ?, ?) "
            f"ON CONFLICT(platform, {column}) DO UPDATE SET changes=excluded.changes, "
            "updated=excluded.updated", (platform, key, json.dumps(merged), time.time()))
        self._db.commit()
        return merged

    async def user_changes(self, platform: str, user_id: str | int) -> dict[str, Any]:
        return await self._run(self._get, "user", platform, str(user_id))

    async def chat_changes(self, platform: str, chat_id: str | int) -> dict[str, Any]:
        return await self._run(self._get, "chat", platform, str(chat_id))

    async def update_user(self, platform: str, user_id: str | int,
                          changes: dict[str, Any] | None) -> dict[str, Any]:
        """Merge ``changes`` into the user's row; None resets the user to the defaults."""
        return await self._run(self._update, "user", platform, str(user_id), changes)

    async def update_chat(self, platform: str, chat_id: str | int,
                          changes: dict[str, Any] | None) -> dict[str, Any]:
        return await self._run(self._update, "chat", platform, str(chat_id), changes)

    async def effective(self, platform: str, user_id: str | int, chat_id: str | int | None,
                        defaults: UserSettings) -> UserSettings:
        chat = await self.chat_changes(platform, chat_id) if chat_id is not None else {}
        return defaults.merged(chat, await self.user_changes(platform, user_id))
