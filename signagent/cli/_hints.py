"""Command-line flags for the inputs an error names: lower layers say *what* is missing, the command line says *how*.

The service, CMS and token layers are also called by the HTTP API, where ``--content`` means nothing; their errors
carry neutral details instead: ``needs`` (an input that is missing: "content", or "key_id|new_key" for "one of
these") and ``parameter`` (an input whose value is wrong: "at"). :func:`hint` adds this command line's
flag for them to the error's message (``reason_text`` in ``_common`` shows every error through it).
"""

from __future__ import annotations

from signagent.errors import SignAgentError

# input name -> (English, Russian) flag spelling as the user types it
_FLAGS: dict[str, tuple[str, str]] = {
    "content": ("--content FILE", "--content ФАЙЛ"),
    "trust": ("--trust PATH", "--trust ПУТЬ"),
    "at": ("--at", "--at"),
    "token": ("--token LABEL", "--token МЕТКА"),
    "cert": ("--cert ID", "--cert ИД"),
    "key_id": ("--key-id", "--key-id"),
    "new_key": ("--new-key", "--new-key"),
    "force": ("--force replaces it", "--force заменит его"),
}


def _flag(name: str, russian: bool) -> str:
    en_ru = _FLAGS.get(name)
    if en_ru is None:  # an input this table does not know yet: its name still helps
        return "--" + name.replace("_", "-")
    return en_ru[1] if russian else en_ru[0]


def hint(err: SignAgentError, message: str, *, russian: bool) -> str:
    """``message`` (one of ``err``'s two) with the flags of the inputs the error names."""
    parameter = err.details.get("parameter")
    if isinstance(parameter, str) and parameter:
        message = f"{_flag(parameter, russian).split(' ')[0]}: {message}"
    needs = err.details.get("needs")
    if isinstance(needs, str) and needs:
        message = f"{message} ({' | '.join(_flag(n, russian) for n in needs.split('|'))})"
    return message
