"""PINs and passwords as the use cases take them: from a file, typed on a terminal, or not at all.

* :func:`pin_provider` -- the token PinProvider of a command: the first line of a PIN file, a no-echo prompt on
  the terminal, or (no terminal) a provider that refuses with the caller's hint when a PIN is really needed
  (operations without one -- listing, an unencrypted key -- still work);
* :func:`typed_secret` -- a password typed on a terminal, held to the rules a password file obeys
  (:func:`signagent.fileio.read_secret`: UTF-8, no NUL, at most :data:`~signagent.fileio.MAX_SECRET` bytes).

Exports: pin_provider, typed_secret.
"""

from __future__ import annotations

from collections.abc import Callable

from signagent.errors import SignAgentError, UsageError
from signagent.fileio import MAX_SECRET
from signagent.tokens.protocol import ConsolePinProvider, PinProvider, StaticPinProvider

__all__ = ["pin_provider", "typed_secret"]


class _NoTerminal:
    """Asked for a PIN, raises the error ``refusal`` makes for the token's label."""

    def __init__(self, refusal: Callable[[str], SignAgentError]) -> None:
        self._refusal = refusal

    def get_pin(self, token_info: object, tries_left: int | None) -> bytes | None:
        raise self._refusal(str(getattr(token_info, "label", "")))


def pin_provider(pin_file: str | None, *, terminal: bool,
                 refusal: Callable[[str], SignAgentError]) -> PinProvider:
    """The PinProvider for one operation: the first line of ``pin_file``; else a no-echo prompt when there is a
    ``terminal``; else one that raises ``refusal(token_label)`` when a PIN is needed."""
    if pin_file is not None:
        return StaticPinProvider.from_file(pin_file)
    if terminal:
        return ConsolePinProvider()
    return _NoTerminal(refusal)  # type: ignore[return-value]


def typed_secret(text: str, what: str = "password", what_ru: str = "пароль") -> bytes:
    """``text`` typed on a terminal as bytes; UsageError when it is empty, not valid text in the terminal's
    encoding, longer than :data:`~signagent.fileio.MAX_SECRET` bytes or holds a NUL (what a file could not hold
    either)."""
    if not text:
        raise UsageError(situation="empty_secret", what=what, what_ru=what_ru)
    try:
        typed = text.encode("utf-8")
    except UnicodeEncodeError:  # bytes the terminal's encoding could not decode (PEP 383 surrogates)
        raise UsageError(situation="secret_not_text", what=what, what_ru=what_ru) from None
    if len(typed) > MAX_SECRET or "\0" in text:
        raise UsageError(situation="secret_too_long", what=what, what_ru=what_ru, limit=MAX_SECRET)
    return typed
