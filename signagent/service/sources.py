"""Where certificates live on this machine: PKCS#11 tokens, PKCS#15 cards in PC/SC readers, the key directory.

* :func:`discover_sources` / :func:`default_sources` -- the tokens of every PKCS#11 module
  (:func:`signagent.tokens.pkcs11.discover_modules`), then the PKCS#15 card of every PC/SC reader holding one that
  no PKCS#11 module already shows (read over APDUs by :class:`signagent.tokens.pkcs15.Pkcs15Token`), then the
  software key directory. A card and a PKCS#11 token are the same token when their serials match
  (:func:`same_serial`); the PKCS#11 view is kept unless it shows no certificate while the card shows some (a
  generic module such as OpenSC may see a GOST card but not its GOST certificates).
* :func:`list_tokens` -- what ``signagent tokens`` shows: modules with their tokens, readers with their cards.

A module that does not load and a card that is not PKCS#15 or is busy are errors beside the sources that were
found; no PC/SC service at all (pcscd not running, pyscard missing) is not an error: :class:`PcscStatus` says so.

Exports: discover_sources, default_sources, list_tokens, same_serial, scan_cards, load_pkcs11, Sources,
SourceError, PcscStatus, ReaderCard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from signagent.errors import SignAgentError
from signagent.tokens.protocol import Token

__all__ = [
    "PcscStatus",
    "ReaderCard",
    "SourceError",
    "Sources",
    "default_sources",
    "discover_sources",
    "list_tokens",
    "load_pkcs11",
    "same_serial",
    "scan_cards",
]


@dataclass(frozen=True)
class SourceError:
    """A source that could not be listed: its kind, label and serial (as far as known), where it is (``location``:
    module path, reader name or directory) and the typed error."""

    kind: str
    label: str
    serial: str
    error: SignAgentError
    location: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: the source and the error's ``to_dict()``."""
        return {"source": {"kind": self.kind, "label": self.label, "serial": self.serial, "location": self.location},
                "error": self.error.to_dict()}


@dataclass(frozen=True)
class PcscStatus:
    """Whether the PC/SC service answered; ``error`` says why not (or what failed while it did)."""

    available: bool
    error: SignAgentError | None = None

    def to_dict(self) -> dict[str, object]:
        """``{"available", "error"}`` with the error's ``to_dict()`` or None."""
        return {"available": self.available, "error": self.error.to_dict() if self.error else None}


_SERIAL_NOISE = re.compile(r"[\s:.\-]")
_HEX_TEXT = re.compile(r"(?:[0-9A-F]{2})+")


def _serial_forms(serial: str) -> set[str]:
    """The forms a token serial may be compared in: blanks and separators dropped, upper case, leading zeros
    dropped (modules pad serials to 16 characters); for hex that decodes to printable text, that text too (a
    PKCS#15 reader shows EF.TokenInfo's octets as hex, a module may show the same octets as characters)."""
    text = _SERIAL_NOISE.sub("", serial or "").upper()
    if not text:
        return set()
    forms = {text.lstrip("0") or "0"}
    if _HEX_TEXT.fullmatch(text):
        raw = bytes.fromhex(text)
        if len(raw) >= 4 and raw.isascii() and raw.decode().isprintable():  # short serials would match by chance
            decoded = _SERIAL_NOISE.sub("", raw.decode()).upper()
            if decoded:
                forms.add(decoded.lstrip("0") or "0")
    return forms


def same_serial(a: str, b: str) -> bool:
    """True when two token serials name the same token (see :func:`_serial_forms`); an empty serial matches none.

    The simulator's PKCS#11 token shows "1A2B...", its card's EF.TokenInfo reads as the same hex, and OpenSC shows
    that hex in lower case: all three are one token.
    """
    return bool(_serial_forms(a) & _serial_forms(b))


@dataclass(frozen=True)
class ReaderCard:
    """A card found in a reader: its PKCS#15 view (``token``, None when it could not be read, ``error`` then says
    why), the PKCS#11 tokens with its serial (``same_as``), whether the card itself is a source (``listed``) and
    whether its error belongs in the inventory (``reported``)."""

    reader: str
    token: Any | None
    error: SignAgentError | None = None
    same_as: tuple[Token, ...] = ()
    listed: bool = False
    reported: bool = True


def _shows_certificates(token: Any) -> bool:
    try:
        return bool(token.certificates())
    except SignAgentError:
        return False


