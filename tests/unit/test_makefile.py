"""`make help` lists every target the Makefile declares, so that nobody has to read the Makefile to find one."""

from __future__ import annotations

import re
from pathlib import Path

MAKEFILE = Path(__file__).parents[2] / "Makefile"


def declared_targets(text: str) -> set[str]:
    return {name for line in re.findall(r"^\.PHONY:(.*)$", text, re.MULTILINE) for name in line.split()}


def targets_in_help(text: str) -> set[str]:
    help_recipe = text.split("\nhelp:\n", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r'@echo "make ([a-z-]+) ', help_recipe))


def test_make_help_names_every_declared_target() -> None:
    text = MAKEFILE.read_text(encoding="utf-8")

    assert declared_targets(text) - {"help"} == targets_in_help(text)
