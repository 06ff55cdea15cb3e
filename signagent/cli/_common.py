"""What every command module of the command line shares: the root group, exit codes, language, output helpers,
the ``--json`` flag (errors as JSON too) and the configuration.

Command modules import the service layer inside their command functions, never at module level: the command line
starts in the time the chosen command needs (``signagent hash`` does not load pyhanko and httpx), and the imports
stay visible to import-linter (the contract "the command line uses only the service layer and the error tree").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import click

from signagent import __version__
from signagent.errors import SignAgentError

from ._hints import hint

if TYPE_CHECKING:
    from signagent.service.config import Config

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2
F = TypeVar("F", bound=Callable[..., Any])


def russian() -> bool:
    """True when the locale asks for Russian messages."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value.lower().startswith("ru")
    return False


def reason_text(err: SignAgentError) -> str:
    """The error's message in the user's language, with the flags of the inputs it names (lower layers name none)."""
    ru = russian()
    return hint(err, err.message_ru if ru else err.message, russian=ru)


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
    """The one-line reason on stderr (only there: ``hash --json`` lists its per-file errors in its own output)."""
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


_JSON_ERRORS: ContextVar[bool] = ContextVar("signagent_json_errors", default=False)


def _note_json(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        _JSON_ERRORS.set(True)
    return value


def json_option(help_text: str) -> Callable[[F], F]:
    """The ``--json`` flag of a command. It is eager (processed before the other options), so an error raised
    afterwards -- a bad value of another option, a missing file, a failed check -- is printed as JSON on stdout
    too (:func:`error_document`), whatever the order of the options on the command line."""
    return click.option("--json", "as_json", is_flag=True, is_eager=True, callback=_note_json, help=help_text)


def json_errors() -> ContextVar[bool]:
    """Whether the running command asked for JSON (set by :func:`json_option`; :func:`signagent.cli.main` resets
    it for each call and prints errors as JSON when it is set)."""
    return _JSON_ERRORS


def error_document(code: str, message: str, message_ru: str, retriable: bool = False,
                   details: Mapping[str, object] | None = None) -> dict[str, object]:
    """``{"error": {"code", "message", "message_ru", "retriable", "details"?}}``: an error as ``--json`` prints it
    (the shape of :meth:`SignAgentError.to_dict`)."""
    error: dict[str, object] = {"code": code, "message": one_line(message), "message_ru": one_line(message_ru),
                                "retriable": retriable}
    if details:
        error["details"] = dict(details)
    return {"error": error}


def error_json(err: SignAgentError) -> dict[str, object]:
    """``{"error": err.to_dict()}`` with the messages as the command line words them (the flags of the inputs the
    error names, as on stderr)."""
    doc = err.to_dict()
    doc["message"] = one_line(hint(err, err.message, russian=False))
    doc["message_ru"] = one_line(hint(err, err.message_ru, russian=True))
    return {"error": doc}


def settings(**options: object) -> Config:
    """The configuration (:func:`signagent.service.config.load_config`) with the command's ``options`` (setting
    name -> value; None: not given) over the environment and the configuration file."""
    from signagent.service.config import load_config

    return load_config(options)


def emit_json(value: object) -> None:
    """Print a JSON document (UTF-8 text kept readable)."""
    import json  # only for --json output: the other commands start without it

    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="signagent")
def cli() -> None:
    """Russian qualified electronic signatures (GOST R 34.10/34.11-2012): hash, sign, verify, tokens."""


