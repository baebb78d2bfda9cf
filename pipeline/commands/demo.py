"""`gzh demo`: the main job end to end, against the built-in sandbox, with no credentials.

Checks every sample post, publishes it into the local WeChat sandbox (uploads, draft, submit,
poll, ledger), and prints each article's local URL. A second run publishes nothing.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import cli, output
from pipeline.publish import run as publish_run
from pipeline.connect import SANDBOX_DIR, SANDBOX_PORT, connect
from pipeline.i18n import Text
from pipeline.policy import load_repository_policy
from pipeline.sandbox import Sandbox

_START = Text("演示：把 content/ 中的文章发布到本地微信沙盒 {url}", "Demo: publishing content/ into the local WeChat sandbox at {url}")
_AFTER = Text("沙盒已关闭。用 gzh sandbox serve 重新打开后，可以在浏览器里阅读上面的文章；再次运行 gzh demo 不会重复发布。",
              "The sandbox is closed. Run gzh sandbox serve to read the articles above; running gzh demo again publishes nothing.")
DEMO_POLL_DELAYS = (0.4, 0.8, 1.6, 3.2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli.add_port(parser, SANDBOX_PORT)


def run(args: argparse.Namespace, root: Path) -> int:
    return demo_command(root, port=args.port)


def demo_command(root: Path, *, port: int = SANDBOX_PORT) -> int:
    with Sandbox(root / SANDBOX_DIR, port=port) as sandbox:  # a busy port is a clear message (errors.listening)
        sandbox.state.data["publish_seconds"] = 0.2
        output.write(_START(url=sandbox.url) + "\n")
        # The sample content into the built-in sandbox only: never a forge, even where one is configured.
        edges = publish_run.Edges(load_repository_policy(root), None, *connect(root, sandbox.credentials))
        result = publish_run.publish(root, [], write=output.write, notify=output.error, edges=edges,
                                     poll_delays=DEMO_POLL_DELAYS)
    output.write(_AFTER() + "\n")
    return result.exit_code
