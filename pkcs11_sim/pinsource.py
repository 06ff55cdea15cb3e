"""Where the ``pkcs11-sim`` commands get PINs and passwords: a file, the environment, an argument or a prompt.

A PIN given as an argument (``--pin 1234``) is readable by every local user in ``/proc/PID/cmdline`` and lands in
shell histories, so each secret has, in this order of precedence:

1. ``--X-file FILE``: the first line of FILE (:func:`signagent.fileio.read_secret`: a regular file, at most 4 KiB,
   strict UTF-8 -- the reader every signagent command uses);
2. an environment variable (``PKCS11_SIM_PIN``, ``PKCS11_SIM_SO_PIN``, ``PKCS11_SIM_NEW_PIN``,
   ``PKCS11_SIM_KEY_PASSWORD``), visible only to the user's own processes;
3. ``--X VALUE``, kept as a test convenience and documented as visible to other local users;
4. a prompt without echo when standard input is a terminal (a new PIN is asked twice).

Without any of them and without a terminal the command fails with one line naming the ways to give it. Giving
both ``--X`` and ``--X-file`` is a usage error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from signagent.fileio import read_secret

__all__ = ["KEY_PASSWORD", "NEW_PIN", "SO_PIN", "USER_PIN", "MissingSecretError", "Secret", "obtain", "options"]

F = TypeVar("F", bound=Callable[..., Any])


class MissingSecretError(Exception):
    """No PIN or password was given and there is no terminal to ask on."""


@dataclass(frozen=True)
class Secret:
    """One secret a command takes: its name for people, its options and its environment variable."""

    what: str  # "user PIN"
    option: str  # "--pin"
    env: str  # "PKCS11_SIM_PIN"

    @property
    def file_option(self) -> str:
        return f"{self.option}-file"

    @property
    def dest(self) -> str:
        return self.option.lstrip("-").replace("-", "_")

    @property
    def file_dest(self) -> str:
        return f"{self.dest}_file"


USER_PIN = Secret("user PIN", "--pin", "PKCS11_SIM_PIN")
SO_PIN = Secret("SO PIN", "--so-pin", "PKCS11_SIM_SO_PIN")
NEW_PIN = Secret("new PIN", "--new-pin", "PKCS11_SIM_NEW_PIN")
KEY_PASSWORD = Secret("key password", "--key-password", "PKCS11_SIM_KEY_PASSWORD")


def options(secret: Secret, *, option: str | None = None, dest: str | None = None) -> Callable[[F], F]:
    """Click options ``--X`` and ``--X-file`` for ``secret`` (``option``/``dest`` rename them, e.g. ``--old``)."""
    name = option or secret.option
    dest = dest or secret.dest

    def decorate(func: F) -> F:
        func = click.option(f"{name}-file", f"{dest}_file", type=click.Path(dir_okay=False), default=None,
                            help=f"Read the {secret.what} from the first line of this file (preferred).")(func)
        return click.option(name, dest, default=None, metavar="VALUE",
                            help=f"The {secret.what}. Test convenience: visible to other local users; prefer "
                                 f"{name}-file or ${secret.env}.")(func)

    return decorate


def obtain(secret: Secret, value: str | None, file: str | None, *, option: str | None = None,
           env: str | None = None, confirm: bool = False, required: bool = True) -> bytes | None:
    """The secret as UTF-8 bytes: from ``file``, else the environment, else ``value``, else a no-echo prompt.

    ``option`` names the command's option when it differs from the secret's (``--old`` for a PIN). ``confirm``
    asks twice on a prompt (a new PIN). Not ``required``: None when nothing was given (no prompt). Raises
    click.UsageError for both an argument and a file, MissingSecretError when a required secret cannot be had.
    """
    name = option or secret.option
    variable = env or secret.env
    if value is not None and file is not None:
        raise click.UsageError(f"give the {secret.what} with {name} or {name}-file, not both")
    if file is not None:
        return read_secret(file, secret.what).encode("utf-8")
    from_env = os.environ.get(variable)
    if from_env:
        return from_env.encode("utf-8")
    if value is not None:
        return value.encode("utf-8")
    if not required:
        return None
    if sys.stdin is not None and sys.stdin.isatty():
        return prompt(secret, confirm=confirm)
    raise MissingSecretError(f"the {secret.what} is needed: give {name}-file FILE or set ${variable} "
                             f"(or run on a terminal to be asked)")


def prompt(secret: Secret, *, confirm: bool = False) -> bytes:
    """Ask for ``secret`` on the terminal without echo (twice when ``confirm``)."""
    text = click.prompt(secret.what[0].upper() + secret.what[1:], hide_input=True,
                        confirmation_prompt=confirm, err=True)
    return str(text).encode("utf-8")
