"""Slash-command options built from the one settings schema (``core.settings``): types,
ranges and choices the Discord client enforces, with localised descriptions."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord import app_commands

from ..core.settings import Limits, Setting
from ..i18n import NAMES, Text, _
from .translator import localised

Callback = Callable[..., Awaitable[None]]
#: what each choice is called in a menu (language names are each language's own)
LABELS: dict[str, Text] = {
    "default": _("default (best)"), "fast": _("fast (about a second)"),
    "seed": _("seed (the classic recipe, slow)"), "keep": _("keep the photo's colours"),
    "style": _("take the painting's colours"),
}


def annotation(setting: Setting, limits: Limits) -> Any:
    if setting.choices():
        return str
    low, high = setting.bounds(limits)
    if setting.name == "steps":
        low = 0  # 0: the preset's own
    return app_commands.Range[setting.kind, setting.kind(low), setting.kind(high)]  # type: ignore[valid-type]


def choices(setting: Setting) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=localised(LABELS[value]) if value in LABELS else
                                NAMES.get(value, value), value=value)
            for value in setting.choices()]


def with_options(callback: Callback, settings: Sequence[Setting], limits: Limits, *,
                 first: Sequence[inspect.Parameter] = (),
                 more: dict[str, Text] | None = None) -> Callback:
    """``callback(interaction, **values)`` with one optional typed option per setting
    (after the ``first`` required ones), described and with choices, as discord.py reads
    them from a signature."""
    params = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=discord.Interaction), *first]
    params += [inspect.Parameter(s.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                 default=None, annotation=annotation(s, limits) | None)
               for s in settings]
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    described = {s.name: localised(s.help) for s in settings}
    described |= {name: localised(text) for name, text in (more or {}).items()}
    callback = app_commands.describe(**described)(callback)
    menus = {s.name: choices(s) for s in settings if s.choices()}
    return app_commands.choices(**menus)(callback) if menus else callback
