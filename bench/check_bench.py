"""Benchmark `gzh check` on a generated 2,000-post repository.

    .venv/bin/python bench/check_bench.py [--posts 2000] [--runs 5]

Measures, in one run on one machine:
  1. the full check in process: per-post time (load + every rule), median and p90;
  2. `gzh check --changed` with one changed post, as a fresh process (cold start included).
The corpus is the sample content copied round-robin into every department with new slugs, so
posts carry the same images, tables, links and Chinese text as real ones.
"""
from __future__ import annotations

import argparse
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import commit_all  # noqa: E402
from pipeline import posts  # noqa: E402
from pipeline.checks import check_post, severities  # noqa: E402
from pipeline.policy import load_policy  # noqa: E402


def build_corpus(root: Path, count: int) -> list[Path]:
    shutil.copy(PROJECT / "gzh.yml", root / "gzh.yml")
    shutil.copytree(PROJECT / "templates", root / "templates")
    samples, _ = posts.discover([PROJECT / "content"])
    files = []
    for index in range(count):
        sample = samples[index % len(samples)]
        folder = sample.parent.parent.name  # keep the sample's department so its reviewer stays valid
        target = root / "content" / folder / f"2026-{index:05d}-{sample.parent.name}"
        shutil.copytree(sample.parent, target)
        files.append(target / "index.md")
    return files


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def full_check(root: Path, files: list[Path]) -> dict[str, float]:
    policy = load_policy(root / "gzh.yml")
    levels = severities(policy)
    for file in files[:20]:  # warm caches (schemas, dictionary, OpenCC) as a long run would
        check_post(posts.load_post(file, root), policy, root, levels)
    timings = []
    start = time.perf_counter()
    for file in files:
        began = time.perf_counter()
        report = check_post(posts.load_post(file, root), policy, root, levels)
        timings.append((time.perf_counter() - began) * 1000)
        assert not report.findings, (file, report.findings)
    total = time.perf_counter() - start
    return {"median_ms": statistics.median(timings), "p90_ms": percentile(timings, 0.9), "total_s": total}


def changed_check(root: Path, runs: int) -> dict[str, float]:
    repo = commit_all(root)
    repo.git.checkout("-b", "change")
    target = next((root / "content" / "office").glob("*/index.md"))
    target.write_text(target.read_text("utf-8") + "\n补充一段说明。\n", "utf-8")
    repo.git.commit("-am", "change one post")
    gzh = shutil.which("gzh", path=str(Path(sys.executable).parent)) or "gzh"
    env = {**os.environ, "NO_COLOR": "1"}
    walls = []
    for _ in range(runs):
        began = time.perf_counter()
        result = subprocess.run([gzh, "--root", str(root), "check", "--changed", "--base", "main"],
                                capture_output=True, text=True, env=env, check=False)
        walls.append(time.perf_counter() - began)
        assert result.returncode == 0 and "检查了 1 篇文章" in result.stdout, result.stdout + result.stderr
    return {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = build_corpus(root, args.posts)
        full = full_check(root, files)
        changed = changed_check(root, args.runs)
    print(f"posts: {args.posts}; python {sys.version.split()[0]}; cores {os.cpu_count()}")
    print(f"full check, in process: median {full['median_ms']:.2f} ms/post, p90 {full['p90_ms']:.2f} ms/post, "
          f"total {full['total_s']:.1f} s")
    print(f"--changed, one post, fresh process (n={args.runs}): median {changed['median_s']:.2f} s "
          f"(min {changed['min_s']:.2f}, max {changed['max_s']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
