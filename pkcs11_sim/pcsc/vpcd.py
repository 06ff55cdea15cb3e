"""The card side of vsmartcard's vpcd protocol: a TCP client of the ``vpcd`` reader driver inside ``pcscd``.

vpcd (the IFD handler ``libifdvpcd.so``) listens on one port per virtual reader (35963 for "Virtual PCD 00 00",
35964 for "Virtual PCD 00 01" with Debian's ``/etc/reader.conf.d/vpcd``). A virtual card connects to it; the card
is "inserted" while the connection lasts and "removed" when it closes. Every message, in both directions, is a
2-byte big-endian length followed by that many bytes. From vpcd, a 1-byte message is a control code -- 00 power
off, 01 power on, 02 reset (no answer to any of them), 04 get the ATR (answered by the ATR) -- and anything longer
is a command APDU, answered by the response APDU. vpcd polls with 04 about every 400 ms while the card is there.

:func:`serve` runs a card on a port until told to stop, reconnecting if pcscd restarts. The card connects to the
loopback address only (vpcd itself listens on every interface; that is vsmartcard's choice, not ours).
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["BASE_PORT", "VpcdClosed", "VpcdLink", "VpcdUnavailable", "port_for_reader", "serve"]

log = logging.getLogger(__name__)

BASE_PORT = 35963
LOOPBACK = "127.0.0.1"
CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET, CTRL_GET_ATR = 0x00, 0x01, 0x02, 0x04
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
POWER_ON, GET_ATR = bytes([CTRL_POWER_ON]), bytes([CTRL_GET_ATR])


def port_for_reader(reader: int) -> int:
    """vpcd's TCP port for reader N ("Virtual PCD 00 0N")."""
    return BASE_PORT + reader


class VpcdClosed(ConnectionError):
    """vpcd closed the connection (pcscd stopped or restarted)."""


class VpcdUnavailable(ConnectionError):
    """No vpcd answered on the port in time."""


class CardLike(Protocol):
    """What :func:`serve` needs from a card."""

    atr: bytes

    def reset(self) -> None: ...

    def transmit(self, raw: bytes) -> bytes: ...


class VpcdLink:
    """One connection to vpcd, with the length-prefixed framing."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    @classmethod
    def connect(cls, port: int, *, host: str = LOOPBACK, timeout: float = 1.0) -> VpcdLink:
        """Connect to vpcd (OSError, e.g. ConnectionRefusedError, when nothing listens)."""
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock)

    def receive(self, timeout: float) -> bytes | None:
        """The next whole message, or None when none arrived within ``timeout`` seconds. VpcdClosed at EOF."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self._buffer) >= 2:
                n = int.from_bytes(self._buffer[:2], "big")
                if len(self._buffer) >= 2 + n:
                    message, self._buffer = self._buffer[2:2 + n], self._buffer[2 + n:]
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self.sock], [], [], left)
            if not readable:
                return None
            try:
                self._quick_ack()
                chunk = self.sock.recv(65538)
            except OSError as exc:
                raise VpcdClosed(str(exc)) from None
            if not chunk:
                raise VpcdClosed("vpcd closed the connection")
            self._buffer += chunk

    def _quick_ack(self) -> None:
        # vpcd writes the 2-byte length and the message in two send() calls; with Nagle on its side and a
        # delayed ACK (40 ms) on ours, every message would wait for that ACK. Linux clears TCP_QUICKACK on its
        # own, so it is set again before every read.
        if _QUICKACK is not None:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    def send(self, payload: bytes) -> None:
        """Send one message (VpcdClosed when the connection is gone)."""
        try:
            self.sock.sendall(len(payload).to_bytes(2, "big") + payload)
        except OSError as exc:
            raise VpcdClosed(str(exc)) from None

    def close(self) -> None:
        """Close the connection: for pcscd, the card is removed."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _handle(link: VpcdLink, card: CardLike, message: bytes) -> None:
    if len(message) == 1:
        code = message[0]
        if code == CTRL_GET_ATR:
            link.send(card.atr)
        elif code in (CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET):
            card.reset()
        else:
            log.warning("unknown vpcd control code %02X", code)
    elif message:
        link.send(card.transmit(message))


def serve(card: CardLike, port: int, *, should_stop: Callable[[], bool], on_ready: Callable[[], None] | None = None,
          start_timeout: float = 5.0, connect_grace: float = 1.5, tick: float = 0.2) -> None:
    """Serve ``card`` to vpcd on ``port`` until ``should_stop()`` (checked at least every ``tick`` seconds).

    At start, VpcdUnavailable unless vpcd accepts the connection within ``connect_grace`` seconds (pcscd may be
    just starting) and polls the card within ``start_timeout`` seconds (a reader already holding another card
    accepts the TCP connection but never polls). ``on_ready`` is called once, when pcscd has taken the card in
    (its first power-on, or a second of polling). Later disconnections (pcscd restarting) are retried every
    ``tick`` until stopped. Returning closes the connection, which pcscd sees as the card's removal.
    """
    started = time.monotonic()
    deadline = started + start_timeout
    connect_deadline = started + min(connect_grace, start_timeout)
    ready = False
    first_poll: float | None = None
    powered = False
    link: VpcdLink | None = None
    try:
        while not should_stop():
            if link is None:
                try:
                    link = VpcdLink.connect(port, timeout=max(0.1, min(1.0, deadline - time.monotonic())))
                    card.reset()
                    log.info("connected to vpcd on %s:%d", LOOPBACK, port)
                except OSError as exc:
                    if not ready and time.monotonic() > connect_deadline:
                        raise VpcdUnavailable(f"no vpcd on {LOOPBACK}:{port} ({exc.strerror or exc}); "
                                              "is pcscd with vsmartcard-vpcd running?") from None
                    time.sleep(tick)
                    continue
            try:
                message = link.receive(tick)
                now = time.monotonic()
                if message is None:
                    if not ready and first_poll is None and now > deadline:
                        raise VpcdUnavailable(f"vpcd on port {port} accepted but never polled the card "
                                              "(is another card in this reader?)")
                elif first_poll is None:
                    first_poll = now
                if message is not None:
                    _handle(link, card, message)
                    powered = powered or message == POWER_ON
                # pcscd powers a card up when it notices it, reads the ATR and then shows it to clients: that is
                # "inserted". Should auto power-on be disabled, a second of polling is taken as settled.
                settled = powered and message == GET_ATR
                if not ready and first_poll is not None and (settled or now - first_poll > 1.0):
                    ready = True
                    if on_ready is not None:
                        on_ready()
            except VpcdClosed as exc:
                log.info("vpcd disconnected (%s); reconnecting", exc)
                link.close()
                link = None
                card.reset()
    finally:
        if link is not None:
            link.close()
