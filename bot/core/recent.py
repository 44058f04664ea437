"""The pictures behind the buttons: the pair behind each result (re-runs, "Other
painting") and each photo offered the gallery, kept on disk so the buttons keep working
for days and across restarts.

One directory per entry, named by its token, next to the settings database:
``job.json`` (owner, chat, settings, the gallery painting if the style came from there,
the result's platform id for sharing) and the pictures as the JPEGs a job carries
(``content.jpg``, ``style.jpg`` unless the painting is from the gallery, and their
thumbnails). Entries are written whole (into a temporary directory, then renamed), expire
after ``ttl`` seconds of wall-clock time (so a restart does not reset them) and are
dropped oldest first beyond ``max_bytes``. Disk work runs on one thread of its own; the
newest entries stay in memory too, so an immediate re-run reads nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import secrets
import shutil
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .jobs import Owner
from .pictures import Picture
from .settings import UserSettings

log = logging.getLogger("stylebot.recent")
T = TypeVar("T")

#: what tokens look like: short (Telegram's callback_data holds 64 bytes), and never a
#: path anything else could be read from
TOKEN = re.compile(r"[A-Za-z0-9_-]{8}")
#: the newest entries also kept in memory (each about a megabyte)
IN_MEMORY = 16


@dataclass(frozen=True)
class RecentJob:
    owner: Owner
    chat: str
    group: bool
    content: Picture
    #: None while the photo waits for a painting from the gallery, or when ``painting``
    #: names the gallery painting used (it is not stored again)
    style: Picture | None = None
    painting: str = ""
    #: what the job ran with; None: the user's settings at the time of the pick
    settings: UserSettings | None = None
    #: the user's message a result replies to
    reply_to: int | None = None
    created: float = field(default_factory=time.time)


@dataclass
class Kept:
    """What the bot remembers of an entry without reading it."""

    owner: Owner
    created: float
    size: int
    painting: str
    #: the result as its platform keeps it (a Telegram file_id), once posted: sharing
    shared: str = ""


class RecentJobs:
    def __init__(self, folder: Path, *, ttl: float, max_bytes: int) -> None:
        self.folder = folder
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._index: dict[str, Kept] = {}
        self._fresh: OrderedDict[str, RecentJob] = OrderedDict()
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recent-jobs")
        self._opened: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Future[None]] = set()

    async def _run(self, fn: Any, *args: Any) -> T:  # type: ignore[type-var]
        return await asyncio.get_running_loop().run_in_executor(self._disk, fn, *args)

    async def _ready(self) -> None:
        """The index of what an earlier run left, read once (lazily: starting stays fast)."""
        if self._opened is None:
            self._opened = asyncio.ensure_future(self._open())
        await asyncio.shield(self._opened)

    async def _open(self) -> None:
        try:
            found = await self._run(self._scan)
        except OSError:
            log.error("kept jobs cannot be read or written; buttons work until a restart",
                      exc_info=True, extra={"folder": str(self.folder)})
            return
        for token, kept in found.items():
            self._index.setdefault(token, kept)
        self._expire()

    def _scan(self) -> dict[str, Kept]:
        self.folder.mkdir(parents=True, exist_ok=True)
        found = {}
        for path in self.folder.iterdir():
            if not TOKEN.fullmatch(path.name):  # half-written leftovers of a crash
                shutil.rmtree(path, ignore_errors=True)
                continue
            try:
                found[path.name] = self._kept(path.name)
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("dropping an unreadable kept job", extra={"token": path.name})
                shutil.rmtree(path, ignore_errors=True)
        return found

    def _kept(self, token: str) -> Kept:
        path = self.folder / token
        meta = json.loads((path / "job.json").read_text(encoding="utf-8"))
        size = sum(f.stat().st_size for f in path.iterdir())
        return Kept(Owner(*meta["owner"]), float(meta["created"]), size,
                    meta.get("painting", ""), meta.get("shared", ""))

    def remember(self, job: RecentJob) -> str:
        """Keep ``job``; its token, at once (the disk write follows on its own thread)."""
        token = secrets.token_urlsafe(6)
        self._fresh[token] = job
        while len(self._fresh) > IN_MEMORY:
            self._fresh.popitem(last=False)
        self._index[token] = Kept(job.owner, job.created, 0, job.painting)
        write = asyncio.ensure_future(self._write(token, job))
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)
        return token

    async def _write(self, token: str, job: RecentJob) -> None:
        await self._ready()
        if token not in self._index:
            return  # already dropped (a flood of newer ones)
        try:
            size = await self._run(self._save, token, job)
        except OSError:
            log.warning("could not keep a job on disk; its buttons work until a restart",
                        exc_info=True, extra={"token": token})
            return
        kept = self._index.get(token)
        if kept is not None:
            kept.size = size
        self._expire()

    def _save(self, token: str, job: RecentJob) -> int:
        meta = {"owner": [job.owner.platform, job.owner.user_id], "chat": job.chat,
                "group": job.group, "painting": job.painting, "reply_to": job.reply_to,
                "created": job.created, "shared": "",
                "settings": dataclasses.asdict(job.settings) if job.settings else None}
        pictures = {"content": job.content, "style": job.style}
        temporary = self.folder / f".{token}"
        temporary.mkdir(parents=True)
        for name, picture in pictures.items():
            if picture is not None:
                (temporary / f"{name}.jpg").write_bytes(picture.data)
                (temporary / f"{name}.thumb.jpg").write_bytes(picture.thumbnail)
                meta[name] = [picture.width, picture.height]
        (temporary / "job.json").write_text(json.dumps(meta), encoding="utf-8")
        temporary.rename(self.folder / token)
        return sum(f.stat().st_size for f in (self.folder / token).iterdir())

    async def get(self, token: str) -> RecentJob | None:
        """The entry behind ``token``; None when it is unknown, expired or unreadable."""
        if not TOKEN.fullmatch(token):
            return None
        await self._ready()
        if token not in self._index:  # written since by another bot process sharing the disk?
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                self._index[token] = await self._run(self._kept, token)
        self._expire()
        if token not in self._index:
            return None
        fresh = self._fresh.get(token)
        if fresh is not None:
            self._fresh.move_to_end(token)
            return fresh
        try:
            return await self._run(self._load, token)
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("a kept job cannot be read", exc_info=True, extra={"token": token})
            return None

    def _load(self, token: str) -> RecentJob:
        path = self.folder / token
        meta = json.loads((path / "job.json").read_text(encoding="utf-8"))

        def picture(name: str) -> Picture | None:
            if name not in meta:
                return None
            width, height = meta[name]
            return Picture((path / f"{name}.jpg").read_bytes(), int(width), int(height),
                           (path / f"{name}.thumb.jpg").read_bytes())

        content = picture("content")
        assert content is not None, "every kept job has its photo"
        settings = meta.get("settings")
        return RecentJob(Owner(*meta["owner"]), meta["chat"], bool(meta["group"]), content,
                         picture("style"), meta.get("painting", ""),
                         UserSettings().merged(settings) if settings is not None else None,
                         meta.get("reply_to"), float(meta["created"]))

    async def share(self, token: str, shared: str) -> None:
        """The result of ``token`` was posted and its platform keeps it as ``shared``."""
        kept = self._index.get(token)
        if kept is None:
            return
        kept.shared = shared
        await asyncio.gather(*self._writes)  # the entry is on disk before it is changed
        try:
            await self._run(self._mark_shared, token, shared)
        except (OSError, ValueError):
            log.warning("could not keep a result for sharing", extra={"token": token})

    def _mark_shared(self, token: str, shared: str) -> None:
        path = self.folder / token / "job.json"
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["shared"] = shared
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(meta), encoding="utf-8")
        temporary.replace(path)

    async def shared_by(self, owner: Owner) -> list[tuple[str, Kept]]:
        """``owner``'s posted results, newest first: what they can share."""
        await self._ready()
        self._expire()
        mine = [(token, kept) for token, kept in self._index.items()
                if kept.owner == owner and kept.shared]
        return sorted(mine, key=lambda item: item[1].created, reverse=True)

    def _expire(self) -> None:
        """Forget expired entries, then the oldest while over ``max_bytes``."""
        now = time.time()
        by_age = sorted(self._index.items(), key=lambda item: item[1].created)
        total = sum(kept.size for _token, kept in by_age if now - kept.created <= self.ttl)
        gone = []
        for token, kept in by_age:
            expired = now - kept.created > self.ttl
            if not expired and total <= self.max_bytes:
                break
            gone.append(token)
            total -= 0 if expired else kept.size
        for token in gone:
            del self._index[token]
            self._fresh.pop(token, None)
            self._disk.submit(shutil.rmtree, self.folder / token, ignore_errors=True)

    async def close(self) -> None:
        """Finish the writes under way (a restart must find them), then stop the thread."""
        await asyncio.gather(*self._writes, return_exceptions=True)
        await asyncio.to_thread(self._disk.shutdown)
