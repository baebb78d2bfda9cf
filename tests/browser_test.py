"""The preview of every sample post, opened in headless Chromium at phone width (375 px)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline import browser, posts, preview
from pipeline.main import main
from tests.support import PROJECT, policy

needs_chromium = pytest.mark.skipif(
    browser.chromium_path() is None and not os.environ.get("CI"),
    reason="Chromium is not installed (CI installs it; locally: apt-get install chromium)",
)


@needs_chromium
def test_sample_previews_load_cleanly_at_phone_width(tmp_path: Path) -> None:
    files, _ = posts.discover([PROJECT / "content"])
    pages = preview.build_site(PROJECT, policy(PROJECT), files, tmp_path / "site")
    with browser.Browser() as chromium:
        for page in pages:
            report = chromium.inspect((tmp_path / "site" / page.page).as_uri())
            assert report.console_errors == (), page.page
            assert report.broken_images == (), page.page
            assert report.overflow_px == 0, page.page
    assert len(pages) == len(files)


@needs_chromium
def test_screenshot_option_writes_a_png_per_post(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert main(["--root", str(PROJECT), "preview", "content/grassroots", "-o", str(out), "--screenshot"]) == 0
    shots = sorted(path.name for path in (out / "screenshots").glob("*.png"))
    assert shots == ["grassroots--2026-09-10-mutual-aid-guide.png", "grassroots--2026-11-12-grassroots-exchange.png"]
    assert (out / "screenshots" / shots[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_inspection_catches_overflow_broken_images_and_errors(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<html><head><meta name="viewport" content="width=device-width"></head><body><div style="width:900px">宽</div><img src="missing.png">'
                    '<script>console.error("坏了")</script></body></html>', "utf-8")
    with browser.Browser() as chromium:
        report = chromium.inspect(page.as_uri())
    assert report.overflow_px > 0 and len(report.broken_images) == 1
    assert any("坏了" in error for error in report.console_errors)
