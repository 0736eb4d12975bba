"""Replays of the security review's findings (issue #17) as attacks that must now fail."""
