"""What the handlers ask for, written against the ports: watch a job, poll a region, deliver to Slack."""
