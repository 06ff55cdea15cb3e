"""Where the command line gets a token PIN: ``--pin-file``, else the terminal (never an argument, DESIGN.md §5)."""

from __future__ import annotations

import sys

from signagent.errors import UsageError

from ._common import lazy_module

protocol = lazy_module("signagent.tokens.protocol")


class _NoTerminal:
    """The PIN provider when there is neither a --pin-file nor a terminal: asked for a PIN, it says how to give one.

    It answers only when a PIN is really needed, so operations without one (listing, an unencrypted key) work.
    """

    def get_pin(self, token_info: object, tries_left: int | None) -> bytes | None:
        label = getattr(token_info, "label", "")
        raise UsageError(f"the token «{label}» needs its PIN and there is no terminal to ask for it: "
                         "give --pin-file FILE",
                         message_ru=f"для токена «{label}» нужен PIN-код, а терминала для ввода нет: "
                                    "укажите --pin-file ФАЙЛ")


def pin_provider(pin_file: str | None) -> object:
    """The PinProvider for a command: the first line of ``pin_file``, or a no-echo prompt on the terminal."""
    if pin_file is not None:
        return protocol.StaticPinProvider.from_file(pin_file)
    if sys.stdin.isatty():
        return protocol.ConsolePinProvider()
    return _NoTerminal()
