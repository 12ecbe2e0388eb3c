"""The Lambda code asset: functions/ plus its runtime requirements, installed with pip on this machine, no Docker."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
REQUIREMENTS_FILE = REPO_ROOT / "requirements.txt"

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.X86_64
# Wheels that run on the runtime's Amazon Linux 2023 (glibc 2.34) on x86_64. pip needs the old and the new
# spelling: most wheels carry the manylinux2014 tag, some newer ones only manylinux_2_28.
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
# Left out of the asset: build litter that would only change its hash.
IGNORED = ("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")

Runner = Callable[[Sequence[str]], Any]


def _run(command: Sequence[str]) -> None:
    subprocess.run(command, check=True)  # noqa: S603 - the command is built here, not from input


def python_version(runtime: lambda_.Runtime = RUNTIME) -> str:
    """The runtime's Python version as pip wants it, e.g. "3.13" for python3.13."""
    return runtime.name.removeprefix("python")


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Installs the requirements as Lambda-compatible wheels and copies the code beside them."""

    def __init__(
        self,
        *,
        source_dir: Path = FUNCTIONS_DIR,
        requirements: Path = REQUIREMENTS_FILE,
        runtime: lambda_.Runtime = RUNTIME,
        run: Runner = _run,
    ) -> None:
        self._source_dir = source_dir
        self._requirements = requirements
        self._runtime = runtime
        self._run = run

    def pip_command(self, output_dir: str) -> list[str]:
        platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--requirement",
            str(self._requirements),
            "--target",
            output_dir,
            *platforms,
            "--implementation",
            "cp",
            "--python-version",
            python_version(self._runtime),
            "--only-binary=:all:",
            # No .pyc files: they would differ between builds and so change the asset hash.
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
        ]

    # jsii calls this with the bundling options as keyword arguments; none of them matter here.
    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        self._run(self.pip_command(output_dir))
        shutil.copytree(self._source_dir, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*IGNORED))
        return True


def watcher_code(bundler: ILocalBundling | None = None) -> lambda_.Code:
    """The asset both functions run. Bundling is skipped when the app's context says so (as in tests)."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        # The hash of what was built, so that a change of requirements.txt also makes a new asset.
        asset_hash_type=AssetHashType.OUTPUT,
        exclude=list(IGNORED),
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds or raises. CDK requires an image all the same.
            image=DockerImage.from_registry("gtwatch-local-bundling-only"),
            local=bundler or PipLocalBundling(),
        ),
    )
