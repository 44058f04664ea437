"""Attachments and the CDN that serves them: uploads checked against the channel's limit (413
above it) and Discord's keep/replace rules for ``attachments`` when messages are edited."""

from __future__ import annotations

import io
import mimetypes
from urllib.parse import quote

from aiohttp import web
from PIL import Image, UnidentifiedImageError

from fakes.discord.guilds import GuildsMixin
from fakes.discord.model import JSON, ApiError, invalid_form


class AttachmentsMixin(GuildsMixin):
    """Stored files (with their bytes) by id, served under ``/attachments/...``."""

    def add_attachment(
        self, data: bytes, filename: str, content_type: str | None = "image/png"
    ) -> JSON:
        """An uploaded file a user can attach; its url is served by the fake's CDN."""
        return self._store_attachment("0", filename, data, content_type=content_type)

    def _store_attachment(
        self,
        channel_id: str,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> JSON:
        attachment_id = self._snowflake()
        url = f"{self._http_base}/attachments/{channel_id}/{attachment_id}/{quote(filename)}"
        attachment: JSON = {
            "id": attachment_id,
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url.replace("/attachments/", "/media/attachments/", 1),
        }
        if content_type:
            attachment["content_type"] = content_type
        try:
            with Image.open(io.BytesIO(data)) as image:
                attachment["width"], attachment["height"] = image.size
        except (UnidentifiedImageError, OSError):
            pass
        if description:
            attachment["description"] = description
        if ephemeral:
            attachment["ephemeral"] = True
        attachment["data"] = data
        self._files[attachment_id] = attachment
        return attachment

    def _check_uploads(self, channel: JSON, files: dict[str, tuple[str, bytes]]) -> None:
        if any(len(data) > self._upload_limit(channel) for _, data in files.values()):
            raise ApiError(413, 40005, "Request entity too large")

    def _attachments(
        self,
        channel: JSON,
        wanted: list[JSON] | None,
        files: dict[str, tuple[str, bytes]],
        existing: list[JSON],
        *,
        ephemeral: bool,
    ) -> list[JSON]:
        """Discord's rules: ``attachments`` lists what to keep (by id) and describes new
        uploads (``files[n]`` for id n); without it, existing ones stay and files are added."""

        def upload(field_name: str, meta: JSON) -> JSON:
            filename, data = files[field_name]
            filename = meta.get("filename") or filename
            return self._store_attachment(
                channel["id"],
                filename,
                data,
                content_type=mimetypes.guess_type(filename)[0],
                description=meta.get("description"),
                ephemeral=ephemeral,
            )

        if wanted is None:
            return [*existing, *(upload(name, {}) for name in files)]
        by_id = {a["id"]: a for a in existing}
        result, used = [], set()
        for meta in wanted:
            key = str(meta.get("id"))
            if key in by_id:
                result.append(by_id[key])
            elif f"files[{key}]" in files:
                used.add(f"files[{key}]")
                result.append(upload(f"files[{key}]", meta))
            else:
                raise invalid_form()
        result.extend(upload(name, {}) for name in files if name not in used)
        return result

    async def _handle_cdn(self, request: web.Request) -> web.Response:
        attachment = self._files.get(request.match_info["attachment_id"])
        filename = request.match_info["filename"]
        if attachment is None or quote(attachment["filename"]) != quote(filename):
            return web.Response(status=404, text="Not Found")
        content_type = attachment.get("content_type") or "application/octet-stream"
        return web.Response(body=attachment["data"], content_type=content_type)
