"""Benchmark `gzh check` and `gzh render` on hostile posts: time must grow linearly with the input.

    .venv/bin/python bench/adversarial_bench.py [--runs 3] [--only NAME ...] [--list]

Posts are untrusted input: a writer's mistake or a malicious pull request may hold a megabyte of
text, a hundred thousand links, an HTML comment that never closes or thousands of nested quotes.
Each case below builds one such post in a throwaway repository (the shipped gzh.yml and templates,
through tests.support), then, in this one process, times `check_post` (loading the post and every
rule, the full render of body-size included) and `render_post` on it, `--runs` times each, and prints
the medians. Every run starts without a kept parse; the render that follows the check reuses it,
as in `gzh preview` and `gzh publish`. A clear refusal (a post over 2 MB) is timed like any result;
a case that crashes is shown as the exception, not timed.

Budgets on the 2-core reference machine (check + render, medians): every case within 2 s, except
100,000 links within 5 s and the 5 MB post (five times the largest post WeChat accepts) within 10 s;
and no case may grow faster than its input (compare 20k with 100k links, 1 MB with 5 MB).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from pipeline import posts  # noqa: E402
from pipeline.checks import check_post, severities  # noqa: E402
from pipeline.errors import GzhError  # noqa: E402
from pipeline.render import markdown, render_post  # noqa: E402
from tests.support import make_root, policy, post_text, write_post  # noqa: E402

SAMPLE = PROJECT / "content" / "rights" / "2026-09-25-legal-aid-guide" / "index.md"
DEFAULT_BUDGET = 2.0
BUDGETS = {"links-100k": 5.0, "post-5mb": 10.0}


def _sample_body() -> str:
    """A real post's body (Chinese prose, headings, lists, bold, a footnote) plus code, a table and
    a link, so a long post made of it exercises every rule."""
    text = SAMPLE.read_text("utf-8")
    body = text.split("\n---\n", 1)[1].replace("[^1]:", "[^n1]:").replace("[^1]", "[^n1]")
    extra = ("\n| 项目 | 时间 | 地点 |\n| --- | --- | --- |\n| 咨询 | 周一至周五 | 服务中心 |\n\n"
             "```python\nprint('工会 法律援助')  # 代码不检查\n```\n\n"
             "详见[市总工会网站](https://www.example.cn/legal-aid)和 `gzh check` 的说明。\n\n")
    return body + extra


def sized_post(size: int) -> str:
    """Whole sample bodies up to about `size` bytes of UTF-8; footnote labels kept unique."""
    body = _sample_body()
    count = max(1, size // len(body.encode("utf-8")))
    return "".join(body.replace("[^n1]", f"[^n{index}]") for index in range(count))


def id_numbers(count: int) -> str:
    from stdnum.cn import ric

    lines = []
    for index in range(count):
        base = f"36042619{91 + index % 9:02d}{1 + index % 12:02d}{1 + index % 28:02d}{index % 1000:03d}"
        lines.append(f"第{index}位职工的身份证号码是{base}{ric.calc_check_digit(base + '0')}，请核实。\n")
    return "".join(lines)


def footnotes(count: int) -> str:
    cites = "".join(f"第{index}条说明[^f{index}]。" for index in range(count))
    notes = "".join(f"[^f{index}]: 注释内容第{index}条。\n" for index in range(count))
    return f"{cites}\n\n{notes}"


CASES: dict[str, Callable[[], str]] = {
    "post-1mb": lambda: sized_post(1024 * 1024),
    "post-5mb": lambda: sized_post(5 * 1024 * 1024),
    "links-20k": lambda: "".join(f"见[链接{index}](https://www.example.cn/a/{index})。\n" for index in range(20_000)),
    "links-100k": lambda: "".join(f"见[链接{index}](https://www.example.cn/a/{index})。\n" for index in range(100_000)),
    "comment-unclosed-300kb": lambda: "正文<!--" * 37_500,  # 300 KB of comment openers, none closed
    "comment-lines-unclosed": lambda: "<!-- gzh-ignore mobile-number: 本人同意公开\n" * 20_000,  # one HTML block
    "backticks-20k": lambda: "`" * 20_000 + "\n",
    "code-spans-20k": lambda: "".join(f"变量`v{index}`和" for index in range(20_000)) + "\n",
    "emphasis-50k": lambda: "".join(f"**重点{index}**、*强调*" for index in range(25_000)) + "\n",
    "emphasis-open-50k": lambda: "*" * 50_000 + "\n" + "_" * 50_000 + "\n",
    "quotes-5000-deep": lambda: ">" * 5000 + " 引文\n",
    "lists-1000-deep": lambda: "".join("  " * depth + "- 项\n" for depth in range(1000)),
    "brackets-50k": lambda: "[" * 50_000 + "\n",
    "link-openers-20k": lambda: "](" * 20_000 + "\n",
    "angles-50k": lambda: "<" * 50_000 + "\n",
    "backslashes-100k": lambda: "\\" * 100_000 + "\n",
    "reference-defs-long": lambda: "".join(f"[r{index}]: https://www.example.cn/{'x' * 200}/{index} \"标题\"\n"
                                           for index in range(5000)),
    "table-10k-columns": lambda: "|" + "a|" * 10_000 + "\n|" + "-|" * 10_000 + "\n|" + "1|" * 10_000 + "\n",
    "footnotes-5000": lambda: footnotes(5000),
    "images-5000": lambda: "".join(f"![图{index}](photo-{index}.jpg)\n\n" for index in range(5000)),
    "lines-200k": lambda: "短行\n" * 200_000,
    "id-numbers-5000": lambda: id_numbers(5000),
}


def timed(action: Callable[[], object]) -> tuple[float | None, object]:
    """Seconds of one call and its result; a clear refusal (GzhError) is a result and is timed too;
    (None, the exception's text) for anything else, a crash."""
    began = time.perf_counter()
    try:
        result = action()
    except GzhError as refusal:
        result = f"refused: {str(refusal)[:40]}"
    except Exception as error:  # noqa: BLE001 - a crash is a result here
        traceback.print_exc(limit=2, file=sys.stderr)
        return None, f"{type(error).__name__}: {str(error)[:60]}"
    return time.perf_counter() - began, result


def run_case(name: str, build: Callable[[], str], runs: int, workdir: Path) -> dict[str, object]:
    """Each run starts cold (no parse kept from an earlier run), then checks and renders the post in
    turn, as `gzh preview` and `gzh publish` do; medians over the runs."""
    root = make_root(workdir / name)
    body = build()
    file = write_post(root, text=post_text("") + body)
    rules_policy = policy(root)
    levels = severities(rules_policy)
    checks, renders, report = [], [], None
    for _ in range(runs):
        markdown.clear_parse_cache()
        check_s, report = timed(lambda: check_post(posts.load_post(file, root), rules_policy, root, levels))
        render_s, _ = timed(lambda: render_post(posts.load_post(file, root), rules_policy, root))
        checks.append(check_s)
        renders.append(render_s)
    crashed = None in checks or None in renders
    findings = report if crashed or isinstance(report, str) else len(report.findings)  # type: ignore[union-attr]
    return {"name": name, "kb": len(body.encode("utf-8")) / 1024,
            "check": None if None in checks else statistics.median(checks),  # type: ignore[type-var]
            "render": None if None in renders else statistics.median(renders),  # type: ignore[type-var]
            "findings": findings, "budget": BUDGETS.get(name, DEFAULT_BUDGET)}


def _seconds(value: object) -> str:
    return "crash" if value is None else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="case names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    names = args.only or list(CASES)
    unknown = [name for name in names if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            row = run_case(name, CASES[name], args.runs, Path(folder))
            rows.append(row)
            print(f"  {name}: check {_seconds(row['check'])} s, render {_seconds(row['render'])} s", file=sys.stderr)
    print(f"runs: {args.runs}; python {sys.version.split()[0]}; cores {os.cpu_count()}")
    print("| case | KB | check s | render s | total s | budget s | findings | ok |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    failed = 0
    for row in rows:
        crashed = row["check"] is None or row["render"] is None
        total = None if crashed else row["check"] + row["render"]  # type: ignore[operator]
        ok = not crashed and total <= row["budget"]  # type: ignore[operator]
        failed += not ok
        print(f"| {row['name']} | {row['kb']:,.0f} | {_seconds(row['check'])} | {_seconds(row['render'])} | "
              f"{_seconds(total)} | {row['budget']:.0f} | {row['findings']} | {'yes' if ok else 'NO'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
