"""`gzh callback serve`: the server WeChat pushes followers' messages to (Art. 8)."""
from __future__ import annotations

import os
from pathlib import Path

from pipeline import output
from pipeline.callback import CallbackServer
from pipeline.commands.check import load_checked_policy
from pipeline.commands.common import ledger_branch
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import Ledger
from pipeline.wechat import DEFAULT_API_BASE, Credentials

_NO_TOKEN = Text("请设置 WECHAT_CALLBACK_TOKEN（与公众平台“服务器配置”中的令牌相同）；安全模式另设 WECHAT_AES_KEY",
                 "Set WECHAT_CALLBACK_TOKEN (the token in the MP server settings); WECHAT_AES_KEY for safe mode")
_SERVING = Text("正在接收后台消息：{url}（按 Ctrl+C 结束）", "Receiving messages at {url} (Ctrl+C stops)")


def callback_command(root: Path, *, host: str = "0.0.0.0", port: int = 8080) -> int:
    policy = load_checked_policy(root)
    token = os.environ.get("WECHAT_CALLBACK_TOKEN", "")
    if not token:
        raise GzhError(_NO_TOKEN())
    base = os.environ.get("WECHAT_API_BASE") or DEFAULT_API_BASE
    ledger = Ledger(root, branch=ledger_branch(Credentials("", "", base)))
    server = CallbackServer(ledger, policy, token, aes_key=os.environ.get("WECHAT_AES_KEY", ""),
                            appid=os.environ.get("WECHAT_APPID", ""), host=host, port=port).start()
    output.write(_SERVING(url=server.url) + "\n")
    return output.wait_for_interrupt(server.stop)
