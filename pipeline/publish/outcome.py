"""What one run did with one post: the record every part of the publish stage hands back."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Result(enum.StrEnum):
    """What one run did with one post (the value is what reports and JSON show)."""

    PUBLISHED = "published"
    MASS = "mass"                      # mass-sent to all followers
    DRAFT = "draft"                    # left in the draft box (draft mode)
    PUBLISHING = "publishing"          # submitted; WeChat's answer comes with a later run
    PUBLISHING_WAIT = "publishing-wait"  # submitted in this run; polled before the run ends
    SCHEDULED = "scheduled"
    SKIPPED = "skipped"                # already published as it is
    REFUSED = "refused"                # not approved, failing checks, changed after publishing
    FAILED = "failed"
    BUSY = "busy"                      # another publisher holds the post
    PLANNED = "planned"                # --dry-run


@dataclass(frozen=True)
class Outcome:
    post: str
    title: str
    status: Result
    message: str
    url: str = ""
    calls: tuple[str, ...] = ()
