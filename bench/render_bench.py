"""Side-by-side render benchmark: gzh vs wenyan (the closest peer) vs bare markdown-it-py.

    .venv/bin/python bench/render_bench.py [--peer ../shared/bench/peer-wenyan] [--warm 200] [--cold 10]

Inputs: wenyan's own sample (sample.md with its image) and every post in content/. For gzh,
wenyan's sample is placed in a post bundle with gzh front matter; the Markdown body is identical.
Measures, in one run on one machine:
  warm  - renders in one process: wenyan's prepareRenderContext (bench-wenyan.mjs), gzh's
          load_post + render_post, and bare markdown-it-py (commonmark + table) on the same body;
  cold  - one process per render: `node wenyan-render.mjs -f FILE` and `gzh render PATH`.
wenyan is installed with npm into bench/out/ (ignored by git) the first time.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from markdown_it import MarkdownIt  # noqa: E402

from pipeline import posts  # noqa: E402
from pipeline.policy import load_repository_policy  # noqa: E402
from pipeline.render import render_post  # noqa: E402

OUT = PROJECT / "bench" / "out"
FRONT_MATTER = """---
title: 用Git管理公众号文章
author: 编辑部
category: news
secrecy:
  conclusion: 可以公开
  reviewer: li-na
  basis: 公开的技术文章，不涉及国家秘密和个人信息
---
"""


def install_peer(peer: Path) -> Path:
    target = OUT / "peer-wenyan"
    if not (target / "node_modules" / "@wenyan-md" / "core").is_dir():
        shutil.copytree(peer, target, dirs_exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=target, check=True)
    return target


def wenyan_env(peer: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(peer / ".config")}


def wenyan_warm(peer: Path, file: Path, runs: int) -> float:
    result = subprocess.run(["node", "bench-wenyan.mjs", str(file), str(runs)], cwd=peer, env=wenyan_env(peer),
                            capture_output=True, text=True, check=True)
    return float(json.loads(result.stdout.strip().splitlines()[-1])["median_ms"])


def wenyan_cold(peer: Path, file: Path, runs: int) -> float:
    walls = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(["node", "wenyan-render.mjs", "-f", str(file)], cwd=peer, env=wenyan_env(peer),
                       capture_output=True, check=True)
        walls.append(time.perf_counter() - began)
    return statistics.median(walls) * 1000


def gzh_warm(root: Path, file: Path, runs: int) -> dict[str, float]:
    """Medians in ms of gzh render, gzh load + render, and bare markdown-it-py on the same body.

    The three are interleaved in one loop, so machine noise hits them alike.
    """
    policy = load_repository_policy(root)
    post = posts.load_post(file, root)
    bare = MarkdownIt("commonmark").enable("table")
    render_post(post, policy, root)  # the first render loads lexers and themes
    bare.render(post.body)
    samples: dict[str, list[float]] = {"gzh_warm": [], "gzh_load_warm": [], "bare_warm": []}
    steps = {
        "gzh_warm": lambda: render_post(post, policy, root),
        "gzh_load_warm": lambda: render_post(posts.load_post(file, root), policy, root),
        "bare_warm": lambda: bare.render(post.body),
    }
    for _ in range(runs):
        for key, step in steps.items():
            began = time.perf_counter()
            step()
            samples[key].append(time.perf_counter() - began)
    return {key: statistics.median(values) * 1000 for key, values in samples.items()}


def gzh_cold(root: Path, file: Path, runs: int) -> float:
    gzh = shutil.which("gzh", path=str(Path(sys.executable).parent)) or "gzh"
    walls = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([gzh, "--root", str(root), "render", str(file)], capture_output=True, check=True)
        walls.append(time.perf_counter() - began)
    return statistics.median(walls) * 1000


def wenyan_sample_as_post(peer: Path, root: Path) -> Path:
    """A copy of the repository with wenyan's sample as one more post, same body, same image."""
    for name in ("gzh.yml", "templates", "content"):
        source = PROJECT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    bundle = root / "content" / "office" / "wenyan-sample"
    bundle.mkdir(parents=True)
    shutil.copy(peer / "diagram.png", bundle / "diagram.png")
    text = (peer / "sample.md").read_text("utf-8")
    body = text.split("---", 2)[2] if text.startswith("---") else text
    (bundle / "index.md").write_text(FRONT_MATTER + body.replace("./diagram.png", "diagram.png"), "utf-8")
    return bundle / "index.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", type=Path, default=PROJECT.parent / "shared" / "bench" / "peer-wenyan")
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--cold", type=int, default=10)
    args = parser.parse_args()
    peer = install_peer(args.peer)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sample = wenyan_sample_as_post(peer, root)
        inputs = [("wenyan sample.md", peer / "sample.md", sample)]
        inputs += [(path.parent.name, path, path) for path in sorted((root / "content").glob("*/*/index.md"))
                   if path != sample]
        rows = []
        for label, wenyan_file, gzh_file in inputs:
            rows.append({"input": label, "wenyan_warm": wenyan_warm(peer, wenyan_file, args.warm),
                         **gzh_warm(root, gzh_file, args.warm)})
        cold = {"wenyan": wenyan_cold(peer, peer / "sample.md", args.cold), "gzh": gzh_cold(root, sample, args.cold)}
    print("| input | wenyan warm ms | gzh load+render ms | gzh render ms | bare markdown-it-py ms "
          "| wenyan / gzh load+render | gzh render / bare |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['input']} | {row['wenyan_warm']:.1f} | {row['gzh_load_warm']:.2f} | {row['gzh_warm']:.2f} | "
              f"{row['bare_warm']:.2f} | {row['wenyan_warm'] / row['gzh_load_warm']:.1f}× | "
              f"{row['gzh_warm'] / row['bare_warm']:.2f}× |")
    keys = ("wenyan_warm", "gzh_load_warm", "gzh_warm", "bare_warm")
    medians = {key: statistics.median(row[key] for row in rows) for key in keys}
    print(f"\nmedian over {len(rows)} inputs: wenyan {medians['wenyan_warm']:.1f} ms, gzh load+render "
          f"{medians['gzh_load_warm']:.2f} ms, gzh render {medians['gzh_warm']:.2f} ms, bare {medians['bare_warm']:.2f} ms")
    print(f"cold, wenyan sample, n={args.cold}: wenyan {cold['wenyan']:.0f} ms, gzh {cold['gzh']:.0f} ms "
          f"(gzh / wenyan = {cold['gzh'] / cold['wenyan']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
