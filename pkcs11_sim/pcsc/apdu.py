"""ISO/IEC 7816-4 command and response APDUs: parsing the command cases, the status words the card answers.

A command APDU (ISO/IEC 7816-4:2013 section 5.1) is CLA INS P1 P2 followed by one of the four cases, short or
extended: case 1 nothing; case 2 an Le field; case 3 Lc and data; case 4 Lc, data and Le. A short Le of 00 means
Ne = 256, an extended Le of 0000 means Ne = 65536; an absent Le means Ne = 0 (no response data expected).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SW", "ApduError", "Command", "parse_command"]


class SW:
    """The status words this card uses (ISO/IEC 7816-4:2013 section 5.6, tables 5 and 6)."""

    OK = 0x9000
    MORE_DATA = 0x6100  # | number of bytes still available (00 = 256 or more)
    END_OF_FILE = 0x6282  # fewer bytes than Ne before the end of the file
    VERIFY_FAIL = 0x63C0  # | remaining tries (a counter, 0..15)
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    CHAINING_UNSUPPORTED = 0x6884
    SM_UNSUPPORTED = 0x6882
    INCOMPATIBLE_FILE = 0x6981
    SECURITY_STATUS = 0x6982
    AUTH_BLOCKED = 0x6983
    REFERENCE_UNUSABLE = 0x6984
    CONDITIONS_OF_USE = 0x6985
    NO_CURRENT_EF = 0x6986
    WRONG_DATA = 0x6A80
    FILE_NOT_FOUND = 0x6A82
    REFERENCE_NOT_FOUND = 0x6A88
    WRONG_P1P2 = 0x6B00
    INS_UNKNOWN = 0x6D00
    CLA_UNKNOWN = 0x6E00
    NO_DIAGNOSIS = 0x6F00


class ApduError(Exception):
    """A command ends with this status word (and no data)."""

    def __init__(self, sw: int, why: str = "") -> None:
        super().__init__(f"{sw:04X} {why}".strip())
        self.sw = sw


@dataclass(frozen=True)
class Command:
    """A parsed command APDU. ``ne`` is the maximum response length (0 when no Le field was sent)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    ne: int
    has_le: bool
    extended: bool


def parse_command(raw: bytes) -> Command:
    """Split a command APDU into its fields (ISO/IEC 7816-4:2013 section 5.1); ApduError(6700) when malformed."""
    if len(raw) < 4:
        raise ApduError(SW.WRONG_LENGTH, "a command APDU has at least 4 bytes")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    n = len(body)
    if n == 0:  # case 1
        return Command(cla, ins, p1, p2, b"", 0, False, False)
    if n == 1:  # case 2 short
        return Command(cla, ins, p1, p2, b"", body[0] or 256, True, False)
    if body[0] != 0:  # short case 3 or 4
        lc = body[0]
        if n == 1 + lc:
            return Command(cla, ins, p1, p2, bytes(body[1:]), 0, False, False)
        if n == 2 + lc:
            return Command(cla, ins, p1, p2, bytes(body[1:1 + lc]), body[-1] or 256, True, False)
        raise ApduError(SW.WRONG_LENGTH, "Lc does not match the command length")
    # Extended length: the first body byte is 00.
    if n == 3:  # case 2 extended
        le = int.from_bytes(body[1:3], "big")
        return Command(cla, ins, p1, p2, b"", le or 65536, True, True)
    if n < 3:
        raise ApduError(SW.WRONG_LENGTH, "truncated extended length")
    lc = int.from_bytes(body[1:3], "big")
    if lc == 0:
        raise ApduError(SW.WRONG_LENGTH, "an extended Lc of 0")
    if n == 3 + lc:  # case 3 extended
        return Command(cla, ins, p1, p2, bytes(body[3:]), 0, False, True)
    if n == 5 + lc:  # case 4 extended
        le = int.from_bytes(body[-2:], "big")
        return Command(cla, ins, p1, p2, bytes(body[3:3 + lc]), le or 65536, True, True)
    raise ApduError(SW.WRONG_LENGTH, "Lc does not match the command length")
