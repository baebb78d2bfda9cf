"""Golden rendering cases: tests/resources/render/<case>.md in, <case>.html expected out."""
from __future__ import annotations

from pathlib import Path

from pipeline import posts
from pipeline.render import render_post
from tests.support import RESOURCES, make_root, policy, write_post

CASES = RESOURCES / "render"


def case_names() -> list[str]:
    return sorted(path.stem for path in CASES.glob("*.md"))


def render_case(tmp_path: Path, name: str) -> str:
    """Render a case as a post of the office department; a case with its own front matter keeps it."""
    root = make_root(tmp_path)
    source = (CASES / f"{name}.md").read_text("utf-8")
    file = write_post(root, source, text=source if source.startswith("---\n") else None)
    return render_post(posts.load_post(file, root), policy(root), root).html + "\n"
