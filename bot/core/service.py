"""The platform-free bot: the actions Telegram and Discord handlers call.

A front end translates a platform event into a ``Who`` and one of these actions, and
renders the answer (a ``Speech``) in the user's language. The parts behind the actions
each have their own module: ``preferences`` (settings and language), ``uploads`` (budget,
sandboxed decoding, refusals), ``pairs`` (pictures waiting for their partner) and
``jobdesk`` (submitting, cancelling, the queue, re-runs) and ``gallery`` (paintings to
pick from).
"""

from __future__ import annotations

import time

from ..config import BotConfig
from ..i18n import Speech, Text, _, lines, plural
from .gallery import Gallery, load_gallery
from .jobdesk import JobDesk
from .metrics import Metrics, describe
from .pairs import Pairs
from .pool import JobPool
from .preferences import Preferences
from .ratelimit import SlidingWindow
from .status import SendingBudget
from .store import SettingsStore
from .uploads import Uploads
from .who import Who

#: a plain message in a private chat gets this, so nobody is left without an answer
HINT = _("Send me a photo to paint, then a painting — or /help.")
RESTARTING = _("I'm restarting; please try again in a minute.")


class Stylebot:
    def __init__(self, config: BotConfig, pool: JobPool, store: SettingsStore) -> None:
        self.config = config
        self.metrics = Metrics()
        self.metrics.track_pool(pool.stats)
        self.started = time.time()
        self.gallery: Gallery = load_gallery(config.gallery)  # checked with the config
        self.preferences = Preferences(config, store)
        self.uploads = Uploads(config.limits, self.metrics)
        self.jobs = JobDesk(config, pool, self.preferences, self.metrics, self.gallery)
        self.pairs = Pairs(config.limits.pending_ttl, self.jobs, self.gallery)
        #: explanations of refused input, per user: a flood of stickers gets a few answers
        self._notices = SlidingWindow(3, 30.0)

    async def say(self, who: Who, speech: Speech) -> str:
        """``speech`` in ``who``'s language."""
        return await self.preferences.say(who, speech)

    def notice_allowed(self, who: Who) -> bool:
        """Whether to explain a refusal to ``who`` now (a few per half minute)."""
        return self._notices.allow(f"{who.platform}:{who.user_id}")

    def sending(self, who: Who) -> SendingBudget:
        """The chat's sending budget: every message and edit to the chat goes through it."""
        return self.jobs.limits.sending(who.chat, who.group)

    def cancel(self, who: Who) -> Speech:
        """/cancel: ``who``'s jobs, or else the picture waiting for its partner."""
        cancelled = self.jobs.cancel(who)
        if cancelled:
            return plural("✖️ Cancelled {count} picture.", "✖️ Cancelled {count} pictures.",
                          cancelled)
        if self.pairs.forget(who):
            return _("✖️ Forgot the picture you sent; start again whenever you like.")
        return _("You have nothing running or waiting.")

    def queue_report(self, who: Who) -> Speech:
        return lines(self.jobs.report(who), self.pairs.holding(who))

    def is_owner(self, who: Who) -> bool:
        platform = getattr(self.config, who.platform, None)
        return platform is not None and int(who.user_id) in platform.admin_ids

    async def shared(self, who: Who, bot: str, query: str = "") -> list[tuple[str, str, Text]]:
        """``who``'s own posted results to share elsewhere, newest first, optionally only
        those whose gallery painting matches ``query``: (token, the platform's id of the
        picture, a credit line naming the painting and ``bot``)."""
        found = []
        for token, kept in await self.jobs.recent.shared_by(who.owner):
            painting = self.gallery.get(kept.painting) if kept.painting else None
            if query and (painting is None or painting not in self.gallery.search(query)):
                continue
            credit = (_("🎨 In the style of {painting} · painted by {bot}",
                        painting=painting.credit, bot=bot) if painting is not None else
                      _("🎨 Painted by {bot}", bot=bot))
            found.append((token, kept.shared, credit))
        return found

    async def posted(self, token: str, shared: str) -> None:
        """The result of ``token`` is in the chat; the platform keeps it as ``shared``."""
        await self.jobs.recent.share(token, shared)

    def stats(self, who: Who) -> Speech:
        """/stats, for the bot's owners only."""
        if not self.is_owner(who):
            return _("/stats is for the bot's owners.")
        return describe(self.metrics.snapshot(), self.started)

    async def drain(self, timeout: float) -> None:
        await self.jobs.drain(timeout)

    async def close(self) -> None:
        await self.uploads.close()
        await self.jobs.recent.close()
