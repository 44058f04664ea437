"""The gallery: shipped paintings with their provenance, an operator's own, what users
type to find one, and what a broken manifest says."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest
from PIL import Image

from bot.config import GalleryConfig
from bot.core.gallery import (
    BUILTIN,
    MANIFEST,
    GalleryError,
    load_gallery,
    page_id,
    parse_page_id,
    parse_pick_id,
    pick_id,
)
from tests.conftest import stripes_image


def write_manifest(folder: Path, entries: str) -> None:
    (folder / MANIFEST).write_text(entries, encoding="utf-8")


def test_the_shipped_paintings_carry_their_provenance() -> None:
    gallery = load_gallery(GalleryConfig())
    manifest = tomllib.loads((BUILTIN / MANIFEST).read_text())["painting"]
    assert len(gallery) == len(manifest) == 8
    for entry, painting in zip(manifest, gallery.paintings, strict=True):
        assert painting.key == entry["key"] and painting.title and painting.artist
        assert entry["source"] and "public domain" in entry["status"]
        assert max(painting.picture.width, painting.picture.height) <= 768
    assert gallery.get("starry_night").credit == "The Starry Night — Vincent van Gogh, 1889"  # type: ignore[union-attr]


def test_what_users_type_finds_a_painting() -> None:
    gallery = load_gallery(GalleryConfig())
    assert [p.key for p in gallery.search("van go")] == ["starry_night"]
    assert gallery.search("")[:2] == list(gallery.paintings[:2])
    assert gallery.search("mon")[0].key == "mondrian"  # starting with it comes first
    assert gallery.find("wave").key == gallery.find("the great WAVE off kanagawa").key  # type: ignore[union-attr]
    assert gallery.find("munch").key == "the_scream"  # type: ignore[union-attr]
    assert gallery.find("o") is None  # ambiguous: many match
    page, number, pages = gallery.page(1, 6)
    assert (number, pages) == (1, 2) and [p.key for p in page] == ["udnie", "mondrian"]
    assert gallery.page(9, 6)[:2] == (page, 1)  # clamped
    assert Image.open(io.BytesIO(gallery.sheet)).size == (960, 480)


def test_button_ids_fit_telegram_and_round_trip() -> None:
    assert parse_pick_id(pick_id("Ab-_9xYz", "woman_with_hat")) == ("Ab-_9xYz", "woman_with_hat")
    assert parse_page_id(page_id("Ab-_9xYz", 3)) == ("Ab-_9xYz", 3)
    assert len(pick_id("x" * 8, "k" * 24).encode()) <= 64
    assert parse_pick_id("rr:Ab-_9xYz:stronger") is None


def test_an_operator_adds_and_replaces_paintings(tmp_path: Path) -> None:
    stripes_image(300, 200).save(tmp_path / "mine.png")
    write_manifest(tmp_path, """
[[painting]]
key = "stripes"
file = "mine.png"
title = "Stripes"
artist = "The operator"

[[painting]]
key = "wave"
file = "mine.png"
title = "Not the wave"
artist = "Someone"
year = "2024"
""")
    gallery = load_gallery(GalleryConfig(folder=tmp_path))
    assert len(gallery) == 9 and gallery.get("stripes").picture.width == 300  # type: ignore[union-attr]
    assert gallery.get("wave").title == "Not the wave"  # type: ignore[union-attr]
    alone = load_gallery(GalleryConfig(builtin=False, manifest=tmp_path / MANIFEST))
    assert [p.key for p in alone.paintings] == ["stripes", "wave"]


@pytest.mark.parametrize("entries,problem", [
    ('[[painting]]\nkey = "a"\nfile = "gone.jpg"\ntitle = "T"\nartist = "A"\n', "gone.jpg"),
    ('[[painting]]\nkey = "a"\nfile = "bad.jpg"\ntitle = "T"\nartist = "A"\n', "cannot be used"),
    ('[[painting]]\nkey = "a"\nfile = "ok.png"\ntitle = "T"\n', "artist missing"),
    ('[[painting]]\nkey = "Bad Key"\nfile = "ok.png"\ntitle = "T"\nartist = "A"\n', "key"),
    ('[[painting]]\nkey = "a"\nfile = "ok.png"\ntitle = "T"\nartist = "A"\nlicense = "?"\n',
     "unknown key"),
    ('[[painting]]\nkey = "a"\nfile = "ok.png"\ntitle = "T"\nartist = "A"\n' * 2, "twice"),
    ("painting = 3", "[[painting]] tables"),
    ("[[painting", "cannot be read"),
])
def test_a_broken_entry_says_what_to_fix(tmp_path: Path, entries: str, problem: str) -> None:
    stripes_image(64, 64).save(tmp_path / "ok.png")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    write_manifest(tmp_path, entries)
    with pytest.raises(GalleryError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        load_gallery(GalleryConfig(builtin=False, folder=tmp_path))


def test_a_missing_manifest_is_named(tmp_path: Path) -> None:
    with pytest.raises(GalleryError, match="not found"):
        load_gallery(GalleryConfig(folder=tmp_path))
