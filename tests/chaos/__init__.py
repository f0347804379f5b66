"""Chaos suite: real `alcor serve` and `alcor agent` processes, faults, and an oracle."""
