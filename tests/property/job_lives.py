"""Hypothesis strategies for one job's life, of any kind: created, moving now and then by its kind's progress signal
(labeling counters, a training job's secondary status and log lines, processing and transform log lines, tuning
counters; a pipeline's steps, which are not progress), maybe stopped or ended, maybe announced by SageMaker's event."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

KINDS = ("labeling", "training", "processing", "transform", "tuning", "pipeline")
TERMINAL_EVENT = {"Completed": "completed", "Succeeded": "completed", "Failed": "failed", "Stopped": "stopped"}
SECONDARY_STATUSES = ["Downloading", "Training", "Training", "Uploading"]
FAILURE = "ClientError: <!channel> & friends"

# Minutes between a job's changes: mostly short, sometimes long enough for a stall (15 or 30 minutes) to be noticed
# before the job moves again, so that a job's notifications come several to a thread.
GAP = st.one_of(st.integers(1, 15), st.sampled_from([25, 40]))
# How long a job is being stopped: mostly briefly, sometimes long enough to stall while Stopping.
STOPPING = st.sampled_from([0, 2, 5, 8, 12, 35])


def counters(labeled: int, total: int = 40) -> dict[str, int]:
    return {"TotalLabeled": labeled, "HumanLabeled": labeled, "Unlabeled": total - labeled}


def tuning_counters(completed: int) -> dict[str, int]:
    return {"Completed": completed, "InProgress": 2}


def pipeline_steps(last: str, reason: str | None = None) -> list[dict[str, Any]]:
    train: dict[str, Any] = {"name": "Train", "status": last}
    if reason is not None:
        train["failure_reason"] = reason
    return [{"name": "Prepare", "status": "Succeeded"}, train]


HOME = "123456789012"
HOME_REGION = "us-east-1"


def where(kind: str, name: str, account: str = HOME, region: str = HOME_REGION) -> dict[str, Any]:
    """How a step names the job: a labeling job by its name alone, as a Version 1 scenario does; `account` and
    `region` only where they are not the defaults (the home account, us-east-1)."""
    place = {"name": name} if kind == "labeling" else {"name": name, "kind": kind}
    if account != HOME:
        place["account"] = account
    if region != HOME_REGION:
        place["region"] = region
    return place


JobKey = tuple[str, str, str, str]  # (account, region, kind, name): two accounts, or two kinds, may share a name


def job_key(body: dict[str, Any]) -> JobKey:
    """The job a step's body names, with the contract's defaults (labeling, the home account, us-east-1)."""
    return body.get("account", HOME), body.get("region", HOME_REGION), body.get("kind", "labeling"), body["name"]


class _Life:
    """The job's steps so far and what its kind's progress signal last said."""

    def __init__(self, kind: str, name: str, account: str, region: str) -> None:
        self.kind = kind
        self.name = name
        self.account = account
        self.region = region
        self.steps: list[dict[str, Any]] = []
        self.done = 0

    def step(self, minute: int, action: str, **fields: Any) -> None:
        self.steps.append({"at_minute": minute, action: {**self.where(), **fields}})

    def where(self) -> dict[str, Any]:
        return where(self.kind, self.name, self.account, self.region)

    def create(self, minute: int) -> None:
        start: dict[str, dict[str, Any]] = {
            "labeling": {"status": "InProgress", "counters": counters(0)},
            "training": {"status": "InProgress", "secondary_status": "Starting"},
            "processing": {"status": "InProgress"},
            "transform": {"status": "InProgress"},
            "tuning": {"status": "InProgress", "counters": tuning_counters(0), "max_jobs": 12},
            "pipeline": {"status": "Executing", "pipeline": "nightly", "steps": pipeline_steps("Executing")[:1]},
        }
        self.step(minute, "create", **start[self.kind])

    def move(self, draw: st.DrawFn, minute: int) -> None:
        """One change of the kind's progress signal at `minute` (or, for some, what only looks like one)."""
        if self.kind == "labeling":
            self.done = min(39, self.done + draw(st.integers(1, 15)))
            self.step(minute, "update", counters=counters(self.done))
        elif self.kind == "training":
            how = draw(st.sampled_from(["log", "log", "secondary", "both", "there_and_back"]))
            if how in ("secondary", "both", "there_and_back"):  # May name the status it already has: no change.
                self.step(minute, "update", secondary_status=draw(st.sampled_from(SECONDARY_STATUSES)))
            if how == "there_and_back":  # Changed and changed back before a tick may read it: no change.
                self.step(minute, "update", secondary_status="Interrupted")
                self.step(minute + draw(st.integers(0, 4)), "update", secondary_status="Training")
            if how in ("log", "both"):
                self.logs(draw, minute)
        elif self.kind in ("processing", "transform"):
            self.logs(draw, minute)
        elif self.kind == "tuning":
            if draw(st.integers(0, 3)) == 0:  # Neither best nor max_jobs is progress.
                self.step(minute, "update", best={"job": f"{self.name}-007", "metric": "validation:auc", "value": 0.9})
            else:
                self.done += draw(st.integers(1, 3))
                self.step(minute, "update", counters=tuning_counters(self.done))
        else:  # A pipeline's steps move; the execution never stalls.
            self.step(minute, "update", steps=pipeline_steps("Executing"))

    def logs(self, draw: st.DrawFn, minute: int) -> None:
        """One line, or a few within minutes (lines between two ticks count as one change)."""
        for extra in draw(st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True)):
            self.step(minute + extra, "log")

    def end(self, draw: st.DrawFn, minute: int, end: str) -> int:
        """The job ends with status `end` (maybe after a while Stopping); returns the minute it does."""
        if end == "Stopped" and draw(st.booleans()):
            self.step(minute, "update", status="Stopping")
            stopping = draw(STOPPING)
            if self.kind in ("training", "processing", "transform") and stopping > 1 and draw(st.booleans()):
                self.step(minute + draw(st.integers(1, stopping - 1)), "log")  # Not progress while Stopping.
            minute += stopping
        change: dict[str, Any] = {"status": end}
        if end == "Failed":
            change["failure_reason"] = FAILURE
            if self.kind == "pipeline":
                change["steps"] = pipeline_steps("Failed", "AlgorithmError: loss is NaN")
        if end == "Completed" and self.kind == "labeling":
            change["counters"] = counters(40)
        if end == "Completed" and self.kind == "training":
            change["secondary_status"] = "Completed"
        if end == "Succeeded":
            change["steps"] = pipeline_steps("Succeeded")
        self.step(minute, "update", **change)
        return minute


