"""The Lambda code's shape: thin handlers, and tests that swap adapters through ports, never by patching it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
HANDLERS = sorted((ROOT / "functions" / "watcher" / "handlers").glob("*_handler.py"))
HANDLER_LINES = 80


@pytest.mark.parametrize("path", HANDLERS, ids=lambda path: path.name)
def test_each_handler_is_thin(path: Path) -> None:
    # Parse, read settings, call one use case, map its outcome: anything longer belongs to a use case or an adapter.
    assert len(path.read_text(encoding="utf-8").splitlines()) <= HANDLER_LINES


def test_there_are_handlers_to_check() -> None:
    assert {path.stem for path in HANDLERS} >= {"poller_handler", "event_handler", "slack_handler"}


def _patched_watcher_modules(source: str) -> list[str]:
    """`setattr` targets in a test that are the Lambda code's modules or what they define."""
    tree = ast.parse(source)
    from_watcher = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "watcher"
        for alias in node.names
    }
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setattr"):
            continue
        if not node.args:
            continue
        target = node.args[0]
        root = target
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in from_watcher:
            found.append(ast.unparse(target))
        if isinstance(target, ast.Constant) and str(target.value).startswith("watcher."):
            found.append(str(target.value))
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "tests").rglob("test_*.py")), ids=lambda path: path.name)
def test_no_test_patches_the_lambda_code(path: Path) -> None:
    # Fakes go behind the ports (tests/fakes) or through composition.overriding; a patched module tests something
    # that never runs in Lambda.
    assert _patched_watcher_modules(path.read_text(encoding="utf-8")) == []


def test_the_patch_finder_sees_a_patch() -> None:
    source = (
        "from watcher.usecases import watch\ndef test(monkeypatch):\n    monkeypatch.setattr(watch, 'decide', None)\n"
    )
    assert _patched_watcher_modules(source) == ["watch"]
