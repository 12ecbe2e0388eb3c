"""The development harness: the local emulator, scenario replay, fault injection, benchmark and demo."""
