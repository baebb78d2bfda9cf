"""`gzh sandbox serve`: the local WeChat API, for demos and manual rehearsals."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import cli, output
from pipeline.connect import SANDBOX_DIR, SANDBOX_PORT
from pipeline.i18n import Text
from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET, Sandbox

_SERVE = Text("启动本地微信沙盒", "start the local WeChat sandbox")
_STATE = Text("沙盒状态文件夹（默认 {folder}）", "sandbox state folder")
_SERVING = Text(
    "本地微信沙盒已启动：{url}（已发布的文章列表）\n状态保存在 {folder}。在另一个终端中这样使用：\n"
    "  export WECHAT_API_BASE={url}cgi-bin/ WECHAT_APPID={appid} WECHAT_SECRET={secret}\n按 Ctrl+C 结束。",
    "Local WeChat sandbox at {url} (published articles)\nState in {folder}. In another terminal:\n"
    "  export WECHAT_API_BASE={url}cgi-bin/ WECHAT_APPID={appid} WECHAT_SECRET={secret}\nCtrl+C stops.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    serve = cli.add_verbs(parser, "sandbox_command").add_parser("serve", help=_SERVE())
    cli.add_port(serve, SANDBOX_PORT)
    serve.add_argument("--state", default=SANDBOX_DIR, help=_STATE(folder=SANDBOX_DIR))


def run(args: argparse.Namespace, root: Path) -> int:
    return sandbox_serve_command(root, port=args.port, folder=args.state)  # `serve` is the only verb


def sandbox_serve_command(root: Path, *, port: int = SANDBOX_PORT, folder: str = SANDBOX_DIR) -> int:
    state = Path(folder) if Path(folder).is_absolute() else root / folder
    sandbox = Sandbox(state, port=port).start()
    output.write(_SERVING(url=sandbox.url, folder=state, appid=SANDBOX_APPID, secret=SANDBOX_SECRET) + "\n")
    return output.wait_for_interrupt(sandbox.stop)