def scan_cards(pkcs11_tokens: list[Token]) -> tuple[list[Any], list[ReaderCard], PcscStatus]:
    """Every PC/SC reader (its ``ReaderState``), the card of each one holding a card, and the service status."""
    from signagent.tokens.errors import TokenRemovedError
    from signagent.tokens.pcsc import PcscUnavailableError, reader_states
    from signagent.tokens.pkcs15 import Pkcs15Error, Pkcs15Token

    try:
        states = reader_states()
    except PcscUnavailableError as exc:  # no pcscd / no pyscard: a normal machine, not a failure
        return [], [], PcscStatus(False, exc)
    except SignAgentError as exc:
        return [], [], PcscStatus(True, exc)
    cards: list[ReaderCard] = []
    status = PcscStatus(True)
    for state in states:
        if not state.present:
            continue
        try:
            card = Pkcs15Token(state.name)
        except TokenRemovedError:
            continue  # pulled out since the listing: simply not there any more
        except PcscUnavailableError as exc:  # the service went away meanwhile
            status = PcscStatus(False, exc)
            break
        except SignAgentError as exc:  # not PKCS#15, unreadable, busy
            cards.append(ReaderCard(state.name, None, exc))
            continue
        same = tuple(t for t in pkcs11_tokens if same_serial(t.serial, card.serial))
        # The PKCS#11 view of the same token wins unless it shows no certificate while the card shows some.
        listed = not same or (not any(_shows_certificates(t) for t in same) and _shows_certificates(card))
        cards.append(ReaderCard(state.name, card, None, same, listed))
    # A card without a PKCS#15 application is most likely a token its vendor's module shows (a Rutoken ECP is not
    # PKCS#15): while a PKCS#11 token is present that no card matched, such a card is not reported as an error.
    matched = {id(t) for c in cards for t in c.same_as}
    unmatched = any(id(t) not in matched for t in pkcs11_tokens)
    cards = [ReaderCard(c.reader, None, c.error, reported=not (unmatched and isinstance(c.error, Pkcs15Error)))
             if c.error else c for c in cards]
    return states, cards, status


@dataclass
class Sources:
    """What :func:`discover_sources` found: ``tokens`` to list and sign with, the loaded ``modules`` (closed by
    :meth:`close`), ``errors`` (modules that failed to load or enumerate), ``card_errors`` (readers whose card could
    not be read), the PC/SC ``readers`` (``ReaderState``), the ``cards`` found in them and the ``pcsc`` status."""

    tokens: list[Token]
    modules: list[Any]
    errors: list[SignAgentError]
    card_errors: list[SourceError]
    readers: list[Any]
    pcsc: PcscStatus
    cards: list[ReaderCard] = field(default_factory=list)

    def close(self) -> None:
        """Close the loaded PKCS#11 modules."""
        for module in self.modules:
            module.close()


def load_pkcs11(extra_modules: Iterable[str]) -> tuple[list[Any], list[tuple[Any, list[Token]]],
                                                          list[SignAgentError]]:
    """Loaded modules, each with its present tokens, and the errors of those that failed."""
    from signagent.tokens.pkcs11 import discover_modules, load_modules

    modules, load_errors = load_modules(discover_modules(extra_modules))
    errors: list[SignAgentError] = list(load_errors)
    per_module: list[tuple[Any, list[Token]]] = []
    for module in modules:
        try:
            per_module.append((module, list(module.tokens())))
        except SignAgentError as exc:
            errors.append(exc)
            per_module.append((module, []))
    return modules, per_module, errors


def discover_sources(extra_modules: Iterable[str] = (), *, keys_dir: str | None = None) -> Sources:
    """The sources found on this machine (see the module docstring); the caller closes ``.modules`` (or calls
    :meth:`Sources.close`) when done."""
    from signagent.cms.keyfile import load_private_key
    from signagent.tokens.softkeys import SoftKeyDirectory

    modules, per_module, errors = load_pkcs11(extra_modules)
    try:
        pkcs11_tokens = [t for _, tokens in per_module for t in tokens]
        readers, cards, status = scan_cards(pkcs11_tokens)
        replaced = {id(t) for c in cards if c.listed for t in c.same_as}
        tokens: list[Token] = [t for t in pkcs11_tokens if id(t) not in replaced]
        tokens += [c.token for c in cards if c.listed]
        tokens.append(SoftKeyDirectory(load_private_key, keys_dir))
    except BaseException:
        for module in modules:
            module.close()
        raise
    card_errors = [SourceError("pcsc", c.reader, "", c.error, c.reader) for c in cards if c.error and c.reported]
    if status.available and status.error is not None:
        card_errors.append(SourceError("pcsc", "PC/SC", "", status.error))
    return Sources(tokens, modules, errors, card_errors, readers, status, cards)


def default_sources(extra_modules: Iterable[str] = (), *, keys_dir: str | None = None
                    ) -> tuple[list[Token], list[Any], list[SignAgentError]]:
    """The sources found on this machine: ``(tokens, modules, errors)``.

    Tokens of every PKCS#11 module from :func:`signagent.tokens.pkcs11.discover_modules` (plus ``extra_modules``),
    the PKCS#15 cards in PC/SC readers that no module shows (:class:`signagent.tokens.pkcs15.Pkcs15Token`), then
    the software key directory (``keys_dir`` or the default) with :func:`signagent.cms.keyfile.load_private_key`
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
    modules, per_module, load_errors = load_pkcs11(extra_modules)
    errors: list[dict[str, object]] = [e.to_dict() for e in load_errors]
    try:
        module_rows = [{"path": m.path, "description": m.description, "tokens": [t.info().to_dict() for t in tokens]}
                       for m, tokens in per_module]
        modules_of = {id(t): m.path for m, tokens in per_module for t in tokens}
        states, cards, status = scan_cards([t for _, tokens in per_module for t in tokens])
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
