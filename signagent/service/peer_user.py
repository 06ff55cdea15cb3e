"""Which local user opened a loopback connection to the agent (Linux: the kernel's socket table).

127.0.0.1 is shared by every account on the computer: without this check another user's browser or program could
pair with *this* user's agent, ask it for signatures, and -- with this user's PIN typed into what they believe is
their own agent's page -- sign with this user's token. On Linux the kernel lists every TCP socket with the uid that
owns it (``/proc/net/tcp``, ``/proc/net/tcp6``); the client's end of the connection is the entry whose local
address is the request's client address and whose remote address is the agent's. The agent serves only its own
user (DESIGN.md section 5); elsewhere (no ``/proc``) the check cannot be made and is skipped.

Exports: peer_uid, same_user.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections import OrderedDict

__all__ = ["peer_uid", "same_user"]

_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
# Reading the socket table costs ~0.5 ms on a busy machine: a connection found to be ours is remembered for a
# moment, so the requests of one keep-alive connection pay once. Only "ours" is remembered, and only briefly (a
# closed connection's port is not handed to another program within this time).
_REMEMBER = 2.0
_ours: OrderedDict[tuple[tuple[str, int], tuple[str, int]], float] = OrderedDict()
_lock = threading.Lock()


def _hex_address(host: str, port: int) -> set[str]:
    """The forms /proc/net/tcp* writes ``host:port`` in: IPv4 as one little-endian 32-bit word, IPv6 as four,
    and an IPv4 address as the IPv4-mapped IPv6 one in tcp6."""
    forms = set()
    try:
        packed = socket.inet_pton(socket.AF_INET, host)
        forms.add(f"{struct.unpack('<I', packed)[0]:08X}:{port:04X}")
        packed6 = b"\0" * 10 + b"\xff\xff" + packed
    except OSError:
        try:
            packed6 = socket.inet_pton(socket.AF_INET6, host)
        except OSError:
            return forms
    words = struct.unpack("<4I", packed6)
    forms.add("".join(f"{w:08X}" for w in words) + f":{port:04X}")
    return forms


def peer_uid(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The uid owning the socket at ``client`` connected to ``server``; None when it cannot be told."""
    local, remote = _hex_address(*client), _hex_address(*server)
    if not local or not remote:
        return None
    for table in _TABLES:
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)  # header
                for line in f:
                    fields = line.split()
                    if len(fields) > 7 and fields[1] in local and fields[2] in remote:
                        return int(fields[7])
        except (OSError, ValueError):
            continue
    return None


def same_user(client: tuple[str, int] | None, server: tuple[str, int] | None) -> bool:
    """False only when the connection is known to come from another user than the agent's."""
    if client is None or server is None or not hasattr(os, "getuid"):
        return True
    key = (tuple(client), tuple(server))
    now = time.monotonic()
    with _lock:
        seen = _ours.get(key)  # type: ignore[call-overload]
        if seen is not None and now - seen < _REMEMBER:
            return True
    uid = peer_uid(client, server)
    if uid is not None and uid != os.getuid():
        return False
    with _lock:
        _ours[key] = now  # type: ignore[index]
        _ours.move_to_end(key)  # type: ignore[arg-type]
        while len(_ours) > 1024:
            _ours.popitem(last=False)
    return True
