"""The runtime requirements the functions are built and tested with: requirements.txt, read without the CDK."""

from __future__ import annotations

import re
from pathlib import Path

REQUIREMENTS_FILE = Path(__file__).resolve().parent.parent / "requirements.txt"
POWERTOOLS_PACKAGE = "aws-lambda-powertools"


def normalized(name: str) -> str:
    """A package name as pip compares it (PEP 503): lower case, runs of -_. as one hyphen."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_version(package: str, requirements: Path = REQUIREMENTS_FILE) -> str | None:
    """The version requirements.txt pins `package` to (name==version), or None."""
    for line in requirements.read_text(encoding="utf-8").splitlines():
        name, _, version = line.split("#", 1)[0].strip().partition("==")
        if normalized(name) == normalized(package) and version:
            return version.strip()
    return None


def powertools_version(requirements: Path = REQUIREMENTS_FILE) -> str:
    """The Powertools release requirements.txt pins: the one source of the layer version the stack deploys."""
    version = pinned_version(POWERTOOLS_PACKAGE, requirements)
    if version is None:
        raise ValueError(f"{requirements}: no {POWERTOOLS_PACKAGE}==<version> pin; the Powertools layer needs one")
    return version
