"""What every command module of the command line shares: the root group, exit codes, language, output helpers."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from types import ModuleType

import click

from signagent import __version__
from signagent.errors import SignAgentError

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2


def russian() -> bool:
    """True when the locale asks for Russian messages."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value.lower().startswith("ru")
    return False


def reason_text(err: SignAgentError) -> str:
    """The error's message in the user's language."""
    return err.message_ru if russian() else err.message


def tr(en: str, ru: str) -> str:
    """``ru`` under a Russian locale, else ``en``."""
    return ru if russian() else en


def error_text(error: Mapping[str, object]) -> str:
    """The message of an error's ``to_dict()`` in the user's language."""
    return str(error["message_ru"] if russian() else error["message"])


def one_line(text: str) -> str:
    """``text`` on one line: stderr carries one line per error (DESIGN.md section 3), and some messages arrive
    with several (asn1crypto appends "while parsing ..." lines to its errors)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def report_error(err: SignAgentError) -> None:
    """The one-line reason on stderr."""
    click.echo(f"signagent: {one_line(reason_text(err))}", err=True)


class _Text(click.ParamType):
    """A text option value (a name, a label): refuses bytes that were not valid in the locale's encoding.

    Python keeps such argv bytes as lone surrogates (PEP 383), which no encoder accepts later (a certificate
    request's UTF8String, a PKCS#11 label): refuse them here, with the option's name, instead.
    """

    name = "text"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(tr("not valid text in the locale's encoding (UTF-8 expected)",
                         "недопустимый текст: ожидается UTF-8"), param, ctx)
        if "\0" in text:
            self.fail(tr("contains a NUL character", "содержит нулевой символ"), param, ctx)
        return text


#: The click type of free-text options (subject fields, labels, token names).
TEXT = _Text()


def lazy_module(name: str) -> ModuleType:
    """``name`` imported on first attribute access: `signagent hash` should not pay for pyhanko and httpx.

    Every command module names its service modules through this, so the command line starts in the time the
    chosen command needs, not the time all of them need together.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def emit_json(value: object) -> None:
    """Print a JSON document (UTF-8 text kept readable)."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="signagent")
def cli() -> None:
    """Russian qualified electronic signatures (GOST R 34.10/34.11-2012): hash, sign, verify, tokens."""


