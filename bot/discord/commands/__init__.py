"""Slash commands: /stylize, /weights, /cancel, /queue, /help, /stats — one module each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import help as help_command
from . import jobs, stats, stylize, weights

if TYPE_CHECKING:
    from ..app import StylebotClient


def register(client: StylebotClient) -> None:
    limits = client.core.config.limits
    client.tree.add_command(stylize.build(client, limits))
    client.tree.add_command(weights.build(client, limits))
    for command in jobs.build(client):
        client.tree.add_command(command)
    client.tree.add_command(help_command.build())
    client.tree.add_command(stats.build(client))
