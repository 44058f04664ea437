"""Recently finished pairs, so the buttons under a result can re-run them with one change."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from .jobs import Owner
from .pictures import Picture
from .settings import UserSettings


@dataclass(frozen=True)
class RecentJob:
    owner: Owner
    chat: str
    group: bool
    content: Picture
    style: Picture
    settings: UserSettings
    created: float = field(default_factory=time.monotonic)


class RecentJobs:
    """A small LRU with a time limit: each pair is about a megabyte."""

    def __init__(self, max_entries: int = 24, ttl: float = 1800.0) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._jobs: OrderedDict[str, RecentJob] = OrderedDict()

    def remember(self, job: RecentJob) -> str:
        token = secrets.token_urlsafe(6)  # short: Telegram's callback_data holds 64 bytes
        self._jobs[token] = job
        while len(self._jobs) > self.max_entries:
            self._jobs.popitem(last=False)
        return token

    def get(self, token: str) -> RecentJob | None:
        job = self._jobs.get(token)
        if job is None or time.monotonic() - job.created > self.ttl:
            self._jobs.pop(token, None)
            return None
        self._jobs.move_to_end(token)
        return job
