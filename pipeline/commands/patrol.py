"""`gzh patrol`: the daily inspection (Art. 7): report, score card, findings as tracked issues."""
from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from pipeline import cli, clock, findings as findings_module, forge as forge_module, notify, output, patrol
from pipeline.connect import connect
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind
from pipeline.policy import load_repository_policy
from pipeline.wechat import Credentials

_OUTPUT = Text("把报告（Markdown 和 JSON）另存到这个文件夹", "also write the report (Markdown and JSON) here")
_ISSUES = Text("平台上的问题：新开 {opened} 个，更新 {updated} 个，复查通过关闭 {closed} 个。",
               "Forge issues: {opened} opened, {updated} updated, {closed} closed after re-check.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help=_OUTPUT())
    cli.add_today(parser)


def run(args: argparse.Namespace, root: Path) -> int:
    return patrol_command(root, out=args.output, today=args.today)


def patrol_command(root: Path, *, out: str | None = None, credentials: Credentials | None = None,
                   today: dt.date | None = None) -> int:
    policy = load_repository_policy(root)
    wechat, ledger = connect(root, credentials or Credentials.from_environment())
    today = clock.now(today).date()
    report = patrol.inspect(root, policy, wechat, ledger.events, today)
    text = patrol.markdown(report, policy)
    data = json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"
    # Tracked (first seen, due, told) with or without a forge; the issues only where there is one.
    forge = forge_module.from_environment() if forge_module.configured() else None
    synced = findings_module.sync(forge, ledger, policy, report.findings, today)
    if forge is not None:
        text += "\n" + _ISSUES(**synced.counts) + synced.escalation + "\n"
        text += synced.failure
    ledger.append(Event(Kind.PATROL, data={"date": report.date, "score": report.score, "passed": report.passed,
                                        "findings": len(report.findings)}),
                  files={f"patrols/{report.date}.md": text, f"patrols/{report.date}.json": data})
    if out:
        folder = Path(out) if Path(out).is_absolute() else root / out
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "patrol.md").write_text(text, "utf-8")
        (folder / "patrol.json").write_text(data, "utf-8")
    output.write(text + notify.warning_text(synced.warnings))  # about this run, not part of the kept report
    serious = any(finding.severity == "fail" for finding in report.findings)
    return 0 if report.passed and not serious else 1  # red in CI whenever something serious needs handling
