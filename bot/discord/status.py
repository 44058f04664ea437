"""A job's status on Discord: the interaction's own response while its token lives, a
normal channel message after that (tokens die after 15 minutes), and results that fit
the channel's upload limit."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import discord
from PIL import Image

from ..core.jobdesk import JobStart, credit_line, rerun_id, warning
from ..core.jobs import Failed, Finished, Progressed, Shown, failure_text
from ..core.status import CANCELLED, status_text
from ..i18n import Speech, Text, _, lines, render

log = logging.getLogger("stylebot.discord")

#: how long before an interaction token's 15 minutes are up we stop trusting it
TOKEN_MARGIN = dt.timedelta(seconds=60)
RESULT_COLOUR = discord.Colour.from_rgb(218, 165, 32)
DONE = _("🖼 Done")


class Target(Protocol):
    """Where the status lives: an interaction response or a channel message."""

    async def edit(self, **fields: object) -> None: ...


@dataclass
class InteractionTarget:
    interaction: discord.Interaction

    async def edit(self, **fields: object) -> None:
        await self.interaction.edit_original_response(**fields)  # type: ignore[arg-type]


@dataclass
class MessageTarget:
    message: discord.Message
    prefix: str = ""  # e.g. the requester's mention, kept in front of every status text

    async def edit(self, **fields: object) -> None:
        if self.prefix:
            text = fields.get("content")
            fields["content"] = f"{self.prefix} {text}" if text else self.prefix
        await self.message.edit(**fields)  # type: ignore[arg-type]


def fit_upload(png: bytes, limit: int) -> tuple[bytes, str, Text | None]:
    """(data, filename, note): the PNG if it fits, else JPEG, then smaller, until it does."""
    if len(png) <= limit:
        return png, "stylebot.png", None
    image = Image.open(io.BytesIO(png)).convert("RGB")
    original = image.size
    for quality in (92, 85, 75):
        data = jpeg(image, quality)
        if len(data) <= limit:
            return data, "stylebot.jpg", _("Saved as JPEG to fit this channel's {limit} MB "
                                           "upload limit.", limit=f"{limit / 2**20:.0f}")
    while max(image.size) > 64:
        image = image.resize((round(image.width * 0.8), round(image.height * 0.8)),
                             Image.Resampling.LANCZOS)
        data = jpeg(image, 85)
        if len(data) <= limit:
            break
    return data, "stylebot.jpg", _(
        "Scaled from {before} to {after} and saved as JPEG to fit this channel's {limit} MB "
        "upload limit.", before=f"{original[0]}×{original[1]}",
        after=f"{image.width}×{image.height}", limit=f"{limit / 2**20:.1f}")


def rerun_buttons(start: JobStart) -> discord.ui.View:
    """The buttons under a result, three a row. Their ids name the job, and the clicks are
    handled by a dynamic item registered at startup (``handlers.rerun``), so they work
    whatever process posted them, after restarts too."""
    view = discord.ui.View(timeout=None)
    for index, (change, label) in enumerate(start.reruns):
        view.add_item(discord.ui.Button(label=render(label, start.language),
                                        custom_id=rerun_id(start.token, change),
                                        style=discord.ButtonStyle.secondary, row=index // 3))
    return view


def jpeg(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


class DiscordStatusView:
    """A job's status in the requester's language: an interaction's response while its
    token lives, a channel message after that; then the result with its buttons."""

    def __init__(self, target: Target, start: JobStart, *,
                 channel: discord.abc.Messageable | None, requester: discord.abc.User,
                 upload_limit: int, token_expires: dt.datetime | None = None) -> None:
        self.target = target
        self.start = start
        self.channel = channel
        self.requester = requester
        self.upload_limit = upload_limit
        self.token_expires = token_expires
        self._text: str | None = None  # an unchanged status is not edited again

    @classmethod
    def for_interaction(cls, interaction: discord.Interaction,
                        start: JobStart) -> DiscordStatusView:
        return cls(InteractionTarget(interaction), start, channel=interaction.channel,  # type: ignore[arg-type]
                   requester=interaction.user, upload_limit=interaction.filesize_limit,
                   token_expires=interaction.expires_at - TOKEN_MARGIN)

    def say(self, speech: Speech) -> str:
        return render(speech, self.start.language)

    def record(self) -> dict[str, Any]:
        """What a later bot process needs to take this job over: the channel and who
        asked (an interaction's token dies with this process, so it continues in a new
        channel message)."""
        channel = getattr(self.channel, "id", None)
        return {"channel_id": channel, "requester": self.requester.id,
                "upload_limit": self.upload_limit}

    @classmethod
    async def restore(cls, client: discord.Client, start: JobStart,
                      saved: dict[str, Any]) -> DiscordStatusView:
        channel = client.get_channel(saved["channel_id"]) or \
            await client.fetch_channel(saved["channel_id"])
        requester = client.get_user(saved["requester"]) or \
            await client.fetch_user(saved["requester"])
        assert isinstance(channel, discord.abc.Messageable)
        status = await channel.send(f"{requester.mention} {render(start.first, start.language)}")
        return cls(MessageTarget(status, prefix=requester.mention), start, channel=channel,
                   requester=requester, upload_limit=int(saved["upload_limit"]))

    async def _edit(self, **fields: object) -> None:
        """Edit the status; move to a channel message when the interaction token is done."""
        if isinstance(self.target, InteractionTarget) and self.token_expires is not None and \
                discord.utils.utcnow() >= self.token_expires:
            await self._move_to_channel(fields)
            return
        try:
            await self.target.edit(**fields)
        except discord.HTTPException as exc:
            if not isinstance(self.target, InteractionTarget) or exc.status not in (401, 404):
                raise
            log.info("interaction token expired; continuing in the channel")
            await self._move_to_channel(fields)

    async def _move_to_channel(self, fields: dict[str, object]) -> None:
        if self.channel is None:
            raise RuntimeError("the interaction expired and there is no channel to post in")
        files = fields.pop("attachments", None) or []
        for file in files:  # type: ignore[attr-defined]
            file.reset()  # a failed edit may have read it already
        target = MessageTarget(await self.channel.send(self.requester.mention),
                               prefix=self.requester.mention)
        await target.edit(**fields, attachments=files)
        self.target = target

    async def show_first(self) -> None:
        """The status as the job is queued (position) or starts."""
        self._text = self.say(self.start.first)
        await self._edit(content=self._text)

    async def show(self, event: Shown) -> None:
        text = self.say(status_text(event))
        if isinstance(event, Progressed) and event.preview_jpeg:
            await self._edit(content=text, attachments=[
                discord.File(io.BytesIO(event.preview_jpeg), "preview.jpg")])
        elif text != self._text:
            await self._edit(content=text)
        self._text = text

    async def finished(self, event: Finished) -> None:
        # decoding and re-encoding a large result takes a fraction of a second: not on the loop
        data, filename, note = await asyncio.to_thread(fit_upload, event.png, self.upload_limit)
        description = lines(self.start.settings.summary(), credit_line(self.start),
                            _("for {who} · {seconds} s", who=self.requester.mention,
                              seconds=f"{event.seconds:.0f}"), note)
        embed = discord.Embed(title=self.say(DONE), colour=RESULT_COLOUR,
                              description=self.say(description))
        embed.set_image(url=f"attachment://{filename}")
        await self._edit(content=None, embed=embed,
                         view=rerun_buttons(self.start),
                         attachments=[discord.File(io.BytesIO(data), filename)])

    async def failed(self, event: Failed) -> None:
        await self._edit(content=self.say(warning(failure_text(event))), attachments=[])

    async def cancelled(self) -> None:
        await self._edit(content=self.say(CANCELLED), attachments=[])
