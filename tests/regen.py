"""Regenerate golden files after an intended change: `python -m tests.regen [broken] [render] [workflows]`.

Run it only when the new output is what you meant, then review the diff before committing.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from tests.broken_corpus import EXPECTED, findings_by_post
from tests.render_golden import CASES, case_names, render_case
from tests.support import PROJECT


def regen_broken(tmp: Path) -> None:
    header = EXPECTED.read_text("utf-8").split("\n\n", 1)[0].split("posts:")[0].rstrip() + "\n"
    data = {"posts": findings_by_post(tmp)}
    EXPECTED.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=True), "utf-8")
    print(f"wrote {EXPECTED}")


def regen_render(tmp: Path) -> None:
    for name in case_names():
        (CASES / f"{name}.html").write_text(render_case(tmp / name, name), "utf-8")
    print(f"wrote {len(case_names())} files in {CASES}")


def regen_workflows() -> None:
    """Record the shipped workflows' digests, which gzh doctor compares a repository against."""
    from pipeline.commands.doctor import WORKFLOWS_DIR, workflow_digests

    digests = workflow_digests(PROJECT / WORKFLOWS_DIR)
    target = PROJECT / "pipeline" / "data" / "workflows.json"
    target.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n", "utf-8")
    print(f"wrote {target}")


def main(argv: list[str]) -> int:
    import tempfile

    targets = argv or ["broken", "render", "workflows"]
    if "workflows" in targets:
        regen_workflows()
    with tempfile.TemporaryDirectory() as folder:
        if "broken" in targets:
            regen_broken(Path(folder) / "broken")
        if "render" in targets:
            regen_render(Path(folder) / "render")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
