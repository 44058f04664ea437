"""The gallery: paintings to pick instead of sending one, because most people have no
painting file at hand.

The bot ships public-domain paintings (``bot/gallery/``, described with their provenance
in ``gallery.toml``); operators add their own, or replace these, with a folder and a
manifest of the same form (``[gallery]`` in the config). Every entry is read and decoded
when the config is checked, so a broken one is reported by ``check-config`` and at
start, never at a user's click.

A painting is decoded once into the same ``Picture`` a job carries, in the bot and in
every painter alike, so the style targets a painter computes between jobs are the ones a
pick looks up (``painting.gallery_warming``).
"""

from __future__ import annotations

import functools
import io
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from nst_engine import InputImageError
from nst_engine.images import load_image

from ..i18n import Speech
from .pictures import Picture

if TYPE_CHECKING:
    from ..config import BotConfig, GalleryConfig

#: the shipped paintings and their manifest
BUILTIN = Path(__file__).resolve().parents[1] / "gallery"
MANIFEST = "gallery.toml"
#: a painting's key: short, for button ids (Telegram's callback_data holds 64 bytes)
KEY = re.compile(r"[a-z0-9_]{1,24}")
#: the longest side a job's style needs (the largest result, 1024 px, with the engine's
#: 1.5× headroom for the painting); larger gallery files are reduced to it
MAX_SIDE = 1536
REQUIRED = ("key", "file", "title", "artist")
#: the contact sheet Discord's /styles shows: cells per row and their side in pixels
SHEET_COLUMNS = 4
SHEET_CELL = 240
#: a button's id for a pick: the kept photo's token and the painting (also Discord's
#: dynamic template), and one for a page of the gallery
PICK_PATTERN = r"g:(?P<token>[\w-]+):(?P<key>[a-z0-9_]+)"
PAGE_PATTERN = r"gp:(?P<token>[\w-]+):(?P<page>\d+)"


class GalleryError(ValueError):
    """A manifest or painting that cannot be used, phrased as what to fix (for operators)."""


@dataclass(frozen=True, repr=False)
class Painting:
    key: str
    title: str
    artist: str
    year: str  # may be empty: not every source dates its painting
    source: str  # provenance: where the file came from
    picture: Picture

    @property
    def credit(self) -> str:
        """Title, artist and year, for captions and lists (names: not translated)."""
        return f"{self.title} — {self.artist}" + (f", {self.year}" if self.year else "")

    def __repr__(self) -> str:
        return f"Painting({self.key!r}, {self.picture!r})"


@dataclass(frozen=True)
class GalleryOffer:
    """The gallery offered for a kept photo: the buttons carry ``token``."""

    text: Speech
    token: str


@dataclass(frozen=True)
class GalleryWarmUp:
    """What a painter prepares once ready: the gallery's style targets at the sizes and
    with the preset jobs will use (``painting.gallery_warming``)."""

    source: GalleryConfig
    sizes: tuple[int, ...]
    preset: str

    @classmethod
    def of(cls, config: BotConfig) -> GalleryWarmUp:
        """The configured sizes (else the default one) with the default preset."""
        return cls(config.gallery, config.gallery.warm_sizes or (config.defaults.size,),
                   config.defaults.preset)


def pick_id(token: str, key: str) -> str:
    """A gallery button's id (Telegram callback_data, Discord custom_id)."""
    return f"g:{token}:{key}"


def page_id(token: str, page: int) -> str:
    return f"gp:{token}:{page}"


def parse_pick_id(data: str) -> tuple[str, str] | None:
    found = re.fullmatch(PICK_PATTERN, data)
    return (found["token"], found["key"]) if found else None


def parse_page_id(data: str) -> tuple[str, int] | None:
    found = re.fullmatch(PAGE_PATTERN, data)
    return (found["token"], int(found["page"])) if found else None


