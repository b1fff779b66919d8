"""Test and benchmark harnesses that are not part of the shipped tool (tests/ and bench/ import them)."""
