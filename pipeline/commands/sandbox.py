"""`gzh sandbox`: the local WeChat API (`serve`), and the rehearsals that drive it while it runs
(docs/sandbox.md): an article tampered with, deleted or banned outside the pipeline, a follower's
comment, a follower's message pushed to `gzh callback serve`, faults and quotas."""
from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from pipeline import cli, clock, emergency, output
from pipeline.callback import PORT as CALLBACK_PORT, safe_mode
from pipeline.connect import SANDBOX_DIR, SANDBOX_PORT, ledger_branch
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import Ledger
from pipeline.posts import BEIJING
from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET, Sandbox, rehearsal
from pipeline.sandbox.server import ENDPOINTS
from pipeline.wechat import Credentials

DEFAULT_OPENID = rehearsal.DEFAULT_OPENID

_SERVE = Text("启动本地微信沙盒", "start the local WeChat sandbox")
_STATE = Text("沙盒状态文件夹（默认 {folder}）", "sandbox state folder")
_SERVING = Text(
    "本地微信沙盒已启动：{url}（已发布的文章列表）\n状态保存在 {folder}。在另一个终端中这样使用：\n"
    "  export WECHAT_API_BASE={url}cgi-bin/ WECHAT_APPID={appid} WECHAT_SECRET={secret}\n按 Ctrl+C 结束。",
    "Local WeChat sandbox at {url} (published articles)\nState in {folder}. In another terminal:\n"
    "  export WECHAT_API_BASE={url}cgi-bin/ WECHAT_APPID={appid} WECHAT_SECRET={secret}\nCtrl+C stops.")

_TAMPER = Text("演练：线上文章的正文被人改动（篡改）", "rehearse: a live article's content tampered with")
_DELETE = Text("演练：线上文章在公众平台上被删除", "rehearse: a live article deleted in the MP console")
_BAN = Text("演练：线上文章被平台封禁", "rehearse: a live article banned by the platform")
_COMMENT = Text("演练：读者在文章下留言", "rehearse: a follower comments on an article")
_MESSAGE = Text("演练：读者给公众号发后台消息（推送给正在运行的 gzh callback serve）",
                "rehearse: a follower's message, pushed to the running gzh callback serve")
_FAULT = Text("演练：接下来几次调用某个接口时出错", "rehearse: the next calls of an endpoint fail")
_QUOTA = Text("演练：把某个接口每天的调用次数上限改为 N（0 即今天已用完）", "rehearse: set an endpoint's daily quota (0: used up)")
_TARGET = Text("文章文件夹、文章链接或 article_id（巡查报告中的）", "post folder, article URL or article_id")
_CONTENT = Text("篡改后的正文 HTML（默认在原文末尾加一段“被篡改的内容”）", "the tampered content (default: a paragraph appended)")
_TEXT = Text("留言或消息的内容", "the comment's or message's text")
_OPENID = Text("读者的 openid（默认 {openid}）", "the follower's openid (default {openid})")
_AT = Text("读者写下的时间（北京时间）\"YYYY-MM-DD HH:MM\"，默认现在；配合 --today 演练超期",
           "when the follower wrote it (Beijing) \"YYYY-MM-DD HH:MM\", default now; rehearse deadlines with --today")
_TO = Text("回调服务的地址（默认 {url}）", "the callback server (default {url})")
_ENDPOINT = Text("接口，例如 freepublish/submit、draft/add、comment/list", "endpoint, e.g. freepublish/submit")
_ERRCODE = Text("返回的错误码（默认 -1 系统繁忙）", "errcode to answer (default -1, system busy)")
_COUNT = Text("出错的次数（默认 1）", "how many calls fail (default 1)")
_DROP = Text("不回答，直接断开连接：before 不执行，after 执行后断开（结果不明）",
             "drop the connection: before acting, or after acting (an ambiguous write)")
_LIMIT = Text("每天的上限（次）", "daily limit (calls)")
_BAD_AT = Text("“{value}”不是时间，请写成 \"YYYY-MM-DD HH:MM\"（北京时间，例如 \"2026-09-30 14:05\"）",
               "'{value}' is not a time; write \"YYYY-MM-DD HH:MM\" (Beijing, e.g. \"2026-09-30 14:05\")")
_UNKNOWN = Text("发布记录（账本分支 {branch}）中没有“{target}”：请写已用 gzh publish 发布到沙盒的文章文件夹（content/…）、文章链接，"
                "或巡查报告中的 article_id",
                "'{target}' is not in the publishing record (ledger branch {branch}): name a post folder (content/…) published "
                "to the sandbox with gzh publish, its URL, or an article_id from the patrol report")
_BAD_ENDPOINT = Text("沙盒没有接口 {endpoint}；可以是：{endpoints}", "the sandbox has no endpoint {endpoint}; one of: {endpoints}")

