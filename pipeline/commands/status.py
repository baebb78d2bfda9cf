"""`gzh status`: every post with its publishing state from the ledger."""
from __future__ import annotations

import os
from pathlib import Path

from pipeline import output, posts
from pipeline.commands.common import ledger_branch
from pipeline.ledger import SANDBOX_BRANCH
from pipeline.i18n import Text
from pipeline.ledger import Ledger
from pipeline.ledger import fold
from pipeline.wechat import DEFAULT_API_BASE, Credentials

_LABELS = {
    "unpublished": Text("未发布", "unpublished"), "draft": Text("草稿", "draft"), "publishing": Text("发布中", "publishing"),
    "published": Text("已发布", "published"), "failed": Text("失败", "failed"), "scheduled": Text("定时", "scheduled"),
    "deleted": Text("已删除", "deleted"),
}
_INTERRUPTED = Text("（上次在“{step}”处中断，下次发布时先核对）", " (interrupted at {step}; the next run reconciles)")


def status_command(root: Path, *, sandbox: bool = False) -> int:
    """States from the real account's ledger, or the sandbox's (also when WECHAT_API_BASE points at it)."""
    base = os.environ.get("WECHAT_API_BASE") or DEFAULT_API_BASE
    branch = SANDBOX_BRANCH if sandbox else ledger_branch(Credentials("", "", base))
    ledger = Ledger(root, branch=branch)
    states = fold(ledger.events)
    lines = []
    for file in posts.discover([root / posts.CONTENT_DIR])[0]:
        post = posts.load_post(file, root)
        state = states.get(post.bundle)
        status = state.status if state else "unpublished"
        detail = (state.url or state.reason) if state else ""
        if state and state.pending:
            detail += _INTERRUPTED(step=state.pending)
        title = post.meta.title if post.meta else post.bundle
        lines.append(output.pad(_LABELS.get(status, Text(status, status))(), 8) + f"{title}  {detail}".rstrip())
    output.write("\n".join(lines) + "\n")
    return 0
