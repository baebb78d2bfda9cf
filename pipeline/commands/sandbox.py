"""`gzh sandbox serve`: the local WeChat API, for demos and manual rehearsals."""
from __future__ import annotations

from pathlib import Path

from pipeline import output
from pipeline.i18n import Text
from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET, Sandbox

SANDBOX_DIR = ".gzh/sandbox"
SANDBOX_PORT = 8765

_SERVING = Text(
    "本地微信沙盒已启动：{url}（已发布的文章列表）\n状态保存在 {folder}。在另一个终端中这样使用：\n"
    "  export WECHAT_API_BASE={url}cgi-bin/ WECHAT_APPID={appid} WECHAT_SECRET={secret}\n按 Ctrl+C 结束。",
    "Local WeChat sandbox at {url} (published articles)\nState in {folder}. In another terminal:\n"
    "  export WECHAT_API_BASE={url}cgi-bin/ WECHAT_APPID={appid} WECHAT_SECRET={secret}\nCtrl+C stops.")


def sandbox_serve(root: Path, *, port: int = SANDBOX_PORT, folder: str = SANDBOX_DIR) -> int:
    state = Path(folder) if Path(folder).is_absolute() else root / folder
    sandbox = Sandbox(state, port=port).start()
    output.write(_SERVING(url=sandbox.url, folder=state, appid=SANDBOX_APPID, secret=SANDBOX_SECRET) + "\n")
    return output.wait_for_interrupt(sandbox.stop)