@st.composite
def job_steps(
    draw: st.DrawFn, kind: str, name: str, account: str = HOME, region: str = HOME_REGION
) -> tuple[list[dict[str, Any]], str | None]:
    """One job's life in its account and region: created, maybe moving a little at a time, maybe ending (its event
    raised there). Returns its steps and its end."""
    life = _Life(kind, name, account, region)
    minute = draw(st.sampled_from([0, 0, 3, 11, 22]))
    life.create(minute)
    for _ in range(draw(st.integers(0, 3))):
        minute += draw(GAP)
        life.move(draw, minute)
    done = "Succeeded" if kind == "pipeline" else "Completed"
    end = draw(st.sampled_from([None, done, "Failed", "Stopped", "Stopped"]))
    if end is not None:
        minute = life.end(draw, minute + draw(GAP), end)
        if draw(st.booleans()):  # SageMaker's event for the change, possibly more than once, possibly late.
            lag = draw(st.integers(0, 3))
            event = {**life.where(), "duplicate": draw(st.integers(1, 3))}
            life.steps.append({"at_minute": minute + lag, "state_change_event": event})
    return life.steps, end


@st.composite
def stall_thresholds(draw: st.DrawFn, kinds: list[str]) -> int | dict[str, int]:
    """A number for every kind, or sometimes an object by kind that may leave some out (they never stall)."""
    if draw(st.integers(0, 2)) > 0:
        minutes: int = draw(st.sampled_from([15, 30, 10_000]))
        return minutes
    stalling = [kind for kind in kinds if kind != "pipeline"]
    return {kind: draw(st.sampled_from([15, 30])) for kind in stalling if draw(st.booleans())}
