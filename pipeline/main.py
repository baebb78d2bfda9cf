"""The `gzh` command line: parse arguments, dispatch to one command module, map errors to exits.

Exit codes: 0 success, 1 the command found problems (or failed in a way the user can fix),
2 usage or configuration error, 3 an internal error (a bug: the traceback goes to a log file),
130 interrupted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn, Sequence

from pipeline import __version__, i18n, output
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.redact import redact

_DESCRIPTION = Text("gzh：公众号文章从 Markdown 到发布的流水线（检查、审批、发布、巡查）",
                    "gzh: the WeChat Official Account publishing pipeline")
_HELP = {
    "lang": Text("界面语言：zh（默认）或 en", "interface language: zh (default) or en"),
    "root": Text("仓库根目录（默认：向上查找 gzh.yml）", "repository root (default: the folder holding gzh.yml)"),
    "check": Text("发布前检查文章", "check posts before publishing"),
    "paths": Text("要检查的文章文件或文件夹（默认 content/）", "post files or folders (default: content/)"),
    "changed": Text("只检查与 --base 相比改动过的文章", "check only posts changed since --base"),
    "base": Text("--changed 的比较基准（默认 origin/<目标分支> 或 origin/main）", "base for --changed"),
    "format": Text("输出格式：text、json 或 github（工作流注释）", "output format"),
    "strict": Text("有警告也视为失败", "fail on warnings too"),
    "fix": Text("自动修改可安全修改的问题（排版、发文字号格式）", "rewrite what is safe to rewrite"),
    "color": Text("是否使用颜色", "colour output"),
    "list_rules": Text("列出所有检查规则及其严重程度", "list the rules and their severities"),
    "new": Text("为部门新建一篇文章", "scaffold a new post for a department"),
    "department": Text("部门编号、文件夹名或中文名", "department slug, folder or Chinese name"),
    "slug": Text("文章文件夹名（小写字母、数字、-）", "post folder name"),
    "title": Text("文章标题", "post title"),
    "date": Text("日期（默认今天），写成 2026-11-28", "date (default today)"),
    "render": Text("输出文章发送给微信的 HTML", "print the article HTML sent to WeChat"),
    "render_path": Text("文章的 index.md 或文章文件夹", "a post's index.md or folder"),
    "output": Text("写入文件而不是屏幕", "write to a file instead of the screen"),
    "theme": Text("使用指定的排版主题", "use this theme"),
    "preview": Text("生成手机宽度的预览网站", "build the phone-width preview site"),
    "site": Text("输出文件夹（默认 site/）", "output folder (default site/)"),
    "screenshot": Text("用 Chromium 为每篇文章截取手机宽度的图片", "take a phone-width PNG of each post with Chromium"),
    "serve": Text("在本机启动预览网站，文章改动后自动重建", "serve the preview locally and rebuild on change"),
    "port": Text("端口（默认 8000）", "port (default 8000)"),
    "publish": Text("把文章发布到微信（默认：上次运行以来新增或改动的文章）", "publish posts to WeChat (default: new or changed since the last run)"),
    "publish_paths": Text("只发布这些文章", "publish only these posts"),
    "dry_run": Text("只显示计划和将调用的接口，不做任何修改", "show the plan and the API calls without doing anything"),
    "retry_failed": Text("重试上次发布失败的文章", "retry posts whose publishing failed"),
    "mode": Text("本次的发布方式：publish、mass 或 draft", "publishing mode for this run"),
    "status": Text("列出每篇文章的发布状态", "list every post's publishing state"),
    "issue_on_failure": Text("有文章发布失败时在代码托管平台上开问题通知管理员", "open a forge issue when a post fails"),
    "status_sandbox": Text("显示本地沙盒（gzh demo）的发布状态", "show the local sandbox's (gzh demo) states"),
    "sandbox": Text("本地微信沙盒", "the local WeChat sandbox"),
    "sandbox_serve": Text("启动本地微信沙盒", "start the local WeChat sandbox"),
    "sandbox_state": Text("沙盒状态文件夹（默认 .gzh/sandbox）", "sandbox state folder"),
    "sandbox_port": Text("端口（默认 8765）", "port (default 8765)"),
    "demo": Text("演示主流程：把示例文章发布到本地沙盒（无需凭据）", "the main job on the sample content, into the local sandbox"),
    "preview_send": Text("把草稿预览发送到审核人的微信", "send the draft to reviewers' WeChat"),
    "to": Text("接收预览的微信号（可重复）", "WeChat ID to receive the preview (repeatable)"),
    "gate": Text("核对拉取请求的逐级审批，并在平台上报告", "evaluate a pull request's approval tiers and report on the forge"),
    "pr": Text("拉取请求编号（默认取自工作流事件）", "pull request number (default: from the workflow event)"),
    "head_sha": Text("按头提交查找拉取请求（派生仓库的审核事件没有编号时）", "find the pull request by its head commit"),
    "preview_url": Text("预览网站的链接，写进审批评论", "link to the preview, put in the comment"),
    "codeowners": Text("根据 gzh.yml 生成或检查 CODEOWNERS", "generate or check CODEOWNERS from gzh.yml"),
    "write": Text("写入 CODEOWNERS 文件", "write the CODEOWNERS files"),
    "patrol": Text("日常巡查：线上文章是否被删除、篡改，更新是否及时，复查内容（第七条）", "daily patrol of the live account (Art. 7)"),
    "patrol_out": Text("把报告（Markdown 和 JSON）另存到这个文件夹", "also write the report (Markdown and JSON) here"),
    "inbox": Text("收集读者留言，按部门列出待答复的留言（第八条）", "collect and route followers' comments (Art. 8)"),
    "inbox_verb": Text("reply：答复一条留言", "reply: answer a comment"),
    "number": Text("留言编号（gzh inbox 列出的 #编号）", "comment number from gzh inbox"),
    "text": Text("答复内容", "the answer"),
    "inbox_done": Text("done：记录一条留言或后台消息已在别处答复", "done: record an item as answered elsewhere"),
    "note": Text("怎么答复的（记入账本）", "how it was answered"),
    "callback": Text("接收读者发给公众号的后台消息（微信服务器推送）", "receive followers' messages pushed by WeChat"),
    "host": Text("监听地址（默认 0.0.0.0）", "address to listen on"),
    "emergency": Text("应急处置：下线文章、通知领导、记录事件（第九条）", "emergency response (Art. 9)"),
    "target": Text("文章文件夹、链接或 article_id", "post folder, URL or article_id"),
    "reason": Text("原因（写进事件记录和通知）", "reason, for the record and the notice"),
    "incident": Text("事件编号", "incident id"),
    "summary": Text("结案说明", "closing summary"),
    "alert_failure": Text("工作流失败时在平台上开（或更新）一个问题", "open or update one forge issue for a failed workflow run"),
    "workflow": Text("工作流名称", "workflow name"),
    "run_url": Text("运行记录的链接", "link to the run"),
    "bot": Text("可信服务：接收平台的 Webhook，运行门禁、发布、巡查（密钥只在这台主机上）", "the trusted service: forge webhooks to gate, publish, patrol"),
    "bot_serve": Text("启动可信服务", "run the trusted service"),
    "config": Text("服务配置文件（见 docs/setup.md 与 deploy/gzh-bot.example.yml）", "the service configuration file"),
    "doctor": Text("检查仓库的配置（策略、CODEOWNERS、工作流、密钥、凭据、令牌）", "check the repository's setup"),
    "check_owners": Text("检查 CODEOWNERS 是否与 gzh.yml 一致（不一致时退出码 1）", "check CODEOWNERS is in step (exit 1 if not)"),
}
_USAGE_ERROR = Text("{prog}：参数有误：{message}。用 {prog} --help 查看用法", "{prog}: bad arguments: {message}. See {prog} --help")
_INTERRUPTED = Text("已中断。", "Interrupted.")
_INTERNAL = Text("gzh 内部错误（这是程序缺陷，不是您的操作问题）：{error}\n详细信息已写入 {log}，请把该文件发给维护人员。",
                 "Internal gzh error (a bug, not your mistake): {error}\nDetails are in {log}; send it to the maintainers.")


class _Parser(argparse.ArgumentParser):
    """argparse with a Chinese lead-in and a pointer to --help on usage errors."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, _USAGE_ERROR(prog=self.prog, message=message) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gzh", description=_DESCRIPTION())
    parser.add_argument("--version", action="version", version=f"gzh {__version__}")
    parser.add_argument("--lang", choices=("zh", "en"), help=_HELP["lang"]())
    parser.add_argument("--root", type=Path, help=_HELP["root"]())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser("check", help=_HELP["check"]())
    check.add_argument("paths", nargs="*", help=_HELP["paths"]())
    check.add_argument("--changed", action="store_true", help=_HELP["changed"]())
    check.add_argument("--base", help=_HELP["base"]())
    check.add_argument("--format", choices=("text", "json", "github"), default="text", help=_HELP["format"]())
    check.add_argument("--strict", action="store_true", help=_HELP["strict"]())
    check.add_argument("--fix", action="store_true", help=_HELP["fix"]())
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto", help=_HELP["color"]())
    check.add_argument("--list-rules", action="store_true", help=_HELP["list_rules"]())

    new = commands.add_parser("new", help=_HELP["new"]())
    new.add_argument("department", help=_HELP["department"]())
    new.add_argument("--slug", default="post", help=_HELP["slug"]())
    new.add_argument("--title", help=_HELP["title"]())
    new.add_argument("--date", help=_HELP["date"]())

    render = commands.add_parser("render", help=_HELP["render"]())
    render.add_argument("path", help=_HELP["render_path"]())
    render.add_argument("-o", "--output", help=_HELP["output"]())
    render.add_argument("--theme", help=_HELP["theme"]())

    preview = commands.add_parser("preview", help=_HELP["preview"]())
    preview.add_argument("paths", nargs="*", help=_HELP["paths"]())
    preview.add_argument("-o", "--output", default="site", help=_HELP["site"]())
    preview.add_argument("--screenshot", action="store_true", help=_HELP["screenshot"]())

    serve = commands.add_parser("serve", help=_HELP["serve"]())
    serve.add_argument("paths", nargs="*", help=_HELP["paths"]())
    serve.add_argument("-o", "--output", default="site", help=_HELP["site"]())
    serve.add_argument("-p", "--port", type=int, default=8000, help=_HELP["port"]())

    publish = commands.add_parser("publish", help=_HELP["publish"]())
    publish.add_argument("paths", nargs="*", help=_HELP["publish_paths"]())
    publish.add_argument("--dry-run", action="store_true", help=_HELP["dry_run"]())
    publish.add_argument("--retry-failed", action="store_true", help=_HELP["retry_failed"]())
    publish.add_argument("--mode", choices=("publish", "mass", "draft"), help=_HELP["mode"]())
    publish.add_argument("--issue-on-failure", action="store_true", help=_HELP["issue_on_failure"]())

    status = commands.add_parser("status", help=_HELP["status"]())
    status.add_argument("--sandbox", action="store_true", help=_HELP["status_sandbox"]())

    sandbox = commands.add_parser("sandbox", help=_HELP["sandbox"]())
    sandbox_verbs = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="VERB", parser_class=_Parser)
    sandbox_serve = sandbox_verbs.add_parser("serve", help=_HELP["sandbox_serve"]())
    sandbox_serve.add_argument("-p", "--port", type=int, default=8765, help=_HELP["sandbox_port"]())
    sandbox_serve.add_argument("--state", default=".gzh/sandbox", help=_HELP["sandbox_state"]())

    demo = commands.add_parser("demo", help=_HELP["demo"]())
    demo.add_argument("-p", "--port", type=int, default=8765, help=_HELP["sandbox_port"]())

    preview_send = commands.add_parser("preview-send", help=_HELP["preview_send"]())
    preview_send.add_argument("path", help=_HELP["render_path"]())
    preview_send.add_argument("--to", action="append", required=True, help=_HELP["to"]())

    gate = commands.add_parser("gate", help=_HELP["gate"]())
    gate.add_argument("--pr", type=int, help=_HELP["pr"]())
    gate.add_argument("--head-sha", help=_HELP["head_sha"]())
    gate.add_argument("--preview-url", help=_HELP["preview_url"]())

    owners = commands.add_parser("codeowners", help=_HELP["codeowners"]())
    owners_mode = owners.add_mutually_exclusive_group(required=True)
    owners_mode.add_argument("--write", action="store_true", help=_HELP["write"]())
    owners_mode.add_argument("--check", action="store_true", help=_HELP["check_owners"]())

    commands.add_parser("doctor", help=_HELP["doctor"]())

    alert = commands.add_parser("alert-failure", help=_HELP["alert_failure"]())
    alert.add_argument("--workflow", required=True, help=_HELP["workflow"]())
    alert.add_argument("--run-url", default="", help=_HELP["run_url"]())

    bot = commands.add_parser("bot", help=_HELP["bot"]())
    bot_verbs = bot.add_subparsers(dest="bot_command", required=True, metavar="VERB", parser_class=_Parser)
    bot_serve = bot_verbs.add_parser("serve", help=_HELP["bot_serve"]())
    bot_serve.add_argument("--config", type=Path, required=True, help=_HELP["config"]())

    patrol = commands.add_parser("patrol", help=_HELP["patrol"]())
    patrol.add_argument("-o", "--output", help=_HELP["patrol_out"]())

    inbox = commands.add_parser("inbox", help=_HELP["inbox"]())
    inbox_verbs = inbox.add_subparsers(dest="inbox_command", metavar="VERB", parser_class=_Parser, help=_HELP["inbox_verb"]())
    reply = inbox_verbs.add_parser("reply", help=_HELP["inbox_verb"]())
    reply.add_argument("number", type=int, help=_HELP["number"]())
    reply.add_argument("--text", required=True, help=_HELP["text"]())
    done = inbox_verbs.add_parser("done", help=_HELP["inbox_done"]())
    done.add_argument("number", type=int, help=_HELP["number"]())
    done.add_argument("--note", required=True, help=_HELP["note"]())

    callback = commands.add_parser("callback", help=_HELP["callback"]())
    callback_verbs = callback.add_subparsers(dest="callback_command", required=True, metavar="VERB", parser_class=_Parser)
    callback_serve = callback_verbs.add_parser("serve", help=_HELP["callback"]())
    callback_serve.add_argument("--host", default="0.0.0.0", help=_HELP["host"]())
    callback_serve.add_argument("-p", "--port", type=int, default=8080, help=_HELP["port"]())

    emergency = commands.add_parser("emergency", help=_HELP["emergency"]())
    emergency_verbs = emergency.add_subparsers(dest="emergency_command", required=True, metavar="VERB", parser_class=_Parser)
    takedown = emergency_verbs.add_parser("takedown", help=_HELP["emergency"]())
    takedown.add_argument("target", help=_HELP["target"]())
    takedown.add_argument("--reason", required=True, help=_HELP["reason"]())
    close = emergency_verbs.add_parser("close", help=_HELP["summary"]())
    close.add_argument("incident", help=_HELP["incident"]())
    close.add_argument("--summary", required=True, help=_HELP["summary"]())
    return parser


