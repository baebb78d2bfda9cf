"""Chinese-first messages with an English fallback.

Every user-facing string is written as a (Chinese, English) pair next to the code that uses it,
so the two never drift apart and a reader sees both. The language is Chinese unless `--lang en`
was given or the environment's locale (GZH_LANG, LC_ALL, LC_MESSAGES, LANG) is English.
"""
from __future__ import annotations

import os
from typing import NamedTuple

_SUPPORTED = ("zh", "en")
_current: str | None = None


class Text(NamedTuple):
    """A message in both languages; `str.format` placeholders are shared."""

    zh: str
    en: str

    def __call__(self, **values: object) -> str:
        template = self.en if language() == "en" else self.zh
        return template.format(**values) if values else template


def _from_environment() -> str:
    for name in ("GZH_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def language() -> str:
    return _current or _from_environment()


def set_language(lang: str | None) -> None:
    """Fix the language for this process; None goes back to the environment's choice."""
    global _current
    if lang is not None and lang not in _SUPPORTED:
        raise ValueError(lang)
    _current = lang
