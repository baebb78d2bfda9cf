"""`gzh publish`: publish approved posts to WeChat (every post not live yet, or the ones named).

The run itself (verifier, client, ledger, posts, `run` event, failure issue) is `pipeline.publish.run`,
which `gzh demo` shares.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import cli, output
from pipeline.publish import run as publish_run
from pipeline.i18n import Text
from pipeline.wechat import Credentials

_PATHS = Text("只发布这些文章", "publish only these posts")
_DRY_RUN = Text("只显示计划和将调用的接口，不做任何修改", "show the plan and the API calls without doing anything")
_RETRY_FAILED = Text("重试上次发布失败的文章", "retry posts whose publishing failed")
_MODE = Text("本次的发布方式：publish、mass 或 draft", "publishing mode for this run")
_ISSUE_ON_FAILURE = Text("有文章发布失败时在代码托管平台上开问题通知管理员", "open a forge issue when a post fails")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli.add_paths(parser, _PATHS)
    parser.add_argument("--dry-run", action="store_true", help=_DRY_RUN())
    parser.add_argument("--retry-failed", action="store_true", help=_RETRY_FAILED())
    parser.add_argument("--mode", choices=("publish", "mass", "draft"), help=_MODE())
    parser.add_argument("--issue-on-failure", action="store_true", help=_ISSUE_ON_FAILURE())


def run(args: argparse.Namespace, root: Path) -> int:
    return publish_command(root, args.paths, dry_run=args.dry_run, retry_failed=args.retry_failed, mode=args.mode,
                           issue_on_failure=args.issue_on_failure)


def publish_command(root: Path, targets: list[str], *, dry_run: bool = False, retry_failed: bool = False,
                    mode: str | None = None, credentials: Credentials | None = None,
                    poll_delays: tuple[float, ...] | None = None, issue_on_failure: bool = False) -> int:
    return publish_run.publish(root, targets, write=output.write, notify=output.error, credentials=credentials,
                               dry_run=dry_run, retry_failed=retry_failed, mode=mode, poll_delays=poll_delays,
                               issue_on_failure=issue_on_failure).exit_code
