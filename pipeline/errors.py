"""The few exceptions that cross stage boundaries.

Anything raised from here is an *expected* failure: `main` prints its message (already in the
user's language) without a traceback. Anything else is a bug and goes to the error log.
"""
from __future__ import annotations

import os
import re


class GzhError(Exception):
    """A failure the user can fix; the message says how. Exit code 1 unless overridden."""

    exit_code = 1


class UsageError(GzhError):
    """Bad command-line arguments or a missing file named on the command line."""

    exit_code = 2


class ConfigError(GzhError):
    """The policy file (gzh.yml) is missing or invalid; raised by `pipeline.policy`."""

    exit_code = 2


_SECRET_PATTERNS = (re.compile(r"(access_token=)[^&\s\"']+"), re.compile(r"(\"?secret\"?\s*[:=]\s*\"?)[^&\s\",]+"))


def redact(text: str) -> str:
    """Remove tokens and secrets from any text that may reach a terminal or a log."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1***", text)
    for name in ("WECHAT_SECRET", "GITHUB_TOKEN", "GITEA_TOKEN", "GZH_FORGE_TOKEN"):
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, "***")
    return text
