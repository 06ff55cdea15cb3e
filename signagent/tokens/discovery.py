"""Where certificates live on this machine: PKCS#11 tokens, PKCS#15 cards in PC/SC readers, the key directory.

* :func:`discover_sources` -- the tokens of every PKCS#11 module (:func:`signagent.tokens.pkcs11.discover_modules`),
  then the PKCS#15 card of every PC/SC reader holding one that no PKCS#11 module already shows (read over APDUs by
  :class:`signagent.tokens.pkcs15.Pkcs15Token`), then the software key directory. A card and a PKCS#11 token are
  the same token when their serials match (:func:`same_serial`); the PKCS#11 view is kept unless it shows no
  certificate while the card shows some (a generic module such as OpenSC may see a GOST card but not its GOST
  certificates).
* :func:`load_pkcs11` -- the PKCS#11 modules alone, each with its present tokens; :func:`scan_cards` -- the PC/SC
  readers alone, each card matched against those tokens.

A module that does not load and a card that is not PKCS#15 or is busy are errors beside the sources that were
found; no PC/SC service at all (pcscd not running, pyscard missing) is not an error: :class:`PcscStatus` says so.

The key directory needs a PKCS#8 reader, which lives above this layer: the caller passes it as ``key_loader``
(:class:`signagent.tokens.softkeys.SoftKeyDirectory`).

Exports: discover_sources, load_pkcs11, scan_cards, same_serial, Sources, SourceError, PcscStatus, ReaderCard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from signagent.errors import SignAgentError

from .errors import TokenRemovedError
from .protocol import Token
from .softkeys import KeyLoader, SoftKeyDirectory

__all__ = [
    "PcscStatus",
    "ReaderCard",
    "SourceError",
    "Sources",
    "discover_sources",
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
    from .pcsc import PcscUnavailableError, reader_states  # pyscard is loaded only when the readers are looked at
    from .pkcs15 import Pkcs15Error, Pkcs15Token

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
    from .pkcs11 import discover_modules, load_modules  # PyKCS11 (a SWIG module) is loaded only when needed

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


def discover_sources(key_loader: KeyLoader, extra_modules: Iterable[str] = (), *,
                     keys_dir: str | None = None) -> Sources:
    """The sources found on this machine (see the module docstring); the caller closes ``.modules`` (or calls
    :meth:`Sources.close`) when done. ``key_loader`` reads the key directory's PKCS#8 files, ``keys_dir`` overrides
    its default place, ``extra_modules`` are PKCS#11 modules to load besides the discovered ones."""
    modules, per_module, errors = load_pkcs11(extra_modules)
    try:
        pkcs11_tokens = [t for _, tokens in per_module for t in tokens]
        readers, cards, status = scan_cards(pkcs11_tokens)
        replaced = {id(t) for c in cards if c.listed for t in c.same_as}
        tokens: list[Token] = [t for t in pkcs11_tokens if id(t) not in replaced]
        tokens += [c.token for c in cards if c.listed]
        tokens.append(SoftKeyDirectory(key_loader, keys_dir))
    except BaseException:
        for module in modules:
            module.close()
        raise
    card_errors = [SourceError("pcsc", c.reader, "", c.error, c.reader) for c in cards if c.error and c.reported]
    if status.available and status.error is not None:
        card_errors.append(SourceError("pcsc", "PC/SC", "", status.error))
    return Sources(tokens, modules, errors, card_errors, readers, status, cards)
