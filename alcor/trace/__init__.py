"""Packet evaluation over host tables (the agents\x27 enforcement and the trace)."""
