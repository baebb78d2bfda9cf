"""`gzh bot serve --config FILE`: the trusted service (pipeline.service) in the foreground.

Runs under systemd or in a container (deploy/); SIGTERM and Ctrl+C stop it gracefully: no new
deliveries, the running job finishes, waiting jobs stay queued on disk for the next start.
"""
from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from pipeline import cli, output
from pipeline.i18n import Text
from pipeline.service import BotService, load_config

REPOSITORY = False  # the service keeps its own clone (state/repo); it runs anywhere

_SERVE = Text("启动可信服务", "run the trusted service")
_CONFIG = Text("服务配置文件（见 docs/setup.md 与 deploy/gzh-bot.example.yml）", "the service configuration file")
_SERVING = Text("gzh 可信服务已启动：{url}webhook（健康检查 {url}healthz、{url}readyz；按 Ctrl+C 或发送 SIGTERM 结束）",
                "gzh trusted service at {url}webhook (health {url}healthz, {url}readyz; Ctrl+C or SIGTERM stops)")
_STOPPING = Text("正在停止：不再接收投递，等待当前任务完成……", "Stopping: no new deliveries; waiting for the running job…")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    serve = cli.add_verbs(parser, "bot_command").add_parser("serve", help=_SERVE())
    serve.add_argument("--config", type=Path, required=True, help=_CONFIG())


def run(args: argparse.Namespace, root: None) -> int:
    return bot_serve_command(args.config)  # `serve` is the only verb


def bot_serve_command(config: Path) -> int:
    service = BotService(load_config(config)).start()
    output.write(_SERVING(url=service.url) + "\n")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    output.write(_STOPPING() + "\n")
    service.stop()
    return 0
