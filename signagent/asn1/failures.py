"""What asn1crypto raises when it meets malformed input.

asn1crypto reports damage with the built-in exceptions below (a bad tag as ValueError, a missing field as
KeyError, a wrong type under an OID as TypeError or AttributeError, deep nesting as RecursionError...), never with
an exception of its own. Every place that parses untrusted bytes with it catches exactly this tuple and turns it
into the project's error tree, so that no traceback reaches a user (issue 10).

Exports: PARSE_ERRORS.
"""

from __future__ import annotations

__all__ = ["PARSE_ERRORS"]

PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError, RecursionError,
)
