"""Pictures waiting for their partner: a photo for its painting, or the other way round.
A complete pair becomes a job; otherwise the user is told which picture is missing — and
a lone photo is offered the gallery, whose picks start the job at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..i18n import Speech, _
from .gallery import Gallery, GalleryOffer
from .jobdesk import JobDesk, ViewFactory
from .pending import PendingPair, PendingPairs, Role
from .pictures import Picture
from .recent import RecentJob
from .who import Who

PHOTO_GONE = _("I no longer have that photo; please send it again.")

ROLE_WORDS: dict[str, Role] = {"content": "content", "photo": "content",
                               "style": "style", "painting": "style"}


def role_from_text(text: str | None) -> Role | None:
    """'content' / 'style' (or 'photo' / 'painting') anywhere in a caption picks the role."""
    for word in (text or "").lower().replace(",", " ").split():
        if word.strip(".!:") in ROLE_WORDS:
            return ROLE_WORDS[word.strip(".!:")]
    return None


@dataclass(frozen=True)
class Offered:
    picture: Picture
    role: Role | None  # what the user said it is (a caption, a filename), if anything
    order: int  # its message's position in the chat: the first sent is the photo


class Pairs:
    def __init__(self, ttl: float, jobs: JobDesk, gallery: Gallery) -> None:
        self.pending = PendingPairs(ttl)
        self.jobs = jobs
        self.gallery = gallery

    async def take(self, who: Who, offered: Sequence[Offered],
                   view: ViewFactory) -> Speech | GalleryOffer | None:
        """Add pictures to ``who``'s pair; a complete pair is submitted. None: a job is on
        its way; else what to tell the user (the missing picture — for a lone photo with
        the gallery to pick from —, or why not)."""
        pair: PendingPair | None = None
        for item in offered:
            pair = self.pending.add(who.pair_key, item.picture, item.role, order=item.order)
        assert pair is not None
        if not pair.complete:
            return self._ask(who, pair)
        self.pending.pop(who.pair_key)
        assert pair.content is not None and pair.style is not None
        return await self.jobs.submit(who, pair.content, pair.style, view,
                                      reply_to=pair.reply_to)

    def hold_photo(self, who: Who, picture: Picture, order: int) -> Speech | GalleryOffer:
        """``/stylize`` in reply to a photo: that photo waits for its painting."""
        return self._ask(who, self.pending.add(who.pair_key, picture, "content", order))

    def offer(self, who: Who, photo: Picture, reply_to: int | None) -> GalleryOffer:
        """The gallery for ``photo`` alone (Discord: a mention with one picture); the photo
        is kept for the picks, on disk, so they work after a restart too."""
        token = self.jobs.recent.remember(RecentJob(who.owner, who.chat, who.group, photo,
                                                    reply_to=reply_to))
        if who.group:
            return GalleryOffer(_("{who}: Got the photo 👍 Pick a painting below — or send "
                                  "your own painting in reply to this message.",
                                  who=who.mention), token)
        return GalleryOffer(_("Got the photo 👍 Pick a painting below — or send your own "
                              "painting. (/swap if I mixed them up.)"), token)

    def _ask(self, who: Who, pair: PendingPair) -> Speech | GalleryOffer:
        if pair.missing == "style" and self.gallery and pair.content is not None:
            return self.offer(who, pair.content, pair.reply_to)
        return ask_for_missing(who, pair)

    async def other(self, who: Who, token: str) -> Speech | GalleryOffer:
        """"Other painting" under a result: the gallery again, for the same photo (picks
        keep the result's settings)."""
        found = await self.jobs.kept(who, token)
        if not isinstance(found, RecentJob):
            return found
        if who.group:
            return GalleryOffer(_("{who}: pick another painting for this photo.",
                                  who=who.mention), token)
        return GalleryOffer(_("Pick another painting for this photo."), token)

    async def pick_refusal(self, who: Who, token: str) -> Speech | None:
        """Why ``who`` may not pick (or page) for the photo behind ``token``; None: they
        may (platforms that must answer privately before starting ask first)."""
        found = await self.jobs.kept(who, token, too_old=PHOTO_GONE)
        return None if isinstance(found, RecentJob) else found

    async def pick(self, who: Who, token: str, key: str,
                   view: ViewFactory) -> tuple[Speech, bool]:
        """A painting picked from the gallery for a kept photo: (what to tell the picker,
        whether a job started)."""
        found = await self.jobs.kept(who, token, too_old=PHOTO_GONE)
        if not isinstance(found, RecentJob):
            return found, False
        painting = self.gallery.get(key)
        if painting is None:
            return _("That painting is no longer in the gallery; /styles shows what is."), False
        waiting = self.pending.get(who.pair_key)
        if waiting is not None and waiting.content is not None and \
                waiting.content.digest == found.content.digest:
            self.pending.pop(who.pair_key)  # it has its painting: a next picture starts anew
        refused = await self.jobs.submit(who, found.content, painting.picture, view,
                                         settings=found.settings, reply_to=found.reply_to,
                                         painting=painting)
        if refused is not None:
            return refused, False
        return _("🎨 Painting it like {title}…", title=painting.title), True

    def swap(self, who: Who) -> Speech:
        pair = self.pending.swap(who.pair_key)
        if pair is None:
            return _("Nothing to swap: send a picture first.")
        if pair.content is not None:
            return _("🔁 Swapped: the picture you sent is now the photo. Send the other one.")
        return _("🔁 Swapped: the picture you sent is now the painting. Send the other one.")

    def forget(self, who: Who) -> bool:
        """Drop ``who``'s half-pair; whether there was one."""
        return self.pending.pop(who.pair_key) is not None

    def holding(self, who: Who) -> Speech | None:
        """What is waiting for its partner, for the queue report."""
        pair = self.pending.get(who.pair_key)
        if pair is None or pair.missing is None:
            return None
        if pair.missing == "style":
            return _("I'm holding your photo; send the painting to start.")
        return _("I'm holding your painting; send the photo to start.")


def ask_for_missing(who: Who, pair: PendingPair) -> Speech:
    if pair.missing == "style":
        if who.group:
            return _("{who}: Got the photo 👍 Now send the painting whose style you want. "
                     "Reply to this message with it. (/swap if I mixed them up.)",
                     who=who.mention)
        return _("Got the photo 👍 Now send the painting whose style you want. (/swap if I "
                 "mixed them up.)")
    if who.group:
        return _("{who}: Got the painting 🎨 Now send the photo to paint. Reply to this "
                 "message with it.", who=who.mention)
    return _("Got the painting 🎨 Now send the photo to paint.")
