"""`gzh status`: every post with its publishing state from the ledger."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import output, posts
from pipeline.connect import open_ledger
from pipeline.i18n import Text
from pipeline.ledger import PostState, Status, fold

_SANDBOX = Text("显示本地沙盒（gzh demo）的发布状态", "show the local sandbox's (gzh demo) states")
_LABELS = {
    Status.UNPUBLISHED: Text("未发布", "unpublished"), Status.DRAFT: Text("草稿", "draft"),
    Status.PUBLISHING: Text("发布中", "publishing"), Status.PUBLISHED: Text("已发布", "published"),
    Status.FAILED: Text("失败", "failed"), Status.SCHEDULED: Text("定时", "scheduled"),
    Status.TAKEN_DOWN: Text("已下线", "taken down"), Status.REPUBLISHING: Text("重新发布中", "republishing"),
}
_TAKEN_DOWN = Text("原因：{reason}（原链接 {url}）", "reason: {reason} (was {url})")
_REPUBLISHING = Text("（原链接 {url} 已下线；下次运行 gzh republish 或 gzh publish 时继续）",
                     "(was {url}; gzh republish or gzh publish continues it)")
_REPUBLISHED = Text("{url}（重新发布，原链接 {previous} 已下线）", "{url} (republished; was {previous})")
_INTERRUPTED = Text("（上次在“{step}”处中断，下次发布时先核对）", " (interrupted at {step}; the next run reconciles)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sandbox", action="store_true", help=_SANDBOX())


def run(args: argparse.Namespace, root: Path) -> int:
    return status_command(root, sandbox=args.sandbox)


def status_command(root: Path, *, sandbox: bool = False) -> int:
    """States from the real account's ledger, or the sandbox's (also when WECHAT_API_BASE points at it)."""
    states = fold(open_ledger(root, sandbox=sandbox).events)
    lines = []
    for file in posts.discover([root / posts.CONTENT_DIR])[0]:
        post = posts.load_post(file, root)
        state = states.get(post.bundle)
        status = state.status if state else Status.UNPUBLISHED
        detail = _detail(state) if state else ""
        if state and state.pending:
            detail += _INTERRUPTED(step=state.pending)
        title = post.meta.title if post.meta else post.bundle
        lines.append(output.pad(_LABELS[status](), 8) + f"{title}  {detail}".rstrip())
    output.write("\n".join(lines) + "\n")
    return 0


def _detail(state: PostState) -> str:
    """The link of what is live (and of the article it replaced); why it is not, for a post taken down,
    withdrawn or failed."""
    if state.status is Status.TAKEN_DOWN:
        return _TAKEN_DOWN(reason=state.reason, url=state.url or "—")
    if state.status is Status.REPUBLISHING:
        return _REPUBLISHING(url=state.previous_url or "—")
    if state.status is Status.PUBLISHED and state.previous_url:
        return _REPUBLISHED(url=state.url, previous=state.previous_url)
    return state.url or state.reason