_DONE = {
    "tamper": Text("已在沙盒中篡改 {title}（article_id {article_id}）。运行 gzh patrol，应发现“线上内容被篡改”并附上差异。",
                   "Tampered with {title} (article_id {article_id}). gzh patrol should report it, with the diff."),
    "delete": Text("已在沙盒中删除 {title}（article_id {article_id}），如同在公众平台上删除。运行 gzh patrol，应发现文章已被删除。",
                   "Deleted {title} (article_id {article_id}) as in the MP console. gzh patrol should report it."),
    "ban": Text("已在沙盒中封禁 {title}（article_id {article_id}）。运行 gzh patrol，应发现文章被封禁。",
                "Banned {title} (article_id {article_id}). gzh patrol should report it."),
}
_COMMENTED = Text("读者留言（第 {number} 条，{time}）已加到 {title} 下。运行 gzh inbox 收集并分派。",
                  "Comment {number} ({time}) added to {title}. gzh inbox collects and routes it.")
_PUSHED = Text("后台消息（{time}）已推送到 {url}（{mode}），回调服务已接收并记入账本。运行 gzh inbox 查看。",
               "Message ({time}) pushed to {url} ({mode}); the callback server recorded it. gzh inbox lists it.")
_PLAIN, _SAFE = Text("明文模式", "plaintext mode"), Text("安全模式，已加密", "safe mode, encrypted")
_NO_TOKEN = Text("请设置 WECHAT_CALLBACK_TOKEN，与运行 gzh callback serve 的终端中的相同；那边设置了 WECHAT_AES_KEY（安全模式）时这里也要设置",
                 "Set WECHAT_CALLBACK_TOKEN as for gzh callback serve, and WECHAT_AES_KEY too when it runs in safe mode")
_ANSWERS = {
    403: Text("回调服务拒绝了这条消息（403：{body}）：签名不对时，这里的 WECHAT_CALLBACK_TOKEN 与 gzh callback serve 的不同；"
              "它在安全模式下时，这里也要设置同样的 WECHAT_AES_KEY",
              "The callback server refused the message (403: {body}): the WECHAT_CALLBACK_TOKEN differs, or it runs in safe mode "
              "and WECHAT_AES_KEY is not set here"),
    400: Text("回调服务拒绝了这条消息（400：{body}）：两边的 WECHAT_AES_KEY 或 WECHAT_APPID 不同，或者只有这里设置了 WECHAT_AES_KEY",
              "The callback server refused the message (400: {body}): WECHAT_AES_KEY or WECHAT_APPID differ, or only this side has a key"),
}
_UNEXPECTED = Text("{url} 的回答不是回调服务的（HTTP {status}）：这个地址上运行的不是 gzh callback serve",
                   "{url} did not answer as the callback server does (HTTP {status})")
_FAULTED = Text("接下来 {count} 次调用 {endpoint} 时{effect}。", "The next {count} call(s) of {endpoint} {effect}.")
_ANSWERS_ERRCODE = Text("返回错误码 {errcode}", "answer errcode {errcode}")
_DROPS = {"before": Text("断开连接、不执行", "drop the connection without acting"),
          "after": Text("执行后断开连接（调用方不知道结果）", "act, then drop the connection (result unknown)")}
