"""`gzh serve`: the preview site on a local port, rebuilt whenever a post, template or the policy changes."""
from __future__ import annotations

import argparse
import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from pipeline import cli, output, preview, render
from pipeline.errors import GzhError, HttpServer, listening
from pipeline.i18n import Text
from pipeline.policy import POLICY_FILE, load_repository_policy
from pipeline.selection import select_posts

PORT = 8000

_SERVING = Text("预览地址：{url}（修改文章后自动重建，按 Ctrl+C 结束）", "Serving {url} (rebuilds on change; Ctrl+C stops)")
_REBUILT = Text("已重建（{count} 篇）", "Rebuilt ({count} posts)")
_REBUILD_FAILED = Text("重建失败，仍显示上一版：{error}", "Rebuild failed; still serving the previous build: {error}")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        return


class PreviewServer:
    """Builds the site, serves it over HTTP on loopback and rebuilds it when its sources change."""

    def __init__(self, root: Path, targets: list[str], out: Path, host: str = "127.0.0.1", port: int = PORT,
                 interval: float = 1.0) -> None:
        self.root, self.targets, self.out, self.interval = root, targets, out, interval
        self.out.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_QuietHandler, directory=str(out))
        self._server = listening(lambda: HttpServer((host, port), handler), host, port)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.builds = 0

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def build(self) -> None:
        render.clear_caches()
        policy = load_repository_policy(self.root)
        files, _ = select_posts(self.root, self.targets)
        staging = self.out.with_name(self.out.name + ".building")
        pages = preview.build_site(self.root, policy, files, staging)
        for child in self.out.iterdir():  # swap contents, keeping the folder the server serves from
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        for child in staging.iterdir():
            child.rename(self.out / child.name)
        staging.rmdir()
        self.builds += 1
        output.error(_REBUILT(count=len(pages)))

    def start(self) -> None:
        seen = self._snapshot()  # before the build: a change made while it runs is still seen as one
        try:
            self.build()
        except BaseException:  # e.g. a broken gzh.yml: nothing to serve, and the port is given back
            self._server.server_close()
            raise
        for target in (self._server.serve_forever, lambda: self._watch(seen)):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _snapshot(self) -> tuple[int, int]:
        newest, count = 0, 0
        for base in (self.root / "content", self.root / render.TEMPLATES_DIR):
            for path in base.rglob("*"):
                newest, count = max(newest, path.stat().st_mtime_ns), count + 1
        policy = self.root / POLICY_FILE
        return max(newest, policy.stat().st_mtime_ns if policy.exists() else 0), count

    def _watch(self, seen: tuple[int, int]) -> None:
        while not self._stop.wait(self.interval):
            current = self._snapshot()
            if current == seen:
                continue
            seen = current
            try:
                self.build()
            except GzhError as error:
                output.error(_REBUILD_FAILED(error=error))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli.add_paths(parser)
    cli.add_site(parser)
    cli.add_port(parser, PORT)


def run(args: argparse.Namespace, root: Path) -> int:
    return serve_command(root, args.paths, port=args.port, out=args.output)


def serve_command(root: Path, targets: list[str], *, port: int = PORT, out: str = cli.SITE) -> int:
    site = Path(out) if Path(out).is_absolute() else root / out
    server = PreviewServer(root, targets, site, port=port)
    server.start()
    output.write(_SERVING(url=server.url) + "\n")
    return output.wait_for_interrupt(server.stop)
