"""Tests of signagent.tokens."""
