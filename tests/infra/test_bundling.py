"""The code asset is built on this machine: pip for Lambda's platform (only what the Powertools layer lacks), then
the watcher code beside it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from infra.bundling import (
    PipLocalBundling,
    bundled_requirements,
    python_version,
    watcher_code,
)
from infra.requirements import REQUIREMENTS_FILE, pinned_version, powertools_version

REQUIREMENTS = """# What the Lambda functions need at run time.
aws-lambda-powertools==3.37.0
pydantic==2.14.4
slack-sdk==3.48.0  # posts to Slack
Some_Other.Package==1.0
"""


class FakePip:
    """Records the pip command and "installs" one package, so that no test reaches PyPI."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> None:
        self.commands.append(list(command))
        target = Path(command[command.index("--target") + 1])
        (target / "fakepkg").mkdir(parents=True, exist_ok=True)
        (target / "fakepkg" / "__init__.py").write_text("")


def make_source(root: Path) -> Path:
    source = root / "functions"
    (source / "watcher" / "__pycache__").mkdir(parents=True)
    (source / "watcher" / "__init__.py").write_text("")
    (source / "watcher" / "poller_handler.py").write_text("def lambda_handler(event, context): ...\n")
    (source / "watcher" / "__pycache__" / "poller_handler.cpython-314.pyc").write_bytes(b"\0")
    return source


def requirements(root: Path, text: str = REQUIREMENTS) -> Path:
    path = root / "requirements.txt"
    path.write_text(text)
    return path


def test_pip_installs_binary_arm64_wheels_for_the_lambda_runtime(tmp_path: Path) -> None:
    pip = FakePip()
    bundler = PipLocalBundling(source_dir=make_source(tmp_path), requirements=requirements(tmp_path), run=pip)

    assert bundler.try_bundle(str(tmp_path / "out")) is True

    command = pip.commands[0]
    assert command[1:6] == ["-m", "pip", "install", "slack-sdk==3.48.0", "Some_Other.Package==1.0"]
    assert command[command.index("--python-version") + 1] == "3.14"
    assert command[command.index("--implementation") + 1] == "cp"
    assert command.count("--platform") == 2
    assert "manylinux2014_aarch64" in command
    assert "manylinux_2_28_aarch64" in command
    assert "--only-binary=:all:" in command


def test_what_the_powertools_layer_provides_is_not_bundled(tmp_path: Path) -> None:
    # The layer is built from aws-lambda-powertools[all], pydantic included; a bundled copy would shadow it.
    assert bundled_requirements(requirements(tmp_path)) == ["slack-sdk==3.48.0", "Some_Other.Package==1.0"]
    assert bundled_requirements(REQUIREMENTS_FILE) == ["slack-sdk==3.48.0", "tzdata==2026.6"]


def test_nothing_to_install_means_no_pip_run(tmp_path: Path) -> None:
    pip = FakePip()
    bundler = PipLocalBundling(
        source_dir=make_source(tmp_path), requirements=requirements(tmp_path, "pydantic==2.14.4\n"), run=pip
    )
    bundler.try_bundle(str(tmp_path / "out"))
    assert pip.commands == []
    assert (tmp_path / "out" / "watcher" / "poller_handler.py").is_file()


def test_the_pinned_version_of_a_requirement_is_read(tmp_path: Path) -> None:
    assert pinned_version("aws_lambda_powertools", requirements(tmp_path)) == "3.37.0"
    assert pinned_version("boto3", requirements(tmp_path)) is None


def test_a_requirements_file_without_a_powertools_pin_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"requirements\.txt: no aws-lambda-powertools==<version> pin"):
        powertools_version(requirements(tmp_path, "slack-sdk==3.48.0\n"))


def test_the_bundle_holds_the_code_and_the_packages_without_bytecode(tmp_path: Path) -> None:
    bundler = PipLocalBundling(source_dir=make_source(tmp_path), requirements=requirements(tmp_path), run=FakePip())
    out = tmp_path / "out"

    bundler.try_bundle(str(out))

    assert (out / "watcher" / "poller_handler.py").is_file()
    assert (out / "fakepkg" / "__init__.py").is_file()
    assert not (out / "watcher" / "__pycache__").exists()


def test_pip_targets_the_python_of_the_lambda_runtime() -> None:
    assert python_version() == "3.14"
    assert python_version(lambda_.Runtime.PYTHON_3_12) == "3.12"


def test_cdk_runs_the_local_bundler_when_it_synthesizes(tmp_path: Path) -> None:
    # An app that does bundle (no aws:cdk:bundling-stacks override), with pip faked.
    pip = FakePip()
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "Bundled")
    lambda_.Function(
        stack,
        "Function",
        code=watcher_code(PipLocalBundling(run=pip)),
        handler="watcher.handlers.poller_handler.lambda_handler",
        runtime=lambda_.Runtime.PYTHON_3_14,
    )
    Template.from_stack(stack)

    assert len(pip.commands) == 1
    staged = [path for path in (tmp_path / "cdk.out").iterdir() if path.name.startswith("asset.")]
    assert len(staged) == 1
    assert (staged[0] / "fakepkg" / "__init__.py").is_file()
    assert (staged[0] / "watcher" / "__init__.py").is_file()
