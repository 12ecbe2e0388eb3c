"""The CDK context that cdk.json declares: feature flags and the default gtwatch settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


class CdkJsonError(ValueError):
    """cdk.json cannot be used; the message names the file and, for a JSON mistake, its line and column."""


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The "context" of cdk.json, which the CDK CLI would otherwise pass to the app."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        # One line a person can act on: where the mistake is, then what json found there.
        raise CdkJsonError(f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    except OSError as error:
        raise CdkJsonError(f"{path}: cannot be read ({error.strerror or error})") from None
    context = document.get("context", {}) if isinstance(document, dict) else None
    if not isinstance(context, dict):
        raise CdkJsonError(f'{path}: "context" must be an object')
    return context
