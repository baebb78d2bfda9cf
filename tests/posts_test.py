from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath

from hypothesis import given, settings, strategies as st

from pipeline import posts
from tests.support import front_matter, line_of, make_root, post_text, write_post


def parse(text: str) -> posts.Post:
    return posts.parse_post(text, "content/office/p/index.md", Path("."), "office")


def test_valid_post_becomes_a_typed_record() -> None:
    meta = front_matter(publish_at="2026-12-01 09:00", expires="2026-12-31", repost=True,
                        source={"name": "工人日报", "url": "https://www.workercn.cn/x"})
    post = parse(post_text("正文第一行。\n", meta))
    assert post.problems == ()
    assert post.meta.publish_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=posts.BEIJING)
    assert post.meta.expires == dt.date(2026, 12, 31)
    assert post.meta.source == posts.Source("工人日报", "https://www.workercn.cn/x")
    assert post.meta.comments == "open"
    assert not post.meta.secrecy.needs_secrecy_office
    assert post.text.split("\n")[post.body_line - 1] == ""
    assert post.body.strip() == "正文第一行。"


def test_missing_front_matter_is_explained() -> None:
    post = parse("只有正文\n")
    assert post.meta is None
    assert "文件开头缺少元数据块" in post.problems[0].message


def test_unclosed_front_matter_is_explained() -> None:
    post = parse("---\ntitle: x\n")
    assert "元数据块没有结束" in post.problems[0].message


def test_yaml_error_line_is_the_file_line_not_the_block_line() -> None:
    post = parse("---\ntitle: 通知\nauthor: 办公室: 李娜\n---\n正文")
    assert (post.problems[0].location.line, post.problems[0].location.col) == (3, 12)  # the second colon


def test_schema_problems_point_into_the_file() -> None:
    text = post_text(meta=front_matter(comments="no", titel="x"))
    post = parse(text)
    messages = {(problem.key_path, problem.location.line) for problem in post.problems}
    assert messages == {("comments", line_of(text, "comments: ")), ("titel", line_of(text, "titel: "))}


def test_impossible_date_is_reported() -> None:
    post = parse(post_text(meta=front_matter(expires="2026-02-30")))
    assert post.problems[0].message == "“2026-02-30”不是有效的日期或时间"


def test_crlf_and_bom_are_accepted(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    file = write_post(root)
    file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes().replace(b"\n", b"\r\n"))
    assert posts.load_post(file, root).problems == ()


def test_body_location_maps_offsets_to_file_lines() -> None:
    post = parse(post_text("第一行\n第二行有个词\n"))
    offset = post.body.index("词")
    location = post.body_location(offset)
    assert post.text.split("\n")[location.line - 1][location.col - 1] == "词"


def test_discover_finds_bundles_and_strays_in_order(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    second = write_post(root, slug="b")
    first = write_post(root, slug="a")
    (root / "content" / "office" / "loose.md").write_text("x", "utf-8")
    (root / "content" / "README.md").write_text("guide", "utf-8")
    found, strays = posts.discover([root / "content", first])
    assert found == [first, second]
    assert strays == [root / "content" / "office" / "loose.md"]


def test_bundle_of_maps_an_image_to_its_post(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    file = write_post(root, slug="a")
    assert posts.bundle_of(PurePosixPath("content/office/a/photo.jpg"), root) == file
    assert posts.bundle_of(PurePosixPath("content/office/other.md"), root) is None
    assert posts.bundle_of(PurePosixPath("README.md"), root) is None


_front_matter_values = st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.none(),
                                 st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["title", "author", "category", "digest", "cover", "repost", "source",
                                        "comments", "publish_at", "expires", "secrecy", "x"]),
                       _front_matter_values, max_size=8))
def test_any_front_matter_loads_or_explains(data: dict) -> None:
    post = parse(post_text(meta=data))
    assert (post.meta is None) == bool(post.problems)
    for problem in post.problems:
        assert problem.message and problem.location.line >= 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_explains(text: str) -> None:
    post = parse("---\n" + text + "\n---\n正文")
    assert (post.meta is None) == bool(post.problems)
