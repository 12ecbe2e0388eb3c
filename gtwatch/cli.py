"""The `gtwatch` command: operate a deployed watcher (check, status, test-notify, redrive), or run it on the local
emulator (replay, demo, emulator). The harness commands import their modules only when run, so the operator
commands work with the runtime requirements alone."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__, ops

# What the simulation harness needs beyond the runtime requirements; pyproject.toml's "sim" extra.
SIM_EXTRA_INSTALL = "pip install 'gtwatch[sim]'"
DEFAULT_TICK_SECONDS = 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gtwatch", description=__doc__)
    parser.add_argument("--version", action="version", version=f"gtwatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    replay_cmd = commands.add_parser("replay", help="run a scenario file and print every notification as JSON")
    replay_cmd.add_argument("scenario", type=Path, help="scenario file (see docs/scenario-format.md)")
    demo_cmd = commands.add_parser("demo", help="replay a realistic day and print it for a person")
    demo_cmd.add_argument(
        "--slack",
        choices=["app", "webhook"],
        default="app",
        help="Slack as a Slack app with routes to channels (default) or as one incoming webhook",
    )
    demo_cmd.add_argument(
        "--day",
        choices=["team", "accounts"],
        default="team",
        help="a team's day and night in one account (default), or a day across three accounts and four regions",
    )
    for command in (replay_cmd, demo_cmd):
        command.add_argument(
            "--emulator",
            choices=["inprocess", "server"],
            default="inprocess",
            help="moto in this process (default) or as a threaded HTTP server on loopback",
        )
    emulator_cmd = commands.add_parser(
        "emulator",
        help="serve a gtwatch stack on the local emulator, for trying status, mute, test-notify and redrive",
        description="Serves the AWS emulator (moto with labeling jobs) on loopback with the gtwatch stack deployed "
        "in it as cdk.json configures it, and labeling jobs that make progress; the poller runs every --tick "
        "seconds and the Slack notifier after it. Prints the environment that points the operator commands at it.",
    )
    emulator_cmd.add_argument("--port", type=_port, default=5000, help="the loopback port (default 5000)")
    emulator_cmd.add_argument(
        "--tick",
        type=_positive_seconds,
        default=DEFAULT_TICK_SECONDS,
        help=f"seconds between poller runs; the jobs move on at each (default {DEFAULT_TICK_SECONDS:g})",
    )
    ops.add_commands(commands)
    args = parser.parse_args(argv)
    if hasattr(args, "func"):  # Commands against a deployed stack.
        return int(args.func(args))

    from .sim.scenario import ScenarioError

    try:
        if args.command == "replay":
            return _replay(args.scenario, args.emulator)
        if args.command == "demo":
            return _demo(args.emulator, args.slack, args.day)
        return _serve(args.port, args.tick)
    except ScenarioError as error:
        print(f"gtwatch: invalid scenario: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        missing = (error.name or "").partition(".")[0]
        if missing in ("gtwatch", "watcher"):
            raise  # A broken install of gtwatch itself, not a missing extra.
        print(
            f"gtwatch {args.command}: the simulation harness is not installed (no module named {missing!r}); "
            f"install it with: {SIM_EXTRA_INSTALL}",
            file=sys.stderr,
        )
        return 1
    except Exception as error:  # The contract: 1 for anything that is not the scenario's fault.
        logging.getLogger("gtwatch").debug("replay failed", exc_info=True)
        print(f"gtwatch: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


def _replay(path: Path, mode: str) -> int:
    from .sim import replay, scenario

    result = replay.run(scenario.load(path), mode=mode)  # type: ignore[arg-type]
    for line in result.lines():
        print(line)
    return 0


def _demo(mode: str, slack: str, day: str) -> int:
    from .sim import demo

    demo.show(mode=mode, slack=slack, day_name=day, out=sys.stdout)  # type: ignore[arg-type]
    return 0


def _serve(port: int, tick_seconds: float) -> int:
    import threading

    from .ops.common import OpsError
    from .sim import serve

    try:
        with serve.running(port=port, tick_seconds=tick_seconds, out=sys.stdout) as served:
            print(served.instructions(), file=sys.stdout, flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                print("gtwatch emulator: stopped", file=sys.stderr)
    except OSError as error:
        print(f"gtwatch emulator: {error.strerror or error}", file=sys.stderr)
        return 1
    except OpsError as error:  # A cdk.json the operator commands could not use either.
        print(f"gtwatch: {error}", file=sys.stderr)
        return 2
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1 to 65535)")
    return port


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return seconds


if __name__ == "__main__":
    sys.exit(main())
