"""Code figures from the syntax tree of `pipeline/`: how long functions are, which classes are largest,
and how many imports go from one command module to another (the command layer should have none).

    .venv/bin/python bench/code_figures.py [ROOT]

ROOT is a checkout (default: this one); to compare with an older commit, add a worktree
(`git worktree add /tmp/gzh-before HEAD`), run the script on it, then remove the worktree.
Lines are counted from a definition's first line (decorators excluded) to its last, blank lines and
comments inside included; nested functions count on their own and inside their parent.
"""
from __future__ import annotations

import argparse
import ast
import math
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = "pipeline"
COMMANDS = f"{PACKAGE}.commands"


@dataclass(frozen=True)
class Definition:
    name: str       # module:qualified.name
    lines: int


def module_name(root: Path, file: Path) -> str:
    parts = file.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def definitions(tree: ast.AST, module: str) -> tuple[list[Definition], list[Definition]]:
    """Every function (methods and nested ones included) and every class, with its length in lines."""
    functions: list[Definition] = []
    classes: list[Definition] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualified = f"{prefix}{child.name}"
                size = (child.end_lineno or child.lineno) - child.lineno + 1
                target = classes if isinstance(child, ast.ClassDef) else functions
                target.append(Definition(f"{module}:{qualified}", size))
                visit(child, qualified + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return functions, classes


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """The modules each import statement names (anywhere in the file, lazy imports included)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            if base in (PACKAGE, COMMANDS):  # `from pipeline.commands import check` imports pipeline.commands.check
                found += [f"{base}.{alias.name}" for alias in node.names]
            else:
                found.append(base)
    return found


def command_imports(root: Path) -> list[tuple[str, str]]:
    """(importing command module, imported command module), once per import statement and module."""
    edges = []
    for file in sorted((root / PACKAGE / "commands").glob("*.py")):
        module = module_name(root, file)
        tree = ast.parse(file.read_text("utf-8"))
        for target in imported_modules(tree, module, file.name == "__init__.py"):
            if target.startswith(COMMANDS + ".") or target == COMMANDS:
                edges.append((module, target))
    return edges


def percentile(values: list[int], share: float) -> int:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(root: Path) -> dict[str, object]:
    functions: list[Definition] = []
    classes: list[Definition] = []
    for file in sorted((root / PACKAGE).rglob("*.py")):
        tree = ast.parse(file.read_text("utf-8"))
        found_functions, found_classes = definitions(tree, module_name(root, file))
        functions += found_functions
        classes += found_classes
    lengths = [definition.lines for definition in functions]
    edges = command_imports(root)
    return {
        "functions": len(functions),
        "p50": percentile(lengths, 0.50),
        "p90": percentile(lengths, 0.90),
        "p99": percentile(lengths, 0.99),
        "longest_functions": sorted(functions, key=lambda d: -d.lines)[:5],
        "largest_classes": sorted(classes, key=lambda d: -d.lines)[:5],
        "command_imports": len(edges),
        "command_module_pairs": len(set(edges)),
        "command_modules": len(list((root / PACKAGE / "commands").glob("*.py"))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=PROJECT)
    root = parser.parse_args().root.resolve()
    result = figures(root)
    print(f"{root}")
    print(f"functions: {result['functions']}; lines p50 {result['p50']}, p90 {result['p90']}, p99 {result['p99']}")
    print("longest functions:")
    for definition in result["longest_functions"]:  # type: ignore[attr-defined]
        print(f"  {definition.lines:4d}  {definition.name}")
    print("largest classes:")
    for definition in result["largest_classes"]:  # type: ignore[attr-defined]
        print(f"  {definition.lines:4d}  {definition.name}")
    print(f"imports between command modules: {result['command_imports']} "
          f"({result['command_module_pairs']} module pairs, {result['command_modules']} files in pipeline/commands/)")


if __name__ == "__main__":
    main()
