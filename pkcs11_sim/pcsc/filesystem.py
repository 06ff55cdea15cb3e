"""The card's file tree (ISO/IEC 7816-4:2013 section 7.1): dedicated files holding transparent elementary files,
file selection by identifier, DF name and path, and the FCP template SELECT returns.

Only what a read-only PKCS#15 card needs: every EF is transparent and readable by anyone; the tree is rebuilt from
the token when its objects change (:mod:`.pkcs15`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .apdu import SW, ApduError

__all__ = ["DF", "EF", "MF_FID", "Selection", "fcp"]

MF_FID = 0x3F00


@dataclass
class EF:
    """A transparent elementary file."""

    fid: int
    data: bytes
    sfi: int | None = None
    parent: DF | None = field(default=None, repr=False)


@dataclass
class DF:
    """A dedicated file (the MF is the DF with FID 3F00); ``name`` is its DF name (an AID) if it has one."""

    fid: int
    name: bytes | None = None
    children: list[DF | EF] = field(default_factory=list)
    parent: DF | None = field(default=None, repr=False)

    def add(self, node: DF | EF) -> DF | EF:
        """Attach a child file and return it."""
        node.parent = self
        self.children.append(node)
        return node

    def child(self, fid: int) -> DF | EF | None:
        """The child with this file identifier, if any."""
        return next((c for c in self.children if c.fid == fid), None)

    def walk(self) -> list[DF | EF]:
        """This DF and every file below it, depth first."""
        out: list[DF | EF] = [self]
        for c in self.children:
            out.extend(c.walk() if isinstance(c, DF) else [c])
        return out


def _tlv(tag: int, value: bytes) -> bytes:
    # BER-TLV with a one-byte tag and the short or long length form (ISO/IEC 7816-4:2013 section 5.2.2.2).
    if len(value) < 0x80:
        length = bytes([len(value)])
    elif len(value) < 0x100:
        length = bytes([0x81, len(value)])
    else:
        length = bytes([0x82]) + len(value).to_bytes(2, "big")
    return bytes([tag]) + length + value


def fcp(node: DF | EF) -> bytes:
    """The FCP template '62' of a file (ISO/IEC 7816-4:2013 section 7.4.3, table 12).

    '80' data size (EFs), '82' file descriptor ('01' transparent working EF, '38' DF), '83' file identifier,
    '84' DF name, '8A' life cycle status ('05': operational, activated).
    """
    body = b""
    if isinstance(node, EF):
        body += _tlv(0x80, len(node.data).to_bytes(2, "big"))
        body += _tlv(0x82, b"\x01")
    else:
        body += _tlv(0x82, b"\x38")
    body += _tlv(0x83, node.fid.to_bytes(2, "big"))
    if isinstance(node, DF) and node.name:
        body += _tlv(0x84, node.name)
    body += _tlv(0x8A, b"\x05")
    return _tlv(0x62, body)


def _fids(data: bytes) -> list[int]:
    if not data or len(data) % 2:
        raise ApduError(SW.WRONG_DATA, "a path is a sequence of 2-byte file identifiers")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


class Selection:
    """The current DF and current EF of a card session, changed only by a successful SELECT."""

    def __init__(self, mf: DF) -> None:
        self.mf = mf
        self.df: DF = mf
        self.ef: EF | None = None

    def _set(self, node: DF | EF) -> DF | EF:
        if isinstance(node, EF):
            assert node.parent is not None
            self.df, self.ef = node.parent, node
        else:
            self.df, self.ef = node, None
        return node

    def select(self, p1: int, data: bytes) -> DF | EF:
        """SELECT by P1 (ISO/IEC 7816-4:2013 section 11.2.2, table 39); ApduError 6A82 when nothing matches.

        00 by file identifier (the MF, the current DF, its children, its parent's children, its parent);
        01 child DF; 02 EF under the current DF; 03 parent DF; 04 by DF name (exact, else right-truncated);
        08 path from the MF (without 3F00, tolerated); 09 path from the current DF.
        """
        found: DF | EF | None
        if p1 == 0x00:
            if not data:
                found = self.mf
            elif len(data) != 2:
                raise ApduError(SW.WRONG_LENGTH, "a file identifier has 2 bytes")
            else:
                found = self._by_fid(int.from_bytes(data, "big"))
        elif p1 in (0x01, 0x02):
            if len(data) != 2:
                raise ApduError(SW.WRONG_LENGTH, "a file identifier has 2 bytes")
            found = self.df.child(int.from_bytes(data, "big"))
            if found is not None and isinstance(found, DF) != (p1 == 0x01):
                found = None
        elif p1 == 0x03:
            found = self.df.parent
        elif p1 == 0x04:
            found = self._by_name(data) if data else self.mf
        elif p1 in (0x08, 0x09):
            fids = _fids(data)
            start = self.mf if p1 == 0x08 else self.df
            if p1 == 0x08 and fids[0] == MF_FID:
                fids = fids[1:]
            found = self._path(start, fids)
        else:
            raise ApduError(SW.WRONG_P1P2, f"SELECT with P1={p1:02X} is not supported")
        if found is None:
            raise ApduError(SW.FILE_NOT_FOUND)
        return self._set(found)

    def _by_fid(self, fid: int) -> DF | EF | None:
        if fid == MF_FID:
            return self.mf
        if fid == self.df.fid:
            return self.df
        hit = self.df.child(fid)
        if hit is None and self.df.parent is not None:
            parent = self.df.parent
            hit = parent.child(fid) or (parent if parent.fid == fid else None)
        return hit

    def _by_name(self, name: bytes) -> DF | None:
        dfs = [n for n in self.mf.walk() if isinstance(n, DF) and n.name]
        exact = [d for d in dfs if d.name == name]
        if exact:
            return exact[0]
        partial = [d for d in dfs if d.name is not None and d.name.startswith(name)]
        return partial[0] if partial else None

    @staticmethod
    def _path(start: DF, fids: list[int]) -> DF | EF | None:
        node: DF | EF = start
        for fid in fids:
            if not isinstance(node, DF):
                return None
            nxt = node.child(fid)
            if nxt is None:
                return None
            node = nxt
        return node

    def by_sfi(self, sfi: int) -> EF | None:
        """The EF of the current DF with this short EF identifier (READ BINARY with P1 bit 8 set)."""
        return next((c for c in self.df.children if isinstance(c, EF) and c.sfi == sfi), None)
