"""Tests of the synthesized CloudFormation template and the CDK configuration."""

import os

# Set before any test module starts jsii: the machine's Node 20 is past its end of life for jsii.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
