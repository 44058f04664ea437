"""What the runner needs from a platform front end (Telegram, Discord)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .core.jobdesk import JobStart
    from .core.status import StatusView


class StartupError(Exception):
    """A front end could not start for a reason the operator must fix; the message names
    the setting to check, in one line, and never contains a secret."""


class Frontend(Protocol):
    name: str

    async def start(self) -> None:
        """Connect and start taking updates; raise ``StartupError`` if the platform
        refuses the credentials or cannot be reached."""

    def healthy(self) -> bool:
        """Still connected and taking updates (for the container health check)."""

    async def restore_view(self, start: JobStart, saved: dict[str, Any]) -> StatusView:
        """A job's status view rebuilt from its ``record()``: a job submitted before a
        restart is delivered by the process that runs now."""

    async def stop_receiving(self) -> None: ...

    async def stop(self) -> None: ...
