"""The `gzh` command line: parse arguments, dispatch to one command module, map errors to exits.

`COMMANDS` maps each verb to its module under `pipeline/commands/`; a module is imported only when
its verb is given, declares its own arguments then, and runs (see `pipeline.cli.Command`).

Exit codes: 0 success, 1 the command found problems (or failed in a way the user can fix),
2 usage or configuration error, 3 an internal error (a bug: the traceback goes to a log file),
130 interrupted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from pipeline import __version__, cli, i18n, output
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.redact import redact

_DESCRIPTION = Text("gzh：公众号文章从 Markdown 到发布的流水线（检查、审批、发布、巡查）",
                    "gzh: the WeChat Official Account publishing pipeline")
_LANG = Text("界面语言：zh（默认）或 en", "interface language: zh (default) or en")
_ROOT = Text("仓库根目录（默认：向上查找 gzh.yml）", "repository root (default: the folder holding gzh.yml)")
_INTERRUPTED = Text("已中断。", "Interrupted.")
_INTERNAL = Text("gzh 内部错误（这是程序缺陷，不是您的操作问题）：{error}\n详细信息已写入 {log}，请把该文件发给维护人员。",
                 "Internal gzh error (a bug, not your mistake): {error}\nDetails are in {log}; send it to the maintainers.")


class _Entry(NamedTuple):
    module: str     # pipeline.commands.<module>, imported only when the verb is given
    summary: Text   # its line in `gzh --help`


# Every verb, in the order `gzh --help` lists them. Each module declares its own arguments.
COMMANDS: dict[str, _Entry] = {
    "check": _Entry("check", Text("发布前检查文章", "check posts before publishing")),
    "new": _Entry("new", Text("为部门新建一篇文章", "scaffold a new post for a department")),
    "render": _Entry("render", Text("输出文章发送给微信的 HTML", "print the article HTML sent to WeChat")),
    "preview": _Entry("preview", Text("生成手机宽度的预览网站", "build the phone-width preview site")),
    "serve": _Entry("serve", Text("在本机启动预览网站，文章改动后自动重建", "serve the preview locally and rebuild on change")),
    "publish": _Entry("publish", Text("把文章发布到微信（默认：尚未发布的每一篇文章）",
                                      "publish posts to WeChat (default: every post not published yet)")),
    "status": _Entry("status", Text("列出每篇文章的发布状态", "list every post's publishing state")),
    "sandbox": _Entry("sandbox", Text("本地微信沙盒", "the local WeChat sandbox")),
    "demo": _Entry("demo", Text("演示主流程：把示例文章发布到本地沙盒（无需凭据）",
                                "the main job on the sample content, into the local sandbox")),
    "preview-send": _Entry("preview_send", Text("把草稿预览发送到审核人的微信", "send the draft to reviewers' WeChat")),
    "gate": _Entry("gate", Text("核对拉取请求的逐级审批，并在平台上报告", "evaluate a pull request's approval tiers and report on the forge")),
    "submit": _Entry("submit", Text("把用“提交稿件”表单提交的问题转成待审批的拉取请求", "turn an issue submitted with the form into a pull request")),
    "codeowners": _Entry("codeowners", Text("根据 gzh.yml 生成或检查 CODEOWNERS 和提交稿件表单", "generate or check CODEOWNERS and the submission form from gzh.yml")),
    "doctor": _Entry("doctor", Text("检查仓库的配置（策略、CODEOWNERS、工作流、密钥、凭据、令牌）", "check the repository's setup")),
    "alert-failure": _Entry("alert", Text("工作流失败时在平台上开（或更新）一个问题", "open or update one forge issue for a failed workflow run")),
    "bot": _Entry("bot", Text("可信服务：接收平台的 Webhook，运行门禁、发布、巡查（密钥只在这台主机上）",
                              "the trusted service: forge webhooks to gate, publish, patrol")),
    "patrol": _Entry("patrol", Text("日常巡查：线上文章是否被删除、篡改，更新是否及时，复查内容（第七条）",
                                    "daily patrol of the live account (Art. 7)")),
    "inbox": _Entry("inbox", Text("收集读者留言，按部门列出待答复的留言（第八条）", "collect and route followers' comments (Art. 8)")),
    "callback": _Entry("callback", Text("接收读者发给公众号的后台消息（微信服务器推送）", "receive followers' messages pushed by WeChat")),
    "emergency": _Entry("emergency", Text("应急处置：下线文章、通知领导、记录事件（第九条）", "emergency response (Art. 9)")),
    "withdraw": _Entry("withdraw", Text("例行下线一篇文章（如通知过期、部门要求撤下）：记入账本，告知部门和管理员，不开应急事件",
                                        "remove a live article routinely, with a record and without the emergency procedure")),
    "republish": _Entry("republish", Text("把下线过的文章按审批通过的版本重新发布为新文章，开头加更正说明",
                                          "publish a removed post again as a new article, with a correction note")),
}


def command(name: str) -> cli.Command:
    """The module behind a verb (imported on first use)."""
    return importlib.import_module(f"pipeline.commands.{COMMANDS[name].module}")  # type: ignore[return-value]


class _VerbParser(cli.Parser):
    """A verb's parser, empty until the verb is given; then its module declares the arguments."""

    declared = False


class _Verbs(argparse._SubParsersAction):  # the one argparse hook that sees the chosen verb before its arguments
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        chosen = self._name_parser_map.get(values[0])
        if isinstance(chosen, _VerbParser) and not chosen.declared:
            command(values[0]).add_arguments(chosen)
            chosen.declared = True
        super().__call__(parser, namespace, values, option_string)


def _parser() -> argparse.ArgumentParser:
    parser = cli.Parser(prog="gzh", description=_DESCRIPTION())
    parser.add_argument("--version", action="version", version=f"gzh {__version__}")
    parser.add_argument("--lang", choices=("zh", "en"), help=_LANG())
    parser.add_argument("--root", type=Path, help=_ROOT())
    verbs = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", action=_Verbs,
                                  parser_class=_VerbParser)
    for name, entry in COMMANDS.items():
        verbs.add_parser(name, help=entry.summary())
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
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exit_:  # argparse has printed its message; keep our exit-code contract
            return int(exit_.code or 0)
        root = _root(args) if getattr(command(args.command), "REPOSITORY", True) else None
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


def _root(args: argparse.Namespace) -> Path:
    if args.root:
        return args.root.resolve()
    from pipeline import repo

    return repo.find_root(Path.cwd())


def _dispatch(args: argparse.Namespace, root: Path | None) -> int:
    return command(args.command).run(args, root)  # type: ignore[arg-type]


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
