"""The pure domain imports no AWS or Slack SDK: its modules load in a fresh interpreter where boto3, botocore and
slack_sdk cannot be imported at all, so that a digest or a quiet-hours rule can be built and tested without them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
PURE_MODULES = (
    "watcher.domain.job",
    "watcher.domain.model",
    "watcher.domain.diff",
    "watcher.domain.digest",
    "watcher.domain.quiet",
    "watcher.domain.formatting",
    "watcher.domain.text",
    "watcher.domain.slack_message",
    "watcher.domain.email_message",
)
BLOCKED = ("boto3", "botocore", "slack_sdk")

# A meta path finder that refuses the SDKs: the traceback of the failing import names the chain that reached them.
IMPORT_WITH_SDKS_BLOCKED = f"""
import importlib, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {BLOCKED!r}:
            raise ImportError(f"{{name}} imported by a pure module")
        return None

sys.meta_path.insert(0, Blocked())
importlib.import_module(sys.argv[1])
leaked = sorted(name for name in sys.modules if name.partition(".")[0] in {BLOCKED!r})
assert not leaked, leaked
"""


@pytest.mark.parametrize("module", PURE_MODULES)
def test_a_pure_module_imports_no_aws_or_slack_sdk(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_WITH_SDKS_BLOCKED, module],
        capture_output=True,
        text=True,
        check=False,
        cwd=FUNCTIONS,
        env={"PYTHONPATH": str(FUNCTIONS), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