_QUOTA_SET = Text("{endpoint} 每天的调用上限已改为 {limit} 次（沙盒按北京时间的日期计数）。",
                  "{endpoint}'s daily quota is now {limit} (counted per Beijing day).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = cli.add_verbs(parser, "sandbox_command")
    serve = verbs.add_parser("serve", help=_SERVE())
    cli.add_port(serve, SANDBOX_PORT)
    serve.add_argument("--state", default=SANDBOX_DIR, help=_STATE(folder=SANDBOX_DIR))
    for name, help_text in (("tamper", _TAMPER), ("delete", _DELETE), ("ban", _BAN)):
        article = verbs.add_parser(name, help=help_text())
        article.add_argument("target", metavar="TARGET", help=_TARGET())
        if name == "tamper":
            article.add_argument("--content", default="", metavar="HTML", help=_CONTENT())
    comment = verbs.add_parser("comment", help=_COMMENT())
    comment.add_argument("target", metavar="TARGET", help=_TARGET())
    message = verbs.add_parser("message", help=_MESSAGE())
    for follower in (comment, message):
        follower.add_argument("--text", required=True, help=_TEXT())
        follower.add_argument("--openid", default=DEFAULT_OPENID, help=_OPENID(openid=DEFAULT_OPENID))
        follower.add_argument("--at", type=_at, help=_AT())
    callback_url = f"http://127.0.0.1:{CALLBACK_PORT}/"
    message.add_argument("--to", default=callback_url, metavar="URL", help=_TO(url=callback_url))
    fault = verbs.add_parser("fault", help=_FAULT())
    fault.add_argument("endpoint", metavar="ENDPOINT", help=_ENDPOINT())
    fault.add_argument("--errcode", type=int, default=-1, help=_ERRCODE())
    fault.add_argument("--count", type=int, default=1, help=_COUNT())
    fault.add_argument("--drop", choices=("before", "after"), help=_DROP())
    quota = verbs.add_parser("quota", help=_QUOTA())
    quota.add_argument("endpoint", metavar="ENDPOINT", help=_ENDPOINT())
    quota.add_argument("limit", metavar="N", type=int, help=_LIMIT())


def _at(value: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value, clock.MINUTE).replace(tzinfo=BEIJING)
    except ValueError:
        raise argparse.ArgumentTypeError(_BAD_AT(value=value)) from None


def run(args: argparse.Namespace, root: Path) -> int:
    verb = args.sandbox_command
    if verb == "serve":
        return sandbox_serve_command(root, port=args.port, folder=args.state)
    if verb == "message":
        return message_command(args.text, openid=args.openid, at=args.at, to=args.to)
    if verb == "fault":
        return fault_command(args.endpoint, errcode=args.errcode, count=args.count, drop=args.drop)
    if verb == "quota":
        return quota_command(args.endpoint, args.limit)
    if verb == "comment":
        return comment_command(root, args.target, args.text, openid=args.openid, at=args.at)
    return article_command(root, verb, args.target, content=getattr(args, "content", ""))


def sandbox_serve_command(root: Path, *, port: int = SANDBOX_PORT, folder: str = SANDBOX_DIR) -> int:
    state = Path(folder) if Path(folder).is_absolute() else root / folder
    sandbox = Sandbox(state, port=port).start()
    output.write(_SERVING(url=sandbox.url, folder=state, appid=SANDBOX_APPID, secret=SANDBOX_SECRET) + "\n")
    return output.wait_for_interrupt(sandbox.stop)


def article_command(root: Path, action: str, target: str, *, content: str = "") -> int:
    """`tamper`, `delete` or `ban` the article a post folder, URL or article_id names."""
    url = rehearsal.sandbox_url(SANDBOX_PORT)
    found = _target(root, url, target)
    rehearsal.control(url, "article", {"article_id": found.article_id, "do": action, "content": content})
    output.write(_DONE[action](title=found.title, article_id=found.article_id) + "\n")
    return 0


def comment_command(root: Path, target: str, text: str, *, openid: str = DEFAULT_OPENID,
                    at: dt.datetime | None = None) -> int:
    url = rehearsal.sandbox_url(SANDBOX_PORT)
    found = _target(root, url, target)
    data: dict[str, Any] = {"article_id": found.article_id, "content": text, "openid": openid}
    if at is not None:
        data["create_time"] = int(at.timestamp())
    comment = rehearsal.control(url, "comment", data)
    output.write(_COMMENTED(number=comment["user_comment_id"], title=found.title, time=_when(at)) + "\n")
    return 0


def message_command(text: str, *, openid: str = DEFAULT_OPENID, at: dt.datetime | None = None,
                    to: str = f"http://127.0.0.1:{CALLBACK_PORT}/") -> int:
    """Push the message with the callback server's own settings: its token, and in safe mode its key
    and AppID (checked as `gzh callback serve` checks them)."""
    token = os.environ.get("WECHAT_CALLBACK_TOKEN", "")
    if not token:
        raise GzhError(_NO_TOKEN())
    crypto = safe_mode(token, os.environ.get("WECHAT_AES_KEY", ""), os.environ.get("WECHAT_APPID", ""))
    status, body = rehearsal.push_message(to, token, rehearsal.Message(text, openid, create_time=at), crypto)
    if status != 200 or body != "success":
        raise GzhError(_ANSWERS[status](body=body) if status in _ANSWERS else _UNEXPECTED(url=to, status=status))
    output.write(_PUSHED(url=to, mode=(_SAFE if crypto else _PLAIN)(), time=_when(at)) + "\n")
    return 0


def fault_command(endpoint: str, *, errcode: int = -1, count: int = 1, drop: str | None = None) -> int:
    _known(endpoint)
    fault: dict[str, Any] = {"endpoint": endpoint, "count": count, **({"drop": drop} if drop else {"errcode": errcode})}
    rehearsal.control(rehearsal.sandbox_url(SANDBOX_PORT), "faults", {"faults": [fault]})
    effect = _DROPS[drop]() if drop else _ANSWERS_ERRCODE(errcode=errcode)
    output.write(_FAULTED(count=count, endpoint=endpoint, effect=effect) + "\n")
    return 0


def quota_command(endpoint: str, limit: int) -> int:
    _known(endpoint)
    rehearsal.control(rehearsal.sandbox_url(SANDBOX_PORT), "quotas", {endpoint: limit})
    output.write(_QUOTA_SET(endpoint=endpoint, limit=limit) + "\n")
    return 0


def _known(endpoint: str) -> None:
    if endpoint not in ENDPOINTS:
        raise GzhError(_BAD_ENDPOINT(endpoint=endpoint, endpoints="、".join(ENDPOINTS)))


def _target(root: Path, url: str, target: str) -> emergency.Target:
    """The article, looked up in the ledger `gzh publish` writes when it publishes to this sandbox."""
    branch = ledger_branch(Credentials("", "", url + "cgi-bin/"))
    try:
        return emergency.find_target(Ledger(root, branch=branch), emergency.as_bundle(root, target))
    except GzhError:  # its message speaks of a takedown; this is a rehearsal
        raise GzhError(_UNKNOWN(target=target, branch=branch)) from None


def _when(at: dt.datetime | None) -> str:
    return clock.minute(at or clock.now())
