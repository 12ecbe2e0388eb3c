"""The `gtwatch` command's edges: what a new user sees when a flag, a file or an install is not what it should be.

Each mistake gets one line on standard error that names the flag or the field, and the exit code the contract gives
(2: the user's input, 1: anything else); never a Python traceback, exception name or Python syntax.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gtwatch.cli import main

ROOT = Path(__file__).resolve().parents[2]
START = "2026-01-05T09:00:00Z"


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`gtwatch <argv>` in this process: its exit code (argparse's own exits included) and standard error."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def scenario_file(tmp_path: Path, raw: object) -> str:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(raw))
    return str(path)


def test_version_is_the_projects_version(capsys: pytest.CaptureFixture[str]) -> None:
    from gtwatch import __version__

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert capsys.readouterr().out.strip() == f"gtwatch {declared}"
    assert __version__ == declared


def test_mute_names_the_events_flag_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_main(["mute", "cats-v1", "--events", "bar"], capsys)
    assert code == 2
    assert "gtwatch mute: error: argument --events: 'bar': use some of completed, failed, stopped" in err
    assert "--events: --events:" not in err


@pytest.mark.parametrize(("port", "shown"), [("99999", "99999"), ("0", "0"), ("http", "'http'")])
def test_an_emulator_port_out_of_range_is_refused_naming_the_flag(
    capsys: pytest.CaptureFixture[str], port: str, shown: str
) -> None:
    code, err = run_main(["emulator", "--port", port], capsys)
    assert code == 2
    assert f"gtwatch emulator: error: argument --port: {shown} is not a port number (1 to 65535)\n" in err
    assert "OverflowError" not in err


def test_replay_of_a_directory_exits_2_saying_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_main(["replay", str(tmp_path)], capsys)
    assert code == 2
    expected = f"{tmp_path}: is a directory; give a scenario file (see docs/scenario-format.md)"
    assert err == f"gtwatch: invalid scenario: {expected}\n"


@pytest.mark.parametrize(
    ("step", "field", "shown"),
    [
        ({"at_minute": "5", "create": {"name": "cats-v1"}}, "steps[0].at_minute", "'5'"),
        ({"at_minute": 5.0, "create": {"name": "cats-v1"}}, "steps[0].at_minute", "5.0"),
        ({"at_minute": True, "create": {"name": "cats-v1"}}, "steps[0].at_minute", "true"),
        (
            {"at_minute": 0, "create": {"name": "cats-v1", "counters": {"Unlabeled": "10"}}},
            "steps[0].create.counters.Unlabeled",
            "'10'",
        ),
    ],
)
def test_a_number_written_as_text_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], step: dict[str, object], field: str, shown: str
) -> None:
    code, err = run_main(["replay", scenario_file(tmp_path, {"start": START, "steps": [step]})], capsys)
    assert code == 2
    assert err == f"gtwatch: invalid scenario: {field}: {shown} is not an integer (a JSON number such as 5)\n"


def test_a_fault_mode_lists_what_its_target_allows_without_python_syntax(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    step = {"at_minute": 1, "fault": {"target": "slack", "mode": "throttle"}}
    code, err = run_main(["replay", scenario_file(tmp_path, {"start": START, "steps": [step]})], capsys)
    assert code == 2
    assert "steps[0].fault: mode 'throttle' does not apply to target 'slack' " in err
    assert "(allowed: http_429, http_500, lost_response, timeout)" in err
    assert "[" not in err.removeprefix("gtwatch: invalid scenario: steps[0]")


@pytest.mark.parametrize("command", [["replay", "scenario.json"], ["demo"], ["emulator"]])
def test_the_harness_without_the_sim_extra_says_what_to_install(tmp_path: Path, command: list[str]) -> None:
    # As after `pip install gtwatch` without the extra: moto cannot be imported.
    (tmp_path / "scenario.json").write_text(json.dumps({"start": START}))
    program = "import sys; sys.modules['moto'] = None; from gtwatch.cli import main; sys.exit(main(sys.argv[1:]))"
    completed = subprocess.run(
        [sys.executable, "-c", program, *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'functions'}"},
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr == (
        f"gtwatch {command[0]}: the simulation harness is not installed (no module named 'moto'); install it "
        "with: pip install 'gtwatch[sim]'\n"
    )


def test_the_emulator_refuses_a_cdk_json_it_cannot_use_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"gtwatch": {"slack_events": ["completed", "done"]}}}))
    code, err = run_main(["emulator", "--port", "5000"], capsys)
    assert code == 2
    assert err.startswith(f"gtwatch: {tmp_path / 'cdk.json'}: context.gtwatch: slack_events[1]: 'done' is not valid")
    assert err.count("\n") == 1
