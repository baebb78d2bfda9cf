"""`gzh callback serve`: the server WeChat pushes followers' messages to (Art. 8)."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from pipeline import cli, output
from pipeline.callback import PORT, CallbackServer, safe_mode
from pipeline.connect import open_ledger
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.policy import load_repository_policy

HOST = "0.0.0.0"

_SERVE = Text("接收读者发给公众号的后台消息（微信服务器推送）", "receive followers' messages pushed by WeChat")
_HOST = Text("监听地址（默认 {host}）", "address to listen on (default {host})")

_NO_TOKEN = Text("请设置 WECHAT_CALLBACK_TOKEN（与公众平台“服务器配置”中的令牌相同）；安全模式另设 WECHAT_AES_KEY",
                 "Set WECHAT_CALLBACK_TOKEN (the token in the MP server settings); WECHAT_AES_KEY for safe mode")
_SERVING = Text("正在接收后台消息：{url}（按 Ctrl+C 结束）", "Receiving messages at {url} (Ctrl+C stops)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    serve = cli.add_verbs(parser, "callback_command").add_parser("serve", help=_SERVE())
    serve.add_argument("--host", default=HOST, help=_HOST(host=HOST))
    cli.add_port(serve, PORT)


def run(args: argparse.Namespace, root: Path) -> int:
    return callback_command(root, host=args.host, port=args.port)  # `serve` is the only verb


def callback_command(root: Path, *, host: str = HOST, port: int = PORT) -> int:
    policy = load_repository_policy(root)
    token = os.environ.get("WECHAT_CALLBACK_TOKEN", "")
    if not token:
        raise GzhError(_NO_TOKEN())
    crypto = safe_mode(token, os.environ.get("WECHAT_AES_KEY", ""), os.environ.get("WECHAT_APPID", ""))
    server = CallbackServer(open_ledger(root), policy, token, crypto=crypto, host=host, port=port).start()
    output.write(_SERVING(url=server.url) + "\n")
    return output.wait_for_interrupt(server.stop)
