"""The virtual ISO/IEC 7816-4 card: an APDU dispatcher over one simulated token.

Commands (ISO/IEC 7816-4:2013 section 11 unless noted; CLA 00 only -- no secure messaging, chaining or logical
channels):

* SELECT (A4) by file identifier, DF name (the PKCS#15 AID), path; returns the FCP/FCI when Le is present.
* READ BINARY (B0) at a 15-bit offset, or through a short EF identifier (P1 bit 8); long files are read in
  pieces by offset. 6282 when the file ends before Ne bytes were asked for explicitly, 6B00 past its end.
* GET RESPONSE (C0) for data that did not fit the Ne of the previous command (announced by 61xx).
* VERIFY (20) P2=01: the user PIN (the data field exactly as sent), checked by the token store, so the retry
  counter is the one the PKCS#11 face counts down. 63Cx = x tries left, 6983 locked, empty data = query (9000 when
  verified in this session); P1=FF resets the verification.
* MANAGE SECURITY ENVIRONMENT: SET for a digital signature template (22 41 B6) with the private key reference in
  '84' (or '83'): the key's CKA_ID, or one byte n for the n-th private key in the token's object order.
* PERFORM SECURITY OPERATION: COMPUTE DIGITAL SIGNATURE (2A 9E 9A, ISO/IEC 7816-8) over a 32- or 64-byte Streebog
  digest: s || r, each half big-endian -- the bytes PKCS#11 CKM_GOSTR3410(_512) returns. Needs the user PIN
  verified in this card session.
* GET CHALLENGE (84): Ne random bytes.

Power off and reset end the card session: verification, security environment and selection are forgotten.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from signagent.errors import SignAgentError
from signagent.gost import PrivateKey

from .. import constants as C
from ..attributes import as_bool, as_int
from ..errors import CkrError
from ..objects import key_curve
from ..store import TokenStore
from .apdu import SW, ApduError, Command, parse_command
from .filesystem import DF, Selection, fcp
from .pkcs15 import Fingerprint, build_filesystem, fingerprint

__all__ = ["ATR", "Card"]

log = logging.getLogger(__name__)

def _atr(body: bytes) -> bytes:
    """TS = 3B (direct convention), then T0..the historical bytes, then TCK = their XOR (ISO/IEC 7816-3 8.2.5)."""
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3B" + body + bytes([tck])


# ISO/IEC 7816-3 section 8.2: TS=3B (direct convention); T0=8C (TD1 follows, 12 historical bytes); TD1=80 (TD2
# follows, T=0); TD2=01 (T=1); historical bytes: category 80 then the COMPACT-TLV "card issuer's data" '5A'
# (ISO/IEC 7816-4 section 8.1.1.2) holding "pkcs11-sim", so tools can tell this card apart; TCK = XOR of T0..end.
ATR = _atr(bytes([0x8C, 0x80, 0x01, 0x80, 0x5A]) + b"pkcs11-sim")

USER_PIN_REFERENCE = 0x01
Handler = Callable[[Command], tuple[bytes, int]]


def _sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


def _tlvs(data: bytes) -> dict[int, bytes]:
    """Simple BER-TLV with one-byte tags (the CRT of MSE:SET); ApduError(6A80) when malformed."""
    out: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise ApduError(SW.WRONG_DATA, "truncated TLV")
        tag, length = data[i], data[i + 1]
        i += 2
        if length == 0x81:
            if i >= len(data):
                raise ApduError(SW.WRONG_DATA, "truncated TLV")
            length = data[i]
            i += 1
        elif length > 0x80:
            raise ApduError(SW.WRONG_DATA, "TLV length form not supported")
        if i + length > len(data):
            raise ApduError(SW.WRONG_DATA, "truncated TLV")
        out[tag] = data[i:i + length]
        i += length
    return out


class Card:
    """One card session at a time over ``store``; :meth:`transmit` answers a command APDU with a response APDU."""

    atr = ATR

    def __init__(self, store: TokenStore) -> None:
        self.store = store
        self._fs_key: Fingerprint | None = None
        self._mf: DF | None = None
        self._selection: Selection | None = None
        self._token_key: bytes | None = None
        self._key_uid: int | None = None
        self._pending = b""
        self._handlers: dict[int, Handler] = {
            0xA4: self._select,
            0xB0: self._read_binary,
            0xC0: self._get_response,
            0x20: self._verify,
            0x22: self._mse,
            0x2A: self._pso,
            0x84: self._get_challenge,
        }

    # --- card session ---------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Power on, power off or reset: forget verification, security environment, selection, pending data."""
        self._token_key = None
        self._key_uid = None
        self._pending = b""
        self._selection = None

    def _files(self) -> Selection:
        """The selection over an up-to-date file tree (rebuilt, at the MF, when the token's certificates change)."""
        key = fingerprint(self.store)
        if key != self._fs_key or self._mf is None:
            self._mf = build_filesystem(self.store)
            self._fs_key = key
            self._selection = None
        if self._selection is None:
            self._selection = Selection(self._mf)
        return self._selection

    # --- dispatch -----------------------------------------------------------------------------------------------
    def transmit(self, raw: bytes) -> bytes:
        """Process one command APDU and return the response APDU (data || SW1 SW2). Never raises."""
        ins = raw[1] if len(raw) > 1 else -1
        try:
            cmd = parse_command(bytes(raw))
            self._check_class(cmd.cla)
            if cmd.ins != 0xC0:
                self._pending = b""
            handler = self._handlers.get(cmd.ins)
            if handler is None:
                raise ApduError(SW.INS_UNKNOWN)
            data, sw = handler(cmd)
            response = self._respond(cmd, data, sw)
        except ApduError as exc:
            response = _sw(exc.sw)
        except CkrError as exc:  # the token vanished or its state is unreadable
            log.warning("token error for INS %02X: %s", ins & 0xFF, exc)
            response = _sw(SW.NO_DIAGNOSIS)
        except Exception:  # a bug must not kill the card: answer "no precise diagnosis" and log it
            log.exception("unexpected error for INS %02X", ins & 0xFF)
            response = _sw(SW.NO_DIAGNOSIS)
        log.debug("INS %02X -> %s", ins & 0xFF, response[-2:].hex().upper())
        return response

    @staticmethod
    def _check_class(cla: int) -> None:
        if cla & 0x80:  # proprietary classes (including FF, the PC/SC reader pseudo-APDUs)
            raise ApduError(SW.CLA_UNKNOWN)
        if cla & 0x10:
            raise ApduError(SW.CHAINING_UNSUPPORTED)
        if cla & 0x0C:
            raise ApduError(SW.SM_UNSUPPORTED)
        if cla & 0x03 or cla & 0x60:  # logical channels other than the basic one
            raise ApduError(SW.CLA_UNKNOWN)

    def _respond(self, cmd: Command, data: bytes, sw: int) -> bytes:
        """Cut the response to Ne; the rest waits for GET RESPONSE, announced by 61xx (xx = 00 for 256 or more)."""
        if sw == SW.OK and len(data) > cmd.ne:
            self._pending = data[cmd.ne:]
            data = data[:cmd.ne]
            sw = SW.MORE_DATA | (min(len(self._pending), 256) & 0xFF)
        return data + _sw(sw)

    # --- file commands -----------------------------------------------------------------------------------------
    def _select(self, cmd: Command) -> tuple[bytes, int]:
        if cmd.p2 & 0xF0 or cmd.p2 & 0x03:  # only "first or only occurrence" and the four response kinds
            raise ApduError(SW.WRONG_P1P2)
        node = self._files().select(cmd.p1, cmd.data)
        kind = cmd.p2 & 0x0C
        if kind == 0x0C or not cmd.has_le:
            return b"", SW.OK
        template = fcp(node)
        if kind == 0x00:  # FCI '6F' carrying the FCP's data objects
            template = bytes([0x6F]) + template[1:]
        elif kind == 0x08:  # FMD '64': none
            template = b"\x64\x00"
        return template, SW.OK

    def _read_binary(self, cmd: Command) -> tuple[bytes, int]:
        files = self._files()
        if cmd.p1 & 0x80:
            if cmd.p1 & 0x60:
                raise ApduError(SW.WRONG_P1P2)
            ef = files.by_sfi(cmd.p1 & 0x1F)
            if ef is None:
                raise ApduError(SW.FILE_NOT_FOUND)
            assert ef.parent is not None
            files.df, files.ef = ef.parent, ef
            offset = cmd.p2
        else:
            if files.ef is None:
                raise ApduError(SW.NO_CURRENT_EF)
            ef = files.ef
            offset = (cmd.p1 << 8) | cmd.p2
        if cmd.data:
            raise ApduError(SW.WRONG_LENGTH, "READ BINARY takes no data")
        if not cmd.has_le:
            raise ApduError(SW.WRONG_LENGTH, "READ BINARY needs Le")
        if offset >= len(ef.data):
            raise ApduError(SW.WRONG_P1P2, "offset outside the EF")
        chunk = ef.data[offset:offset + cmd.ne]
        asked_max = cmd.ne == (65536 if cmd.extended else 256)
        return chunk, SW.OK if len(chunk) == cmd.ne or asked_max else SW.END_OF_FILE

    def _get_response(self, cmd: Command) -> tuple[bytes, int]:
        if cmd.p1 or cmd.p2:
            raise ApduError(SW.WRONG_P1P2)
        if not self._pending:
            raise ApduError(SW.CONDITIONS_OF_USE, "no response data pending")
        data, self._pending = self._pending, b""
        return data, SW.OK

    def _get_challenge(self, cmd: Command) -> tuple[bytes, int]:
        if cmd.p1 or cmd.p2:
            raise ApduError(SW.WRONG_P1P2)
        if cmd.data or not cmd.has_le:
            raise ApduError(SW.WRONG_LENGTH)
        return os.urandom(min(cmd.ne, 256)), SW.OK

    # --- security -----------------------------------------------------------------------------------------------
    def _tries_sw(self) -> int:
        status = self.store.pin_status("user")
        if status is None:
            raise ApduError(SW.REFERENCE_UNUSABLE, "the user PIN is not initialised")
        if status["tries_left"] <= 0:
            return SW.AUTH_BLOCKED
        return SW.VERIFY_FAIL | min(status["tries_left"], 15)

    def _verify(self, cmd: Command) -> tuple[bytes, int]:
        if cmd.p1 not in (0x00, 0xFF):
            raise ApduError(SW.WRONG_P1P2)
        if cmd.p2 != USER_PIN_REFERENCE:
            raise ApduError(SW.REFERENCE_NOT_FOUND, "only the user PIN (P2=01) exists")
        if cmd.p1 == 0xFF:  # ISO/IEC 7816-4:2013 section 11.5.6: reset the verification status
            if cmd.data:
                raise ApduError(SW.WRONG_LENGTH)
            self._token_key = None
            return b"", SW.OK
        if not cmd.data:  # a query: verified in this session, else the remaining tries
            if self._token_key is not None:
                return b"", SW.OK
            return b"", self._tries_sw()
        self._token_key = None  # a failed verification leaves the PIN unverified
        try:
            # The counter is the token's (shared with C_Login) and is decremented on disk before the comparison,
            # then restored on success: ISO/IEC 7816-4:2013 section 11.5.6 VERIFY as a card's chip does it.
            self._token_key = self.store.check_pin("user", cmd.data)
        except CkrError as exc:
            if exc.rv == C.CKR_PIN_INCORRECT:
                return b"", self._tries_sw()
            if exc.rv == C.CKR_PIN_LOCKED:
                return b"", SW.AUTH_BLOCKED
            if exc.rv == C.CKR_USER_PIN_NOT_INITIALIZED:
                return b"", SW.REFERENCE_UNUSABLE
            raise
        return b"", SW.OK

    def _private_keys(self) -> list[tuple[int, dict[int, bytes]]]:
        return [(uid, obj.attrs) for uid, obj in sorted(self.store.objects().items())
                if as_int(obj.attrs[C.CKA_CLASS]) == C.CKO_PRIVATE_KEY]

    def _mse(self, cmd: Command) -> tuple[bytes, int]:
        if (cmd.p1, cmd.p2) != (0x41, 0xB6):  # SET, digital signature template
            raise ApduError(SW.WRONG_P1P2, "only MSE:SET for a digital signature template (41 B6)")
        crt = _tlvs(cmd.data)
        ref = crt.get(0x84, crt.get(0x83))
        if ref is None:
            raise ApduError(SW.WRONG_DATA, "no key reference ('84' or '83')")
        keys = self._private_keys()
        uid = next((u for u, attrs in keys if attrs.get(C.CKA_ID) == ref), None)
        if uid is None and len(ref) == 1 and 1 <= ref[0] <= len(keys):
            uid = keys[ref[0] - 1][0]
        if uid is None:
            self._key_uid = None
            raise ApduError(SW.REFERENCE_NOT_FOUND, "no such private key")
        self._key_uid = uid
        return b"", SW.OK

    def _pso(self, cmd: Command) -> tuple[bytes, int]:
        if (cmd.p1, cmd.p2) != (0x9E, 0x9A):
            raise ApduError(SW.WRONG_P1P2, "only PSO: COMPUTE DIGITAL SIGNATURE (9E 9A)")
        if self._key_uid is None:
            raise ApduError(SW.CONDITIONS_OF_USE, "no key set by MSE:SET")
        obj = self.store.objects().get(self._key_uid)
        if obj is None:
            raise ApduError(SW.REFERENCE_NOT_FOUND, "the key was deleted")
        if not as_bool(obj.attrs.get(C.CKA_SIGN)):
            raise ApduError(SW.CONDITIONS_OF_USE, "the key may not sign")
        if self._token_key is None:
            raise ApduError(SW.SECURITY_STATUS, "VERIFY the user PIN first")
        try:
            found = key_curve(obj.attrs)
        except CkrError:
            raise ApduError(SW.REFERENCE_UNUSABLE, "the key's parameters are unusable") from None
        if len(cmd.data) != found.size:
            raise ApduError(SW.WRONG_LENGTH, f"the digest must have {found.size} bytes")
        value = self.store.reveal(self._key_uid, C.CKA_VALUE, self._token_key)
        try:
            key = PrivateKey.from_bytes(found, value)
        except SignAgentError:
            raise ApduError(SW.REFERENCE_UNUSABLE, "the stored key is invalid") from None
        return key.sign_digest(cmd.data), SW.OK

