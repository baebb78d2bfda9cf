"""What the WeChat-facing commands share: credentials, the client, the ledger, choosing posts."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import ledger as ledger_module, posts, repo
from pipeline.commands.check import select_posts
from pipeline.ledger import Ledger
from pipeline.ledger import fold
from pipeline.wechat import Credentials, WeChat

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def ledger_branch(credentials: Credentials) -> str:
    """The sandbox keeps its own ledger, so rehearsals never mix with the real account's records."""
    override = os.environ.get("GZH_LEDGER_BRANCH")
    if override:
        return override
    host = urlsplit(credentials.api_base).hostname or ""
    return ledger_module.SANDBOX_BRANCH if host in _LOOPBACK else ledger_module.BRANCH


def connect(root: Path, credentials: Credentials, **wechat_options: float) -> tuple[WeChat, Ledger]:
    return WeChat(credentials, **wechat_options), Ledger(root, branch=ledger_branch(credentials))


def last_run_commit(ledger: Ledger) -> str | None:
    runs = [event for event in ledger.events if event.kind == "run" and event.data.get("commit")]
    return runs[-1].data["commit"] if runs else None


def posts_to_publish(root: Path, ledger: Ledger, targets: list[str]) -> list[Path]:
    """Named posts; else what changed since the last recorded run plus what is unfinished; else all."""
    if targets:
        return select_posts(root, targets)[0]
    everything = posts.discover([root / posts.CONTENT_DIR])[0]
    last = last_run_commit(ledger)
    if last is None:
        return everything
    try:
        changed = {posts.bundle_of(path, root) for path in repo.changed_files(root, last)}
    except Exception:  # noqa: BLE001 - history rewritten or shallow: fall back to every post
        return everything
    unfinished = {bundle for bundle, state in fold(ledger.events).items()
                  if state.status in ("publishing", "scheduled") or state.pending}
    return [file for file in everything
            if file in changed or str(file.parent.relative_to(root).as_posix()) in unfinished]
