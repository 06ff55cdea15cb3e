"""Localhost HTTP API (FastAPI): routes, origin pairing and consent, errors to HTTP."""
