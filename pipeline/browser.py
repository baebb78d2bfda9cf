"""The browser edge: headless Chromium through Playwright, using the system's Chromium.

Used to look at preview pages the way a phone does (375 px wide): take screenshots, and report
console errors, images that did not load and anything wider than the screen. Playwright never
downloads a browser here; it drives the Chromium the machine has (`apt-get install chromium`).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pipeline.errors import GzhError
from pipeline.i18n import Text

PHONE_WIDTH = 375
PHONE_HEIGHT = 812
_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]

_NO_PLAYWRIGHT = Text("截图需要 Playwright：请运行 pip install 'gzh[browser]'（或 make install）",
                      "Screenshots need Playwright: pip install 'gzh[browser]' (or make install)")
_NO_CHROMIUM = Text("找不到 Chromium 浏览器。请安装（Debian/Ubuntu：apt-get install chromium），或用环境变量 GZH_CHROMIUM 指定路径",
                    "Chromium not found. Install it (apt-get install chromium) or set GZH_CHROMIUM to its path")

_SHOT_FAILED = Text("无法为 {url} 截图：{error}", "Could not take a picture of {url}: {error}")


@dataclass(frozen=True)
class PageReport:
    url: str
    console_errors: tuple[str, ...]
    broken_images: tuple[str, ...]
    overflow_px: int  # how far the page is wider than the phone screen; 0 is right


def chromium_path() -> str | None:
    return (os.environ.get("GZH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
            or shutil.which("google-chrome"))


_INSPECT = """() => ({
  broken: Array.from(document.images).filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src),
  overflow: Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth),
})"""


class Browser:
    """A headless Chromium session; use as a context manager.

    `offline` is for pages made from a pull request's text in a trusted job: no JavaScript runs and
    nothing but local files is loaded (the HTML is already sanitised; this keeps it inert).
    """

    def __init__(self, *, offline: bool = False) -> None:
        self.offline = offline

    def __enter__(self) -> "Browser":
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise GzhError(_NO_PLAYWRIGHT()) from None
        executable = chromium_path()
        if executable is None:
            raise GzhError(_NO_CHROMIUM())
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=executable, args=_ARGS, headless=True)
        self._context = self._browser.new_context(
            viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, device_scale_factor=2, is_mobile=True,
            java_script_enabled=not self.offline)
        if self.offline:
            self._context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                                else route.abort())
        return self

    def __exit__(self, *exc: object) -> None:
        self._context.close()
        self._browser.close()
        self._playwright.stop()

    def inspect(self, url: str, screenshot: Path | None = None) -> PageReport:
        page = self._context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("requestfailed", lambda request: errors.append(f"{request.url}: {request.failure}"))
        try:
            page.goto(url, wait_until="load")
            facts = page.evaluate(_INSPECT)
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            page.close()
        return PageReport(url, tuple(errors), tuple(facts["broken"]), int(facts["overflow"]))

    def shoot(self, url: str, selector: str, screenshot: Path) -> None:
        """A PNG of one element of the page, as a phone shows it (375 CSS px wide, at twice the pixels)."""
        from playwright.sync_api import Error

        page = self._context.new_page()
        try:
            page.goto(url, wait_until="load")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.locator(selector).first.screenshot(path=str(screenshot), timeout=30_000)
        except Error as error:
            raise GzhError(_SHOT_FAILED(url=url, error=str(error).splitlines()[0][:200])) from None
        finally:
            page.close()

    def inspect_all(self, urls: list[tuple[str, Path | None]]) -> Iterator[PageReport]:
        for url, screenshot in urls:
            yield self.inspect(url, screenshot)
