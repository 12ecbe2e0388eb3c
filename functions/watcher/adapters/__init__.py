"""Adapters behind the domain's ports: DynamoDB, SageMaker, SNS, SQS, Slack, secrets."""
