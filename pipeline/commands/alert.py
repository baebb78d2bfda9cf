"""`gzh alert-failure --workflow NAME`: a failed workflow run of any kind opens (or updates) one issue.

The last step of every workflow that holds a secret runs it on failure, so an expired token, an IP
allowlist refusal (40164) or a crash is never only in a log nobody reads (GitHub e-mails only the
person who last edited the cron line). One open issue per workflow: a repeated failure adds a
comment instead of another issue.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import clock, forge as forge_module, output
from pipeline.i18n import Text
from pipeline.policy import load_repository_policy

_WORKFLOW = Text("工作流名称", "workflow name")
_RUN_URL = Text("运行记录的链接", "link to the run")
TITLE = Text("【工作流失败】{workflow}", "[Workflow failed] {workflow}")
_BODY = Text("{mentions} 工作流“{workflow}”运行失败，请查看运行记录并处理：{url}\n\n"
             "常见原因：微信 IP 白名单未包含运行器地址（40164）、令牌过期、平台权限不足、网络中断。处理后重新运行该工作流；"
             "同一工作流再次失败时会在本问题下追加记录，处理完毕后请关闭本问题。",
             "{mentions} workflow '{workflow}' failed; see the run and fix it: {url}\n\n"
             "Usual causes: the runner's IP is not allowlisted (40164), an expired token, missing permissions, the network. "
             "Re-run it once fixed; further failures are added here. Close this issue when done.")
_AGAIN = Text("{when} 再次失败：{url}", "Failed again at {when}: {url}")
_FILED = Text("已在平台上记录工作流失败：问题 #{number}", "Recorded the failure as issue #{number}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workflow", required=True, help=_WORKFLOW())
    parser.add_argument("--run-url", default="", help=_RUN_URL())


def run(args: argparse.Namespace, root: Path) -> int:
    return alert_failure_command(root, args.workflow, args.run_url)


def alert_failure_command(root: Path, workflow: str, run_url: str) -> int:
    forge = forge_module.from_environment()
    title = TITLE(workflow=workflow)
    number = forge.open_issue_titled(title)
    if number is None:
        try:
            administrators = load_repository_policy(root).members("administrator")
        except Exception:  # noqa: BLE001 - a broken gzh.yml may be why the run failed; still alert
            administrators = ()
        body = _BODY(mentions=" ".join(f"@{user}" for user in administrators), workflow=workflow, url=run_url or "—")
        number = forge.create_issue(title, body, list(administrators))
    else:
        forge.comment_issue(number, _AGAIN(when=clock.minute(clock.now()), url=run_url or "—"))
    output.write(_FILED(number=number) + "\n")
    return 0
