"""`gzh preview-send POST --to WECHAT_ID…`: the draft to reviewers' phones (message/mass/preview)."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import assets, cli, output, posts
from pipeline.connect import connect
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, PostState, Status, fold
from pipeline.policy import load_repository_policy
from pipeline.publish.writes import Writer
from pipeline.selection import post_file
from pipeline.wechat import Credentials

_TO = Text("接收预览的微信号（可重复）", "WeChat ID to receive the preview (repeatable)")
_SENT = Text("已把草稿预览发送到 {wechat_id} 的微信", "Preview sent to {wechat_id}")
_PUBLISHED = Text("这篇文章已经发布，直接打开链接即可：{url}", "Already published: {url}")
_INVALID = Text("{path} 有错误，请先运行 gzh check", "{path} has errors; run gzh check first")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli.add_post(parser)
    parser.add_argument("--to", action="append", required=True, help=_TO())


def run(args: argparse.Namespace, root: Path) -> int:
    return preview_send_command(root, args.path, args.to)


def preview_send_command(root: Path, target: str, to: list[str], credentials: Credentials | None = None) -> int:
    policy = load_repository_policy(root)
    wechat, ledger = connect(root, credentials or Credentials.from_environment())
    post = posts.load_post(post_file(root, target), root)
    if post.meta is None:
        raise GzhError(_INVALID(path=post.bundle))
    state = fold(ledger.events).get(post.bundle, PostState())
    if state.status == Status.PUBLISHED:
        output.write(_PUBLISHED(url=state.url) + "\n")
        return 0
    draft_id, _ = Writer(root, policy, wechat, ledger).prepare_draft(post, state, assets.version(post))
    for wechat_id in to:
        wechat.mass_preview(draft_id, wechat_id)
        ledger.append(Event(Kind.PREVIEW, post.bundle, data={"to": wechat_id, "media_id": draft_id}))
        output.write(_SENT(wechat_id=wechat_id) + "\n")
    return 0
