"""`gzh republish POST [--note …]`: a withdrawn or taken-down post back as a new article, with a correction
note at the top (WeChat does not allow editing a published article). The approved version on the branch
is published through the publish stage itself: approvals re-verified, each write between an intent and a
result, so a re-run after a kill finishes the same article instead of making a second one."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pipeline import cli, clock, output, withdrawal
from pipeline.i18n import Text
from pipeline.ledger import actor, fold
from pipeline.publish import run as publish_run
from pipeline.publish.outcome import Result
from pipeline.wechat import Credentials

_TARGET = Text("下线过的文章：文章文件夹（content/…）、下线前的链接或 article_id", "a removed post: its folder, old URL or article_id")
_NOTE = Text("更正说明（放在文章开头；默认写明首次发布、下线原因和重新发布的日期）",
             "the correction note at the top (default: first published, why removed, republished when)")
_RESUMED = Text("继续上次中断的重新发布，沿用已记录的更正说明：{note}", "Resuming an interrupted republish with the recorded note: {note}")
_IGNORED = Text("（本次给出的 --note 未采用：上次已按记录的说明开始发布，换说明会多出一篇文章）",
                "(--note not used: the recorded note was already being published; another note would make a second article)")
_NOTE_USED = Text("文章开头将加上：{note}", "The article will open with: {note}")
_REPUBLISHED = Text("《{title}》已重新发布为新文章：{url}\n原链接 {previous} 保留在发布记录中。",
                    "《{title}》 is published again as a new article: {url}\nThe old URL {previous} stays in the record.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help=_TARGET())
    parser.add_argument("--note", default="", help=_NOTE())
    cli.add_today(parser)


def run(args: argparse.Namespace, root: Path) -> int:
    return republish_command(root, args.target, args.note, today=args.today)


def republish_command(root: Path, target: str, note: str = "", *, credentials: Credentials | None = None,
                      today: dt.date | None = None, poll_delays: tuple[float, ...] | None = None) -> int:
    edges = publish_run.open_edges(root, credentials, output.error)
    withdrawal.authorize_republish(edges.policy, actor())
    restore = withdrawal.restore(root, edges.policy, edges.ledger, target, note, clock.now(today).date())
    if restore.resumed:
        output.write(_RESUMED(note=restore.note) + (_IGNORED() if note and withdrawal.correction(note) != restore.note else "") + "\n")
    else:
        output.write(_NOTE_USED(note=restore.note) + "\n")
    run = publish_run.publish(root, [restore.post], write=output.write, notify=output.error, edges=edges,
                              corrections={restore.post: restore.note}, poll_delays=poll_delays)
    outcome = next((outcome for outcome in run.outcomes if outcome.post == restore.post), None)
    if outcome is not None and outcome.status is Result.PUBLISHED:
        output.write(_REPUBLISHED(title=restore.title, url=outcome.url, previous=restore.previous_url or "—") + "\n")
        article_id = fold(edges.ledger.events)[restore.post].article_id
        notice = withdrawal.republish_notice(restore, article_id, outcome.url, clock.now(today))
        output.write(withdrawal.tell(edges.policy, edges.ledger, restore.post, notice))
    return run.exit_code
