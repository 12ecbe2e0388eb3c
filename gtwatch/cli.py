"""The `gtwatch` command: operate a deployed watcher (check, status, test-notify, redrive), or run it on the local
emulator (replay, demo, emulator). The harness commands import their modules only when run, so the operator
commands work with the runtime requirements alone."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import ops


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gtwatch", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    replay_cmd = commands.add_parser("replay", help="run a scenario file and print every notification as JSON")
    replay_cmd.add_argument("scenario", type=Path, help="scenario file (see docs/scenario-format.md)")
    demo_cmd = commands.add_parser("demo", help="replay a realistic day and print it for a person")
    for command in (replay_cmd, demo_cmd):
        command.add_argument(
            "--emulator",
            choices=["inprocess", "server"],
            default="inprocess",
            help="moto in this process (default) or as a threaded HTTP server on loopback",
        )
    emulator_cmd = commands.add_parser("emulator", help="serve the emulator (moto + labeling jobs) over HTTP")
    emulator_cmd.add_argument("--port", type=int, default=5000)
    ops.add_commands(commands)
    args = parser.parse_args(argv)
    if hasattr(args, "func"):  # Commands against a deployed stack.
        return int(args.func(args))

    from .sim.scenario import ScenarioError

    try:
        if args.command == "replay":
            return _replay(args.scenario, args.emulator)
        if args.command == "demo":
            return _demo(args.emulator)
        return _serve(args.port)
    except ScenarioError as error:
        print(f"gtwatch: invalid scenario: {error}", file=sys.stderr)
        return 2
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


def _demo(mode: str) -> int:
    from .sim import demo

    demo.show(mode=mode, out=sys.stdout)  # type: ignore[arg-type]
    return 0


def _serve(port: int) -> int:
    import time

    from .sim.emulator import email, labeling_jobs

    try:
        server = labeling_jobs.serve(port=port)
    except OSError as error:
        print(f"gtwatch emulator: {error.strerror}", file=sys.stderr)
        return 1
    email.install()
    print(f"gtwatch emulator on http://127.0.0.1:{port} (Ctrl-C to stop)", file=sys.stderr)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
