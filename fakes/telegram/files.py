"""Files as Telegram keeps them: file ids, download paths, photo renditions and thumbnails.

Telegram re-encodes photos into JPEG sizes and makes thumbnails of image documents; the fake
does the same with Pillow, so the bot downloads what it would really get.
"""

from __future__ import annotations

import base64
import copy
import io

from PIL import Image

from fakes.telegram.model import JSON, MAX_DOWNLOAD_SIZE, ApiError, StoredFile, Uploads
from fakes.telegram.state import TelegramState

_PHOTO_THUMB_SIDES = (90, 320, 800)
_PHOTO_MAX_SIDE = 1280
_DOCUMENT_THUMB_SIDE = 320

_FILE_ID_PREFIXES = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "thumbnail": "AAMCAgADGQEAAg",
    "sticker": "CAACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
}
_FILE_DIRS = {
    "photo": "photos",
    "document": "documents",
    "thumbnail": "thumbnails",
    "sticker": "stickers",
    "video": "videos",
    "voice": "voice",
}


class FilesMixin(TelegramState):
    """Stores what users and the bot send, and answers getFile."""

    def set_file_size_override(self, file_id: str, size: int) -> None:
        """Make getFile report (and judge by) ``size`` bytes, e.g. to simulate > 20 MB files."""
        self._files[file_id].size_override = size

    def _get_file(self, params: JSON, _uploads: Uploads) -> JSON:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD_SIZE:
            raise ApiError(400, "Bad Request: file is too big")
        fields = file_fields(stored)
        if stored.hide_size:
            fields.pop("file_size")
        return {**fields, "file_path": stored.file_path}

    def _store_file(
        self, kind: str, data: bytes, ext: str, mime_type: str, origin: bytes | None = None
    ) -> StoredFile:
        number = next(self._file_seq)
        tail = base64.urlsafe_b64encode(f"{self.bot_id}:{kind}:{number}".encode()).decode()
        stored = StoredFile(
            kind=kind,
            file_id=_FILE_ID_PREFIXES[kind] + tail.rstrip("="),
            file_unique_id=f"AQAD{number:06d}",
            file_path=f"{_FILE_DIRS[kind]}/file_{number}.{ext}",
            data=data,
            mime_type=mime_type,
            origin=data if origin is None else origin,
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _store_photo_sizes(
        self, sizes: list[tuple[int, int, bytes]], *, origin: bytes
    ) -> list[JSON]:
        """Store each rendition; the PhotoSize list is shared so any size's file_id can be
        re-sent as the whole photo, as on Telegram."""
        stored = [
            self._store_file("photo", data, "jpg", "image/jpeg", origin) for *_, data in sizes
        ]
        photo = [
            {**file_fields(item), "width": width, "height": height}
            for item, (width, height, _) in zip(stored, sizes, strict=True)
        ]
        for item in stored:
            item.meta = photo
        return copy.deepcopy(photo)

    def _store_document(
        self, data: bytes, file_name: str, mime_type: str, *, file_size: int | None = None
    ) -> JSON:
        ext = file_name.rpartition(".")[2] if "." in file_name else "bin"
        stored = self._store_file("document", data, ext, mime_type)
        stored.size_override = file_size
        document: JSON = {"file_name": file_name, "mime_type": mime_type, **file_fields(stored)}
        rendered = render_photo(data, sides=(), max_side=_DOCUMENT_THUMB_SIDE)
        if rendered:
            width, height, jpeg = rendered[1][0]
            thumb = self._store_file("thumbnail", jpeg, "jpg", "image/jpeg")
            document["thumbnail"] = {**file_fields(thumb), "width": width, "height": height}
        stored.meta = document
        return copy.deepcopy(document)


def file_fields(stored: StoredFile) -> JSON:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }


def render_photo(
    data: bytes,
    *,
    sides: tuple[int, ...] = _PHOTO_THUMB_SIDES,
    max_side: int = _PHOTO_MAX_SIDE,
) -> tuple[tuple[int, int], list[tuple[int, int, bytes]]] | None:
    """Original size and JPEG renditions (width, height, bytes), smallest first, the way
    Telegram stores photos: thumbnails below the original's long side plus the photo itself
    capped at ``max_side``. None if Pillow cannot decode ``data``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgb = image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    long_side = max(rgb.size)
    renditions = []
    for side in [*(s for s in sides if s < long_side), min(long_side, max_side)]:
        scale = side / long_side
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        resized = rgb if size == rgb.size else rgb.resize(size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, "JPEG", quality=87)
        renditions.append((size[0], size[1], buffer.getvalue()))
    return rgb.size, renditions