def _pre_language(argv: Sequence[str]) -> None:
    """Pick the language before argparse builds its (translated) help texts."""
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv) and argv[index + 1] in ("zh", "en"):
            i18n.set_language(argv[index + 1])
        elif arg.startswith("--lang=") and arg[7:] in ("zh", "en"):
            i18n.set_language(arg[7:])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _pre_language(argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its message; keep our exit-code contract
        return int(exit_.code or 0)
    try:
        if args.command == "bot":  # the service keeps its own clone: it needs no repository here
            from pipeline.commands.bot import bot_serve_command

            return bot_serve_command(args.config)
        root = args.root.resolve() if args.root else _find_root()
        return _dispatch(args, root)
    except GzhError as error:
        output.error(redact(str(error)))
        return error.exit_code
    except KeyboardInterrupt:
        output.error(_INTERRUPTED())
        return 130
    except Exception as error:  # noqa: BLE001 - the one place that turns bugs into a log file
        log = _write_crash_log(error)
        output.error(_INTERNAL(error=type(error).__name__, log=log))
        return 3
    finally:
        i18n.set_language(None)


def _find_root() -> Path:
    from pipeline import repo

    return repo.find_root(Path.cwd())


def _dispatch(args: argparse.Namespace, root: Path) -> int:
    if args.command == "check":
        from pipeline.commands import check

        if args.list_rules:
            return check.list_rules(root)
        return check.check(
            root, args.paths, changed=args.changed, base=args.base, fmt=args.format,
            strict=args.strict, fix=args.fix, color=args.color,
        )
    if args.command == "new":
        from pipeline.commands import new

        return new.new(root, args.department, slug=args.slug, title=args.title, date=args.date)
    if args.command == "render":
        from pipeline.commands.render import render_command

        return render_command(root, args.path, output_file=args.output, theme=args.theme)
    if args.command == "preview":
        from pipeline.commands.preview import preview_command

        return preview_command(root, args.paths, out=args.output, screenshot=args.screenshot)
    if args.command == "serve":
        from pipeline.commands.serve import serve_command

        return serve_command(root, args.paths, port=args.port, out=args.output)
    if args.command == "publish":
        from pipeline.commands.publish import publish_command

        return publish_command(root, args.paths, dry_run=args.dry_run, retry_failed=args.retry_failed, mode=args.mode,
                               issue_on_failure=args.issue_on_failure)
    if args.command == "status":
        from pipeline.commands.status import status_command

        return status_command(root, sandbox=args.sandbox)
    if args.command == "sandbox":
        from pipeline.commands.sandbox import sandbox_serve

        return sandbox_serve(root, port=args.port, folder=args.state)
    if args.command == "demo":
        from pipeline.commands.demo import demo_command

        return demo_command(root, port=args.port)
    if args.command == "preview-send":
        from pipeline.commands.preview_send import preview_send_command

        return preview_send_command(root, args.path, args.to)
    if args.command == "gate":
        from pipeline.commands.gate import gate_command, pull_number

        return gate_command(root, pull_number(args.pr, args.head_sha), preview_url=args.preview_url)
    if args.command == "codeowners":
        from pipeline.commands.codeowners import codeowners_command

        return codeowners_command(root, write=args.write)
    if args.command == "alert-failure":
        from pipeline.commands.alert import alert_failure_command

        return alert_failure_command(root, args.workflow, args.run_url)
    if args.command == "doctor":
        from pipeline.commands.doctor import doctor_command

        return doctor_command(root)
    if args.command == "patrol":
        from pipeline.commands.patrol import patrol_command

        return patrol_command(root, out=args.output)
    if args.command == "inbox":
        from pipeline.commands import inbox

        if args.inbox_command == "reply":
            return inbox.reply_command(root, args.number, args.text)
        if args.inbox_command == "done":
            return inbox.done_command(root, args.number, args.note)
        return inbox.inbox_command(root)
    if args.command == "callback":
        from pipeline.commands.callback import callback_command

        return callback_command(root, host=args.host, port=args.port)
    if args.command == "emergency":
        from pipeline.commands import emergency

        if args.emergency_command == "takedown":
            return emergency.takedown_command(root, args.target, args.reason)
        return emergency.close_command(root, args.incident, args.summary)
    raise AssertionError(args.command)  # argparse only accepts the commands above


def _write_crash_log(error: BaseException) -> str:
    """Tracebacks go to a private file, never to the terminal or CI log, where they could expose secrets.

    The file sits in the user's cache folder (not a shared /tmp), readable by the user alone, and
    is created fresh: a name planted in advance (a link, say) makes the write fail, not follow it.
    """
    folder = Path(os.environ.get("GZH_LOG_DIR") or _cache_folder())
    log = folder / _crash_log_name()
    text = redact("".join(traceback.format_exception(error)))
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(f"gzh {__version__}\n{text}")
    except OSError:
        return "(无法写入日志 / log not written)"
    return str(log)


def _crash_log_name() -> str:
    return f"gzh-crash-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"


def _cache_folder() -> Path:
    """$XDG_CACHE_HOME/gzh, else ~/.cache/gzh: the user's own, per the XDG base directory convention."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gzh"
