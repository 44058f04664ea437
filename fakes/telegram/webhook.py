"""Webhook delivery: after setWebhook the fake POSTs updates to the bot, as Telegram does."""

from __future__ import annotations

import asyncio
import re

from aiohttp import ClientError, ClientSession

from fakes.telegram.model import JSON, ApiError, Uploads
from fakes.telegram.updates import UpdatesMixin


class WebhookMixin(UpdatesMixin):
    """setWebhook, deleteWebhook, getWebhookInfo and the task that pushes updates."""

    def _delete_webhook(self, params: JSON, _uploads: Uploads) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = None
        self._notify()
        return True

    def _set_webhook(self, params: JSON, _uploads: Uploads) -> bool:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            return self._delete_webhook(params, _uploads)
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"] or []) or None
        self._webhook = {"url": url, "secret_token": secret}
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_updates(), name="fake-webhook")
        self._notify()
        return True

    async def _push_updates(self) -> None:
        """Deliver pending updates to the webhook one by one, as Telegram does: in order,
        retrying an update until the bot answers 2xx."""
        async with ClientSession() as session:
            while not self._closing and self._webhook is not None:
                batch = [u for u in self._pending if self._is_allowed(u)]
                if not batch:
                    await self._wait_changed(1.0)
                    continue
                update, hook = batch[0], self._webhook
                headers = ({"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]}
                           if hook["secret_token"] else {})
                try:
                    async with session.post(hook["url"], json=update, headers=headers) as answer:
                        status = answer.status
                except ClientError:
                    status = 0
                self.webhook_pushes.append((update["update_id"], status))
                if 200 <= status < 300:
                    self._pending.remove(update)
                    self._notify()
                else:
                    await asyncio.sleep(0.5)

    def _get_webhook_info(self, _params: JSON, _uploads: Uploads) -> JSON:
        return {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
