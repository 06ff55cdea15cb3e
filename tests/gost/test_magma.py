"""GOST R 34.12-2015 Magma (RFC 8891) and its GOST 28147-89 CFB form used by encrypted key files."""

from __future__ import annotations

import pytest

from signagent.errors import InvalidInputError, InvalidLengthError
from signagent.gost.magma import Magma, gost28147_cfb_decrypt, gost28147_cfb_encrypt

# GOST R 34.12-2015 section A.2 / RFC 8891 section A: key, plaintext and ciphertext as printed (big-endian).
KEY = bytes.fromhex("ffeeddccbbaa99887766554433221100f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")


def test_rfc8891_block() -> None:
    assert Magma(KEY).encrypt_block(bytes.fromhex("fedcba9876543210")).hex() == "4ee901e5c2d8ca3d"


def test_gost28147_form_is_magma_with_reversed_bytes() -> None:
    # GOST 28147-89 implementations read each 32-bit key word and the block little-endian: the same cipher with
    # the key words byte-swapped and the block reversed; CFB's first gamma block is E(IV).
    key_le = b"".join(KEY[i : i + 4][::-1] for i in range(0, 32, 4))
    iv = bytes.fromhex("fedcba9876543210")[::-1]
    gamma = gost28147_cfb_encrypt(key_le, iv, bytes(8))
    assert gamma == bytes.fromhex("4ee901e5c2d8ca3d")[::-1]


def test_cfb_round_trip_partial_block() -> None:
    data = bytes(range(77))
    iv = b"\x01" * 8
    ct = gost28147_cfb_encrypt(KEY, iv, data)
    assert len(ct) == 77 and ct != data
    assert gost28147_cfb_decrypt(KEY, iv, ct) == data
    assert gost28147_cfb_decrypt(KEY, iv, ct[:40]) == data[:40]  # CFB: a prefix decrypts to the prefix


def test_bad_arguments() -> None:
    with pytest.raises(InvalidLengthError):
        Magma(KEY[:31])
    with pytest.raises(InvalidLengthError):
        Magma(KEY).encrypt_block(b"1234567")
    with pytest.raises(InvalidLengthError):
        gost28147_cfb_encrypt(KEY, b"1234567", b"x")
    with pytest.raises(InvalidInputError, match="key meshing"):
        gost28147_cfb_encrypt(KEY, bytes(8), bytes(1025))
