"""The code asset is built on this machine: pip for Lambda's platform, then the watcher code beside it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from infra.bundling import PipLocalBundling, python_version, watcher_code


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
    (source / "watcher" / "__pycache__" / "poller_handler.cpython-313.pyc").write_bytes(b"\0")
    return source


def test_pip_installs_binary_wheels_for_the_lambda_runtime(tmp_path: Path) -> None:
    pip = FakePip()
    bundler = PipLocalBundling(source_dir=make_source(tmp_path), requirements=tmp_path / "req.txt", run=pip)

    assert bundler.try_bundle(str(tmp_path / "out")) is True

    command = pip.commands[0]
    assert command[1:4] == ["-m", "pip", "install"]
    assert command[command.index("--requirement") + 1] == str(tmp_path / "req.txt")
    assert command[command.index("--python-version") + 1] == "3.13"
    assert command[command.index("--implementation") + 1] == "cp"
    assert "manylinux2014_x86_64" in command
    assert "--only-binary=:all:" in command


def test_the_bundle_holds_the_code_and_the_packages_without_bytecode(tmp_path: Path) -> None:
    bundler = PipLocalBundling(source_dir=make_source(tmp_path), requirements=tmp_path / "req.txt", run=FakePip())
    out = tmp_path / "out"

    bundler.try_bundle(str(out))

    assert (out / "watcher" / "poller_handler.py").is_file()
    assert (out / "fakepkg" / "__init__.py").is_file()
    assert not (out / "watcher" / "__pycache__").exists()


def test_pip_targets_the_python_of_the_lambda_runtime() -> None:
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
        handler="watcher.poller_handler.lambda_handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
    )
    Template.from_stack(stack)

    assert len(pip.commands) == 1
    staged = [path for path in (tmp_path / "cdk.out").iterdir() if path.name.startswith("asset.")]
    assert len(staged) == 1
    assert (staged[0] / "fakepkg" / "__init__.py").is_file()
    assert (staged[0] / "watcher" / "__init__.py").is_file()
