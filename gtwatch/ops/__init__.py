"""Operator commands for a deployed gtwatch stack: they need only boto3 and the runtime requirements."""
