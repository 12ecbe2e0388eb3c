"""The configuration vocabulary is pure: the stack and the operator commands import it without the Lambda runtime."""

from __future__ import annotations

import subprocess
import sys

from watcher.domain.vocabulary import SlackChoice, SlackNames, slack_mode_problems

SCENARIO = SlackNames(
    mode="config.slack.mode",
    routes="config.slack.routes",
    slack_events="config.slack_events",
    digest_channels="config.digest.channels",
    digest_slack_channel="config.digest.slack_channel",
)


def test_the_names_and_the_vocabulary_import_no_third_party_module() -> None:
    code = (
        "import sys, watcher.domain.env, watcher.domain.vocabulary; "
        "print(sorted({'pydantic', 'boto3', 'botocore', 'aws_lambda_powertools'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_a_configuration_that_fits_its_mode_has_no_problem() -> None:
    assert slack_mode_problems(SlackChoice(mode="webhook", routes=False), SCENARIO) == []
    assert slack_mode_problems(SlackChoice(mode="app", routes=True, digest_channels=("email",)), SCENARIO) == []


def test_each_problem_names_the_setting_as_the_configuration_spells_it() -> None:
    choice = SlackChoice(mode="app", routes=False, slack_events=True, digest_channels=("slack",))
    problems = slack_mode_problems(choice, SCENARIO)
    assert [problem.split(":")[0] for problem in problems] == [
        "config.slack.routes",
        "config.slack_events",
        "config.digest.slack_channel",
    ]


def test_secret_rules_apply_only_where_the_configuration_has_secrets() -> None:
    # A scenario names no secret: neither mode asks for one.
    assert slack_mode_problems(SlackChoice(mode="app", routes=True, secrets_required=True), SCENARIO) == []
