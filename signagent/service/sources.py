"""Use cases over this machine's certificate sources: what ``signagent tokens`` shows, and the sources to sign with.

Discovery itself (PKCS#11 modules, PKCS#15 cards in PC/SC readers, the key directory, and how a card and a module
token are recognised as one) is :mod:`signagent.tokens.discovery`; this layer wires the key directory's PKCS#8
reader (:func:`signagent.pkcs8.keyfile.load_private_key`) into it and shapes the results for the commands.

* :func:`discover_sources` / :func:`default_sources` -- the sources found on this machine;
* :func:`list_tokens` -- what ``signagent tokens`` shows: modules with their tokens, readers with their cards.

Exports: discover_sources, default_sources, list_tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from signagent.errors import SignAgentError
from signagent.tokens import discovery
from signagent.tokens.discovery import ReaderCard, Sources
from signagent.tokens.protocol import Token

__all__ = ["default_sources", "discover_sources", "list_tokens"]


def discover_sources(extra_modules: Iterable[str] = (), *, keys_dir: str | None = None) -> Sources:
    """The sources found on this machine (:func:`signagent.tokens.discovery.discover_sources`, the key directory
    read with :func:`signagent.pkcs8.keyfile.load_private_key`); the caller closes them (:meth:`Sources.close`)."""
    from signagent.pkcs8.keyfile import load_private_key

    return discovery.discover_sources(load_private_key, extra_modules, keys_dir=keys_dir)


def default_sources(extra_modules: Iterable[str] = (), *, keys_dir: str | None = None
                    ) -> tuple[list[Token], list[Any], list[SignAgentError]]:
    """The sources found on this machine: ``(tokens, modules, errors)``.

    Tokens of every PKCS#11 module from :func:`signagent.tokens.pkcs11.discover_modules` (plus ``extra_modules``),
    the PKCS#15 cards in PC/SC readers that no module shows (:class:`signagent.tokens.pkcs15.Pkcs15Token`), then
    the software key directory (``keys_dir`` or the default) with :func:`signagent.pkcs8.keyfile.load_private_key`
    as its loader. ``modules`` are the loaded modules (the caller closes them when done); ``errors`` the modules
    that failed to load or to enumerate their slots and the cards that could not be read. No PC/SC service is not
    an error (:func:`discover_sources` tells it).
    """
    found = discover_sources(extra_modules, keys_dir=keys_dir)
    return found.tokens, found.modules, found.errors + [e.error for e in found.card_errors]


def _card_row(card: ReaderCard | None, modules_of: dict[int, str]) -> dict[str, object] | None:
    """What ``signagent tokens`` shows about the card in a reader: its PKCS#15 label and serial (or the error) and
    the PKCS#11 tokens that are the same token."""
    if card is None:
        return None
    if card.token is None:
        assert card.error is not None
        return {"label": None, "serial": None, "manufacturer": None, "error": card.error.to_dict(), "same_as": [],
                "listed": False}
    info = card.token.info()
    return {"label": info.label, "serial": info.serial, "manufacturer": info.manufacturer, "error": None,
            "listed": card.listed,
            "same_as": [{"module": modules_of.get(id(t), ""), "label": t.label, "serial": t.serial}
                        for t in card.same_as]}


def list_tokens(extra_modules: Iterable[str] = ()) -> dict[str, object]:
    """What ``signagent tokens`` shows: PKCS#11 modules with their tokens, PC/SC readers, and errors.

    ``{"modules": [{"path", "description", "tokens": [TokenInfo dicts]}], "readers": [{"name", "present",
    "atr", "model", "in_use", "card"}], "pcsc": {"available", "error"}, "errors": [error dicts]}``; ``card`` is None
    for an empty reader, else ``{"label", "serial", "manufacturer", "error", "listed", "same_as": [{"module",
    "label", "serial"}]}`` -- the card's PKCS#15 EF.TokenInfo (or why it could not be read), whether the inventory
    reads the card itself (``listed``) and the PKCS#11 tokens that are the same token.
    """
    modules, per_module, load_errors = discovery.load_pkcs11(extra_modules)
    errors: list[dict[str, object]] = [e.to_dict() for e in load_errors]
    try:
        module_rows = [{"path": m.path, "description": m.description, "tokens": [t.info().to_dict() for t in tokens]}
                       for m, tokens in per_module]
        modules_of = {id(t): m.path for m, tokens in per_module for t in tokens}
        states, cards, status = discovery.scan_cards([t for _, tokens in per_module for t in tokens])
    finally:
        for module in modules:
            module.close()
    by_reader = {c.reader: c for c in cards}
    readers = [{"name": s.name, "present": s.present, "atr": s.atr.hex().upper() if s.atr else None,
                "model": s.model_name, "in_use": s.in_use, "card": _card_row(by_reader.get(s.name), modules_of)}
               for s in states]
    if status.available and status.error is not None:
        errors.append(status.error.to_dict())
    return {"modules": module_rows, "readers": readers, "pcsc": status.to_dict(), "errors": errors}
