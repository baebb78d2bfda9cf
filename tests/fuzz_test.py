"""A fuzzer over what a pull request controls: front matter, Markdown, Unicode, control characters,
image paths. Every input must end in findings or a clear message: no internal error, nothing slow.

The run is bounded and repeatable (a fixed seed, GZH_FUZZ_EXAMPLES cases per test, 150 by
default). To explore further: GZH_FUZZ_EXAMPLES=5000 GZH_FUZZ_SEED=random .venv/bin/python -m pytest tests/fuzz_test.py
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, seed, settings, strategies as st

from pipeline import assets, posts
from pipeline.checks import check_post
from pipeline.errors import GzhError
from pipeline.render import render_post
from tests.support import FRONT_MATTER, make_root, policy, write_image

EXAMPLES = int(os.environ.get("GZH_FUZZ_EXAMPLES", "150"))
SEED = os.environ.get("GZH_FUZZ_SEED", "20261129")
BUDGET_SECONDS = 2.0

# Pieces of Markdown syntax, hostile paths and awkward characters, to be shuffled into posts.
SYNTAX = ["*", "**", "_", "__", "~~", "`", "```", "~~~", "[", "]", "(", ")", "![", "](", "[^1]", "[^1]: ",
          "<!--", "-->", "<b>", "</b>", "<img src=x>", "|", "| --- |", "---", "> ", "- ", "1. ", "- [ ] ", "- [x] ",
          "#", "    ", "\t", "\\", "&amp;", "&#0;", "&#x110000;", "\n", "\n\n", "http://", "https://a.b/", "mailto:",
          "javascript:", "tel:", "\u3000", "　　", "<https://a.b>", "[x]: ", '"t"', "{}", "{{", "{%", "%}"]
PATHS = ["a.png", "../a.png", "../../../../etc/passwd", "/etc/passwd", "a\x00b.png", "%00", "a%2e%2e/b.png",
         "sub/../../x.png", "C:\\x.png", "\\\\server\\x.png", "file:///etc/passwd", "link.png", "folder", "fifo.png",
         "x" * 300 + ".png", "图片 1.jpg", ".", "", "<a.png>", "a.png \"标题\""]
CHARACTERS = st.characters(blacklist_categories=("Cs",))  # lone surrogates cannot be written as UTF-8
TEXTS = ["市总工会召开全委会议", "身份证号 32100219900307123X", "手机１３９１２３４５６７８", "秘密★1年", "內部資料",
         "中文 123 中文,English", "扬工发〔2026〕12号", "😀", "\u202e", "\ufeff", "\x00", "\x1b[31m", "\r", "\u2028"]


def _piece() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(SYNTAX), st.sampled_from(TEXTS), st.text(CHARACTERS, max_size=8),
                     st.sampled_from(PATHS).map(lambda path: f"![图]({path})"),
                     st.sampled_from(PATHS).map(lambda path: f"[链接]({path})"))


BODIES = st.lists(_piece(), max_size=60).map("".join)
DATES = st.sampled_from(["2026-13-45", "2026-02-30 25:61", "9999-12-31", "0000-00-00", "2026-12-01T09:00", "2026-1-1",
                         "99999-01-01", "2026-12-01 09:00:00:00", "2026-12-01 -1:00", "２０２６-１２-０１"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(CHARACTERS, max_size=20),
                    st.sampled_from(PATHS), DATES)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                      max_leaves=6)
FIELDS = ["title", "author", "category", "digest", "cover", "repost", "source", "comments", "publish_at", "expires",
          "secrecy", "mode", "cover_crop", "theme", "unknown"]


@st.composite
def front_matters(draw: st.DrawFn) -> str:
    """Mostly usable front matter (so the body reaches every rule and the renderer) with a hostile
    cover, title or digest; sometimes fields replaced by anything; sometimes raw text."""
    kind = draw(st.sampled_from(["usable", "usable", "mutated", "raw"]))
    data: dict[str, Any] = dict(FRONT_MATTER)
    if kind == "usable":
        data["cover"] = draw(st.sampled_from(PATHS))
        data["digest"] = draw(st.text(CHARACTERS, max_size=30))
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if kind == "mutated":
        for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
            data[field] = draw(DATES if field in ("publish_at", "expires") and draw(st.booleans()) else VALUES)
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return draw(st.lists(st.one_of(st.sampled_from(["title: x", "title：标题", "\ttitle: x", "title:x", "'", '"', "- ",
                                                     ": ", "? ", "&a", "*a", "!!python/object:os.system", "{", "["]),
                                   st.text(CHARACTERS, max_size=10)), max_size=12).map("\n".join))


class Workspace:
    """One repository for every case: a post folder with hostile neighbours (links, a FIFO, a folder)."""

    def __init__(self, base: Path) -> None:
        self.root = make_root(base)
        self.policy = policy(self.root)
        self.folder = self.root / "content" / "office" / "fuzz"
        write_image(self.folder / "a.png")
        (self.folder / "folder").mkdir()
        os.mkfifo(self.folder / "fifo.png")
        write_image(base / "outside" / "secret.png")
        os.symlink(base / "outside" / "secret.png", self.folder / "link.png")

    def run(self, text: str) -> None:
        file = self.folder / posts.POST_FILE
        file.write_text(text, "utf-8")
        started = time.perf_counter()
        post = posts.load_post(file, self.root)
        check_post(post, self.policy, self.root)
        assets.version(post)
        event("usable front matter" if post.meta is not None else "front matter refused")
        if post.meta is not None:
            try:
                render_post(post, self.policy, self.root)
            except GzhError:
                event("render refused with a message")  # a fine answer; anything else fails the test
        elapsed = time.perf_counter() - started
        assert elapsed < BUDGET_SECONDS, f"{elapsed:.2f} s for {text[:200]!r}"


def _settings(function: Any) -> Any:
    configured = settings(max_examples=EXAMPLES, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])(function)
    return configured if SEED == "random" else seed(int(SEED))(configured)


@_settings
@given(front=front_matters(), body=BODIES)
def test_no_post_crashes_or_stalls_check_and_render(tmp_path_factory, front: str, body: str) -> None:
    _workspace(tmp_path_factory).run(f"---\n{front}\n---\n\n{body}\n")


@_settings
@given(text=st.lists(st.one_of(_piece(), st.sampled_from(["---", "---\n", "\r\n", "\ufeff"])), max_size=80).map("".join))
def test_no_file_at_all_crashes_or_stalls(tmp_path_factory, text: str) -> None:
    _workspace(tmp_path_factory).run(text)


_WORKSPACES: dict[int, Workspace] = {}


def _workspace(factory: Any) -> Workspace:
    """Built once per session: making a repository per case would spend the budget on copying templates."""
    key = id(factory)
    if key not in _WORKSPACES:
        _WORKSPACES[key] = Workspace(factory.mktemp("fuzz"))
    return _WORKSPACES[key]
