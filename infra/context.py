"""The CDK context that cdk.json declares: feature flags and the default gtwatch settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The "context" of cdk.json, which the CDK CLI would otherwise pass to the app."""
    context = json.loads(path.read_text(encoding="utf-8")).get("context", {})
    if not isinstance(context, dict):
        raise ValueError(f'{path}: "context" must be an object')
    return context
