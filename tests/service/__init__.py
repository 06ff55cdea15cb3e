"""Tests of the service layer (use cases shared by the CLI and the API)."""
