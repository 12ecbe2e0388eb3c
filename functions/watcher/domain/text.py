"""Text from SageMaker made safe at the boundary, for DynamoDB, SNS, email and Slack alike.

A failure reason is free text from the service (and, through it, from whoever wrote the job's input). Before it is
stored or shown anywhere: lone surrogates (which UTF-8 cannot encode, so DynamoDB and SNS refuse the request) become
U+FFFD; line breaks and tabs become spaces; other control characters go; bidirectional overrides and isolates,
which can make a line read in another order than it is stored, go too.
"""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_WHITESPACE_CONTROLS = re.compile(r"[\t\n\r\v\f\x85\u2028\u2029]+")
# C0 and C1 controls, DEL, and the bidirectional formatting characters (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI,
# LRM, RLM, ALM).
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def clean(text: str) -> str:
    """`text` with nothing that can break a store, a protocol or the reading order of a line."""
    text = _LONE_SURROGATE.sub("\ufffd", text)
    text = _WHITESPACE_CONTROLS.sub(" ", text)
    return _INVISIBLE.sub("", text)


def one_line(text: str) -> str:
    """`text` cleaned and on one line with single spaces: how every channel shows a value from a job."""
    return " ".join(clean(text).split())


def value_text(value: object) -> str:
    """A value someone configured, as a one-line error message quotes it: text quoted, a list as its items
    separated by commas ("the list a, b", never Python's ['a', 'b']), null and the booleans in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        items = (item if isinstance(item, str) else value_text(item) for item in value)
        return f"the list {', '.join(items)}" if value else "[]"
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    return repr(value)
