"""Publish 50 posts into the local sandbox and report API calls and time per post.

    .venv/bin/python bench/publish_bench.py [--posts 50]

The posts are the sample content copied round-robin (so images repeat across posts, as a real
account's logos and standard pictures do). Everything goes through the real path: wechatpy over
HTTP to the sandbox, the git ledger, the content-hash upload cache. A second run measures the
cost of finding nothing to do.
"""
from __future__ import annotations

import argparse
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import commit_all  # noqa: E402
from pipeline import posts  # noqa: E402
from pipeline.connect import connect  # noqa: E402
from pipeline.policy import load_repository_policy  # noqa: E402
from pipeline.publish import Publisher  # noqa: E402
from pipeline.sandbox import Sandbox  # noqa: E402


def build(root: Path, count: int) -> None:
    for name in ("gzh.yml", "templates"):
        source = PROJECT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    samples = posts.discover([PROJECT / "content"])[0]
    for index in range(count):
        sample = samples[index % len(samples)]
        target = root / "content" / sample.parent.parent.name / f"{index:03d}-{sample.parent.name}"
        shutil.copytree(sample.parent, target)
        text = (target / "index.md").read_text("utf-8")
        (target / "index.md").write_text(text.replace("title: ", f"title: 第{index}篇", 1), "utf-8")
    commit_all(root)


def run(root: Path, sandbox: Sandbox) -> tuple[float, list[str]]:
    policy = load_repository_policy(root)
    wechat, ledger = connect(root, sandbox.credentials)
    publisher = Publisher(root, policy, wechat, ledger, poll_delays=(0.2, 0.4, 0.8, 1.6))
    files = posts.discover([root / "content"])[0]
    began = time.perf_counter()
    outcomes = publisher.run([posts.load_post(file, root) for file in files])
    elapsed = time.perf_counter() - began
    return elapsed, [outcome.status for outcome in outcomes]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        root.mkdir()
        build(root, args.posts)
        with Sandbox(Path(folder) / "sandbox") as sandbox:
            sandbox.state.data["publish_seconds"] = 0.1
            first, statuses = run(root, sandbox)
            calls = collections.Counter(call["endpoint"] for call in sandbox.calls())
            second, again = run(root, sandbox)
            calls_again = len(sandbox.calls()) - sum(calls.values())
        images = sum(1 for path in (root / "content").rglob("*") if path.suffix in (".jpg", ".png"))
    print(f"posts: {args.posts} ({collections.Counter(statuses)}), image files in them: {images}")
    print(f"first run: {first:.1f} s, {first / args.posts * 1000:.0f} ms per post")
    print("calls: " + ", ".join(f"{name} {count}" for name, count in sorted(calls.items())))
    print(f"second run: {second:.1f} s, {calls_again} API calls ({collections.Counter(again)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