class Gallery:
    def __init__(self, paintings: Sequence[Painting]) -> None:
        self.paintings = tuple(paintings)
        self._by_key = {p.key: p for p in self.paintings}

    def __len__(self) -> int:
        return len(self.paintings)

    def get(self, key: str) -> Painting | None:
        return self._by_key.get(key)

    def number(self, painting: Painting) -> int:
        """Its number in /styles (1-based)."""
        return self.paintings.index(painting) + 1

    def search(self, text: str, limit: int = 25) -> list[Painting]:
        """Paintings whose key, title or artist contain ``text`` (all for none), those that
        start with it first: Discord's autocomplete."""
        wanted = text.strip().casefold()
        hits = [p for p in self.paintings
                if wanted in f"{p.key} {p.title} {p.artist}".casefold()]
        hits.sort(key=lambda p: not (p.title.casefold().startswith(wanted)
                                     or p.artist.casefold().startswith(wanted)))
        return hits[:limit]

    def find(self, name: str) -> Painting | None:
        """What a user typed: a key (autocomplete's value), a title, or a unique match."""
        found = self.get(name.strip())
        if found is not None:
            return found
        titled = [p for p in self.paintings if p.title.casefold() == name.strip().casefold()]
        hits = titled or self.search(name)
        return hits[0] if len(hits) == 1 else None

    def page(self, number: int, per_page: int) -> tuple[tuple[Painting, ...], int, int]:
        """The paintings on page ``number`` (0-based), that number clamped to the pages
        there are, and how many there are."""
        pages = max(1, -(-len(self.paintings) // per_page))
        number = min(max(number, 0), pages - 1)
        return self.paintings[number * per_page:(number + 1) * per_page], number, pages

    @functools.cached_property
    def sheet(self) -> bytes:
        """Every painting's thumbnail in a numbered grid, as one JPEG (Discord's /styles)."""
        rows = max(1, -(-len(self.paintings) // SHEET_COLUMNS))
        columns = min(SHEET_COLUMNS, max(1, len(self.paintings)))
        sheet = Image.new("RGB", (columns * SHEET_CELL, rows * SHEET_CELL), (24, 24, 28))
        draw = ImageDraw.Draw(sheet)
        font = ImageFont.load_default(size=SHEET_CELL // 8)
        for index, painting in enumerate(self.paintings):
            thumb = Image.open(io.BytesIO(painting.picture.thumbnail))
            thumb.thumbnail((SHEET_CELL - 8, SHEET_CELL - 8))
            x = index % SHEET_COLUMNS * SHEET_CELL
            y = index // SHEET_COLUMNS * SHEET_CELL
            sheet.paste(thumb, (x + (SHEET_CELL - thumb.width) // 2,
                                y + (SHEET_CELL - thumb.height) // 2))
            label = str(index + 1)
            box = draw.textbbox((x + 10, y + 8), label, font=font)
            draw.rectangle((box[0] - 6, box[1] - 4, box[2] + 6, box[3] + 4), fill=(0, 0, 0))
            draw.text((x + 10, y + 8), label, font=font, fill=(255, 255, 255))
        buf = io.BytesIO()
        sheet.save(buf, format="JPEG", quality=85)
        return buf.getvalue()


def manifests(config: GalleryConfig) -> list[tuple[Path, Path]]:
    """(manifest, folder) pairs to read, shipped first: an operator's entry with a shipped
    key replaces that painting."""
    found = [(BUILTIN / MANIFEST, BUILTIN)] if config.builtin else []
    if config.folder is not None or config.manifest is not None:
        folder = config.folder if config.folder is not None else config.manifest.parent  # type: ignore[union-attr]
        found.append((config.manifest or folder / MANIFEST, folder))
    return found


def read_manifest(manifest: Path, folder: Path) -> list[dict[str, str]]:
    """The ``[[painting]]`` entries of a manifest, checked; raises ``GalleryError``."""
    try:
        raw = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GalleryError(f"gallery manifest {manifest} not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GalleryError(f"gallery manifest {manifest} cannot be read: {exc}") from None
    entries = raw.get("painting", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise GalleryError(f"{manifest}: paintings must be [[painting]] tables")
    checked = []
    for number, entry in enumerate(entries, start=1):
        where = f"{manifest}, painting {number}"
        missing = [name for name in REQUIRED if not str(entry.get(name, "")).strip()]
        if missing:
            raise GalleryError(f"{where}: {', '.join(missing)} missing")
        unknown = set(entry) - {*REQUIRED, "year", "source", "status"}
        if unknown:
            raise GalleryError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if not KEY.fullmatch(str(entry["key"])):
            raise GalleryError(f"{where}: key {entry['key']!r} must be 1-24 of a-z, 0-9, _")
        checked.append({name: str(entry.get(name, "")).strip() for name in
                        (*REQUIRED, "year", "source")} | {"path": str(folder / entry["file"])})
    return checked


def load_painting(entry: dict[str, str]) -> Painting:
    """Decode an entry's file as a job's ``Picture``; raises ``GalleryError``."""
    path = Path(entry["path"])
    try:
        image = load_image(path, what="gallery painting", max_side=MAX_SIDE)
    except (InputImageError, OSError) as exc:
        raise GalleryError(f"gallery painting {entry['key']!r} ({path}) cannot be used: "
                           f"{exc}") from None
    return Painting(entry["key"], entry["title"], entry["artist"], entry["year"],
                    entry["source"], Picture.from_image(image))


@functools.lru_cache(maxsize=4)
def load_gallery(config: GalleryConfig) -> Gallery:
    """The configured gallery, decoded (once per process and config); raises
    ``GalleryError`` saying what to fix."""
    entries: dict[str, dict[str, str]] = {}
    for manifest, folder in manifests(config):
        own: set[str] = set()
        for entry in read_manifest(manifest, folder):
            if entry["key"] in own:
                raise GalleryError(f"{manifest}: key {entry['key']!r} is used twice")
            own.add(entry["key"])
            entries[entry["key"]] = entry
    return Gallery([load_painting(entry) for entry in entries.values()])
