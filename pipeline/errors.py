"""The few exceptions that cross stage boundaries.

Anything raised from here is an *expected* failure: `main` prints its message (already in the
user's language) without a traceback. Anything else is a bug and goes to the error log.
"""
from __future__ import annotations


class GzhError(Exception):
    """A failure the user can fix; the message says how. Exit code 1 unless overridden."""

    exit_code = 1


class UsageError(GzhError):
    """Bad command-line arguments or a missing file named on the command line."""

    exit_code = 2


class ConfigError(GzhError):
    """The policy file (gzh.yml) is missing or invalid; raised by `pipeline.policy`."""

    exit_code = 2
