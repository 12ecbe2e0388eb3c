"""Lambda entry points: parse the event, read settings, call one use case, map its outcome."""
