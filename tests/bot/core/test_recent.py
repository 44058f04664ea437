"""The pictures behind the buttons, on disk: kept across restarts, expiring, bounded."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.core.jobs import Owner
from bot.core.pictures import Picture
from bot.core.recent import RecentJob, RecentJobs
from bot.core.settings import UserSettings
from tests.conftest import gradient_image, stripes_image

ALICE, BOB = Owner("telegram", "1"), Owner("telegram", "2")
PHOTO = Picture.from_image(gradient_image(64, 48))
PAINTING = Picture.from_image(stripes_image(40, 40))
DAY = 86400.0


def store(folder: Path, **limits: float) -> RecentJobs:
    return RecentJobs(folder, ttl=limits.get("ttl", 3 * DAY),
                      max_bytes=int(limits.get("max_bytes", 2**30)))


def pair(owner: Owner = ALICE, **fields: object) -> RecentJob:
    return RecentJob(owner, "telegram:1", False, PHOTO, PAINTING,
                     settings=UserSettings(strength=7.0), reply_to=42, **fields)  # type: ignore[arg-type]


async def test_an_entry_survives_a_restart_whole(tmp_path: Path) -> None:
    first = store(tmp_path)
    token = first.remember(pair())
    photo_only = first.remember(RecentJob(BOB, "telegram:2", True, PHOTO, painting=""))
    await first.close()
    again = store(tmp_path)
    job = await again.get(token)
    assert job is not None and job.owner == ALICE and job.reply_to == 42
    assert job.content.data == PHOTO.data and job.content.thumbnail == PHOTO.thumbnail
    assert job.style is not None and job.style.data == PAINTING.data
    assert job.settings == UserSettings(strength=7.0)
    waiting = await again.get(photo_only)
    assert waiting is not None and waiting.style is None and waiting.settings is None
    assert await again.get("../../etc") is None and await again.get("nosuchtk") is None
    await again.close()


async def test_gallery_paintings_are_named_not_copied(tmp_path: Path) -> None:
    recent = store(tmp_path)
    token = recent.remember(RecentJob(ALICE, "c", False, PHOTO, None, "wave", UserSettings()))
    await recent.close()
    assert {p.name for p in (tmp_path / token).iterdir()} == {
        "job.json", "content.jpg", "content.thumb.jpg"}
    job = await store(tmp_path).get(token)
    assert job is not None and job.painting == "wave" and job.style is None


async def test_entries_expire_by_the_clock_across_restarts(tmp_path: Path) -> None:
    recent = store(tmp_path)
    old, new = recent.remember(pair()), recent.remember(pair())
    await recent.close()
    meta = tmp_path / old / "job.json"
    written = json.loads(meta.read_text())
    meta.write_text(json.dumps({**written, "created": time.time() - 4 * DAY}))
    again = store(tmp_path)
    assert await again.get(old) is None and await again.get(new) is not None
    await again.close()
    assert not (tmp_path / old).exists()  # and its pictures are gone from the disk


async def test_the_oldest_go_first_beyond_the_byte_limit(tmp_path: Path) -> None:
    one = store(tmp_path)
    token = one.remember(pair())
    await one.close()
    size = sum(f.stat().st_size for f in (tmp_path / token).iterdir())
    recent = store(tmp_path, max_bytes=2.5 * size)
    tokens = [token]
    for _ in range(3):
        tokens.append(recent.remember(pair()))
        await recent.close()
        recent = store(tmp_path, max_bytes=2.5 * size)
    kept = [t for t in tokens if await recent.get(t) is not None]
    assert kept == tokens[-2:]
    await recent.close()


async def test_shared_results_are_listed_for_their_owner_only(tmp_path: Path) -> None:
    recent = store(tmp_path)
    mine, theirs, unposted = recent.remember(pair()), recent.remember(pair(BOB)), \
        recent.remember(pair())
    await recent.share(mine, "photo-of-alice")
    await recent.share(theirs, "photo-of-bob")
    await recent.close()
    again = store(tmp_path)
    listed = await again.shared_by(ALICE)
    assert [(token, kept.shared) for token, kept in listed] == [(mine, "photo-of-alice")]
    assert unposted not in dict(listed)
    await again.close()


async def test_leftovers_of_a_crash_are_cleared(tmp_path: Path) -> None:
    (tmp_path / ".Half_wrt").mkdir()
    (tmp_path / ".Half_wrt" / "content.jpg").write_bytes(b"half")
    (tmp_path / "Broken_1").mkdir()
    (tmp_path / "Broken_1" / "job.json").write_text("{not json")
    recent = store(tmp_path)
    assert await recent.get("Broken_1") is None
    await recent.close()
    assert not (tmp_path / ".Half_wrt").exists() and not (tmp_path / "Broken_1").exists()


async def test_an_entry_another_process_wrote_later_is_found(tmp_path: Path) -> None:
    """Two bot processes on one disk (a rolling restart): each finds the other's."""
    early, late = store(tmp_path), store(tmp_path)
    assert await early.get("Zz_00000") is None  # its index is read now
    token = late.remember(pair())
    await late.close()
    job = await early.get(token)
    assert job is not None and job.owner == ALICE
    await early.close()
