"""The pure domain: jobs, the diff, outbox rules, quiet hours, mutes as values, rendering. No I/O."""
