"""The user guides must not drift from the code they describe."""
from __future__ import annotations

import re

from pipeline.checks import RULES
from pipeline.yamlsource import load_schema
from tests.support import PROJECT


def test_every_rule_is_documented_with_its_default_severity() -> None:
    text = (PROJECT / "docs" / "checks.md").read_text("utf-8")
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| (\S+) \|", text, re.M))
    assert rows == {rule.id: rule.severity.label for rule in RULES}


def test_every_policy_section_is_documented() -> None:
    text = (PROJECT / "docs" / "policy.md").read_text("utf-8")
    for key in load_schema("policy").schema["properties"]:
        assert f"## `{key}`" in text, key


def test_readme_names_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (PROJECT / "README.md").read_text("utf-8")
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (PROJECT / ".ci" / "run").read_text("utf-8")
