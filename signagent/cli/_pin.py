"""Where the command line gets a token PIN: ``--pin-file``, else the terminal (never an argument, DESIGN.md §5)."""

from __future__ import annotations

import sys

from signagent.errors import SignAgentError, UsageError


def _no_terminal(label: str) -> SignAgentError:
    # the refusal names the option to use: the service layer knows no command-line flags
    return UsageError(f"the token «{label}» needs its PIN and there is no terminal to ask for it: give --pin-file FILE",
                      message_ru=f"для токена «{label}» нужен PIN-код, а терминала для ввода нет: "
                                 "укажите --pin-file ФАЙЛ")


def pin_provider(pin_file: str | None) -> object:
    """The PinProvider for a command: the first line of ``pin_file``, or a no-echo prompt on the terminal; without
    a terminal, a provider that asks for --pin-file when a PIN is really needed (listing works without one)."""
    from signagent.service.secrets import pin_provider as provider

    return provider(pin_file, terminal=sys.stdin.isatty(), refusal=_no_terminal)
