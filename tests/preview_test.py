from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline import posts, preview
from tests.support import front_matter, make_root, png_header_only, policy, write_image, write_post


def test_site_has_an_index_and_a_page_per_post_with_images(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    write_post(root, "![现场](a.png)\n\n联系人13800138000。\n", slug="good")
    write_image(root / "content/office/good/a.png")
    write_post(root, "正文。\n", slug="bad", meta=front_matter(category="通知"))
    out = tmp_path / "site"
    pages = preview.build_site(root, policy(root), posts.discover([root / "content"])[0], out, dt.date(2026, 11, 28))
    assert [str(page.page) for page in pages] == ["posts/office/bad/index.html", "posts/office/good/index.html"]
    good = (out / "posts/office/good/index.html").read_text("utf-8")
    assert "<h1 class=\"title\">市总工会召开全委会议</h1>" in good and "2026-11-28" in good
    assert 'src="a.png"' in good and (out / "posts/office/good/a.png").is_file()
    assert "需要保密委员会办公室复审：手机号码（mobile-number）" in good
    assert '<span class="rule">手机号码（mobile-number）</span>' in good  # rules by their Chinese names
    assert "138****8000" in good.split('<aside class="checks"')[1]  # the panel shows it redacted
    index = (out / "index.html").read_text("utf-8")
    assert 'href="posts/office/good/index.html"' in index and "需保密办复审" in index
    assert "1 个错误，0 个警告" in index and "共 2 篇：1 篇通过，1 篇有错误，1 篇需保密办复审。" in index
    assert (out / "assets/preview.css").is_file()


def test_unrenderable_post_still_gets_a_page_with_its_problems(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    write_post(root, text="---\ntitle: [\n---\n正文\n")
    out = tmp_path / "site"
    preview.build_site(root, policy(root), posts.discover([root / "content"])[0], out)
    page = (out / "posts/office/2026-11-28-meeting/index.html").read_text("utf-8")
    assert "元数据有错误，暂时无法排版" in page and "front-matter" in page


RUNNER_NOW = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.timezone.utc)  # 2026-11-29 01:00 in Beijing


class RunnerClock:
    """`datetime` as preview.py sees it on a CI runner whose zone is UTC, at RUNNER_NOW."""

    class date(dt.date):  # noqa: N801 - the module's name
        @classmethod
        def today(cls) -> dt.date:
            return RUNNER_NOW.date()

    class datetime(dt.datetime):  # noqa: N801 - the module's name
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return RUNNER_NOW.astimezone(tz) if tz else RUNNER_NOW.replace(tzinfo=None)


def test_an_undated_post_is_dated_in_beijing_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    write_post(root, "正文。\n", slug="undated")
    monkeypatch.setattr(preview, "dt", RunnerClock)
    preview.build_site(root, policy(root), posts.discover([root / "content"])[0], tmp_path / "site")
    page = (tmp_path / "site/posts/office/undated/index.html").read_text("utf-8")
    assert "2026-11-29" in page and "2026-11-28" not in page


def test_an_image_over_the_pixel_budget_is_never_copied_into_the_site(tmp_path: Path) -> None:
    """A browser opening the preview (the gate's camera too) never decodes a bomb from a pull request."""
    root = make_root(tmp_path)
    file = write_post(root, "正文。\n\n![图](bomb.png)\n\n![图](photo.png)\n")
    png_header_only(file.parent / "bomb.png", 20_000, 20_000)
    write_image(file.parent / "photo.png")
    pages = preview.build_site(root, policy(root), [file], tmp_path / "site")
    folder = tmp_path / "site" / pages[0].page.parent
    assert (folder / "photo.png").is_file() and not (folder / "bomb.png").exists()
    assert "image-format" in (tmp_path / "site" / pages[0].page).read_text("utf-8")  # the check says why
