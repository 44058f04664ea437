"""A job's status on Discord: the interaction's own response while its token lives, a
normal channel message after that (tokens die after 15 minutes), and results that fit
the channel's upload limit."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
from dataclasses import dataclass
from typing import Protocol

import discord
from PIL import Image

from ..core.choices import Choices
from ..core.jobs import Failed, Finished, Progressed, Queued, Started
from ..core.status import status_text

log = logging.getLogger("stylebot.discord")

#: how long before an interaction token's 15 minutes are up we stop trusting it
TOKEN_MARGIN = dt.timedelta(seconds=60)
RESULT_COLOUR = discord.Colour.from_rgb(218, 165, 32)


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


def fit_upload(png: bytes, limit: int) -> tuple[bytes, str, str | None]:
    """(data, filename, note): the PNG if it fits, else JPEG, then smaller, until it does."""
    if len(png) <= limit:
        return png, "stylebot.png", None
    image = Image.open(io.BytesIO(png)).convert("RGB")
    original = image.size
    for quality in (92, 85, 75):
        data = jpeg(image, quality)
        if len(data) <= limit:
            return data, "stylebot.jpg", (f"Saved as JPEG to fit this channel's "
                                          f"{limit / 2**20:.0f} MB upload limit.")
    while max(image.size) > 64:
        image = image.resize((round(image.width * 0.8), round(image.height * 0.8)),
                             Image.Resampling.LANCZOS)
        data = jpeg(image, 85)
        if len(data) <= limit:
            break
    return data, "stylebot.jpg", (
        f"Scaled from {original[0]}×{original[1]} to {image.width}×{image.height} and saved as "
        f"JPEG to fit this channel's {limit / 2**20:.1f} MB upload limit.")


def jpeg(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


class DiscordStatusView:
    def __init__(self, target: Target, *, channel: discord.abc.Messageable | None,
                 choices: Choices, requester: discord.abc.User, upload_limit: int,
                 buttons: discord.ui.View | None,
                 token_expires: dt.datetime | None = None) -> None:
        self.target = target
        self.channel = channel
        self.choices = choices
        self.requester = requester
        self.upload_limit = upload_limit
        self.buttons = buttons
        self.token_expires = token_expires
        self._text: str | None = None  # an unchanged status is not edited again

    @classmethod
    def for_interaction(cls, interaction: discord.Interaction, **kw: object) -> DiscordStatusView:
        return cls(InteractionTarget(interaction), channel=interaction.channel,  # type: ignore[arg-type]
                   token_expires=interaction.expires_at - TOKEN_MARGIN, **kw)

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

    async def show(self, event: Queued | Started | Progressed) -> None:
        text = status_text(event)
        if isinstance(event, Progressed) and event.preview_jpeg:
            await self._edit(content=text, attachments=[
                discord.File(io.BytesIO(event.preview_jpeg), "preview.jpg")])
        elif text != self._text:
            await self._edit(content=text)
        self._text = text

    async def finished(self, event: Finished) -> None:
        # decoding and re-encoding a large result takes a fraction of a second: not on the loop
        data, filename, note = await asyncio.to_thread(fit_upload, event.png, self.upload_limit)
        embed = discord.Embed(title="🖼 Done", colour=RESULT_COLOUR,
                              description=f"{self.choices.summary()}\nfor {self.requester.mention}"
                              f" · {event.seconds:.0f} s" + (f"\n{note}" if note else ""))
        embed.set_image(url=f"attachment://{filename}")
        await self._edit(content=None, embed=embed, view=self.buttons,
                         attachments=[discord.File(io.BytesIO(data), filename)])

    async def failed(self, event: Failed) -> None:
        await self._edit(content=f"⚠️ {event.message}", attachments=[])

    async def cancelled(self) -> None:
        await self._edit(content="✖️ Cancelled.", attachments=[])
