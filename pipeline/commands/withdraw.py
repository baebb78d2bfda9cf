"""`gzh withdraw POST --reason …`: remove a live article routinely (an expired notice, a department's
request), with a record and without the emergency procedure: no incident, no leaders told."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import NoReturn

from pipeline import cli, emergency, output, withdrawal
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import Ledger, actor
from pipeline.wechat import Credentials

_TARGET = Text("文章文件夹（content/…）、文章链接或 article_id", "post folder, article URL or article_id")
_REASON = Text("下线原因（记入账本，告知部门和管理员）", "why it is removed (recorded, told to the department and administrators)")
_DONE = Text("已下线：《{title}》（例行下线，原因：{reason}）。已记入账本，执行人 @{who}；未开应急事件，未通知领导。",
             "Withdrawn: 《{title}》 ({reason}). Recorded, by @{who}; no incident, leaders not told.")
_RESTORE = Text("如需恢复审批通过的版本：gzh republish {post}", " Restore the approved version with gzh republish {post}")
_ALREADY = Text("《{title}》已于 {when} 下线（原因：{reason}），这次没有再删除，也没有再通知。",
                "《{title}》 was removed at {when} ({reason}); nothing deleted or told again.")
_QUOTA = Text(
    "今天的删除次数已用完（微信每天只允许删除 {count} 次，例行下线和应急下线共用），《{title}》仍在线上，没有删除。"
    "可以明天再运行 gzh withdraw；如需今天下线，请管理员登录公众平台（mp.weixin.qq.com），在“内容与互动 → 发表记录”中找到这篇文章，"
    "点“删除”手动删除，再运行 gzh withdraw {target} --reason … 补记（已删除的文章不会再删一次）。这次未能删除已记入账本。",
    "Today's {count} deletions (shared with emergency takedowns) are used; 《{title}》 is still online. Run gzh withdraw "
    "tomorrow, or delete it by hand in the MP console (Content → Published). The refusal is recorded.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help=_TARGET())
    parser.add_argument("--reason", required=True, help=_REASON())
    cli.add_today(parser)


def run(args: argparse.Namespace, root: Path) -> int:
    return withdraw_command(root, args.target, args.reason, today=args.today)


def withdraw_command(root: Path, target: str, reason: str, *, credentials: Credentials | None = None,
                     today: dt.date | None = None) -> int:
    removal = emergency.removal(root, target, credentials, today)
    policy, ledger, now, found, previous = removal.policy, removal.ledger, removal.now, removal.target, removal.previous
    if previous:  # by an earlier withdraw or an emergency takedown: WeChat would refuse, and people were told
        output.write(_ALREADY(title=found.title, when=emergency.minute(previous.time), reason=previous.data.get("reason", "—")) + "\n")
        return 0
    withdrawal.authorize_withdrawal(policy, found, actor())
    withdrawal.check_reserve(ledger, now.date())
    deletion = emergency.delete(removal)
    if deletion is emergency.Deletion.REFUSED:
        _by_hand(ledger, found, reason, target)
    (recorded,) = ledger.append(emergency.takedown_event(found, reason, deletion))
    restore = _RESTORE(post=found.post) if found.post else ""  # an article the pipeline never published has no approved version
    gone = emergency.FOUND_DELETED() if deletion is emergency.Deletion.GONE else ""
    output.write(_DONE(title=found.title, reason=reason, who=recorded.actor) + gone + restore + "\n")
    output.write(withdrawal.tell(policy, ledger, found.post, withdrawal.notice(found, reason, now)))
    return 0


def _by_hand(ledger: Ledger, target: emergency.Target, reason: str, typed: str) -> NoReturn:
    """Not deleted for the day's quota: recorded, and the person running it told how to delete by hand."""
    ledger.append(emergency.manual_event(target, reason, routine=True))
    raise GzhError(_QUOTA(count=emergency.DELETES_PER_DAY, title=target.title, target=typed))

