"""Pure-Python reference of the GOST R 34.11-2012 hash function ("Streebog"; RFC 6986).

This is the readable twin of the C core (``_streebog_c``) and implements the Streebog backend interface described
in :mod:`signagent.gost._backend`.

Representation.  The standard writes every 512-bit vector as a number whose most significant byte is printed
first, while every implementation (OpenSSL's GOST engine, CryptoPro, X.509/CMS producers) feeds the message bytes
in stream order and returns the digest bytes in stream order: the stream is the *little-endian* encoding of the
standard's number (see ``tests/vectors/README.md``).  So here a 64-byte block ``b`` is the int
``int.from_bytes(b, "little")`` and every constant below is written exactly as the standard prints it.

Speed.  The round function LPS = L o P o S (§5.2-5.4) is linear apart from the byte-wise S-box, so LPS(x) is the
XOR over the 64 input bytes x_j of a value that depends only on (j, x_j).  These 64 x 256 values are computed
once at import time from pi and the matrix A; one LPS is then 64 table lookups done by C-speed builtins
(``map``/``bytes.join``) and an XOR of eight 512-bit rows done as three halving folds of one 4096-bit int.  The
512-bit additions of §8 are int additions masked to 512 bits.  This runs about three times as fast as the other
pure-Python Streebog implementations (still ~200x slower than the C core).
"""

from __future__ import annotations

from operator import getitem

from ..errors import InvalidInputError, InvalidTypeError
from ._bytes_like import as_view

__all__ = ["Streebog"]

# Clause numbers below are those of GOST R 34.11-2012, which RFC 6986 keeps as its section numbers.

# §5.2: the nonlinear bijection pi of V8, as pi(0), pi(1), ..., pi(255).
_PI = (
    252, 238, 221, 17, 207, 110, 49, 22, 251, 196, 250, 218, 35, 197, 4, 77,
    233, 119, 240, 219, 147, 46, 153, 186, 23, 54, 241, 187, 20, 205, 95, 193,
    249, 24, 101, 90, 226, 92, 239, 33, 129, 28, 60, 66, 139, 1, 142, 79,
    5, 132, 2, 174, 227, 106, 143, 160, 6, 11, 237, 152, 127, 212, 211, 31,
    235, 52, 44, 81, 234, 200, 72, 171, 242, 42, 104, 162, 253, 58, 206, 204,
    181, 112, 14, 86, 8, 12, 118, 18, 191, 114, 19, 71, 156, 183, 93, 135,
    21, 161, 150, 41, 16, 123, 154, 199, 243, 145, 120, 111, 157, 158, 178, 177,
    50, 117, 25, 61, 255, 53, 138, 126, 109, 84, 198, 128, 195, 189, 13, 87,
    223, 245, 36, 169, 62, 168, 67, 201, 215, 121, 214, 246, 124, 34, 185, 3,
    224, 15, 236, 222, 122, 148, 176, 188, 220, 232, 40, 80, 78, 51, 10, 74,
    167, 151, 96, 115, 30, 0, 98, 68, 26, 184, 56, 130, 100, 159, 38, 65,
    173, 69, 70, 146, 39, 94, 85, 47, 140, 163, 165, 125, 105, 213, 149, 59,
    7, 88, 179, 64, 134, 172, 29, 247, 48, 55, 107, 228, 136, 217, 231, 137,
    225, 27, 131, 73, 76, 63, 248, 254, 141, 83, 170, 144, 202, 216, 133, 97,
    32, 113, 103, 164, 45, 43, 9, 91, 203, 155, 37, 208, 190, 229, 108, 82,
    89, 166, 116, 210, 230, 244, 180, 192, 209, 102, 175, 194, 57, 75, 99, 182,
)  # fmt: skip

# §5.4: rows A_0 .. A_63 of the matrix of the linear map l on V64:
# l(a_63 || ... || a_0) = XOR over i of a_(63-i) * A_i, i.e. the most significant bit selects A_0.
_A = (
    0x8E20FAA72BA0B470, 0x47107DDD9B505A38, 0xAD08B0E0C3282D1C, 0xD8045870EF14980E,
    0x6C022C38F90A4C07, 0x3601161CF205268D, 0x1B8E0B0E798C13C8, 0x83478B07B2468764,
    0xA011D380818E8F40, 0x5086E740CE47C920, 0x2843FD2067ADEA10, 0x14AFF010BDD87508,
    0x0AD97808D06CB404, 0x05E23C0468365A02, 0x8C711E02341B2D01, 0x46B60F011A83988E,
    0x90DAB52A387AE76F, 0x486DD4151C3DFDB9, 0x24B86A840E90F0D2, 0x125C354207487869,
    0x092E94218D243CBA, 0x8A174A9EC8121E5D, 0x4585254F64090FA0, 0xACCC9CA9328A8950,
    0x9D4DF05D5F661451, 0xC0A878A0A1330AA6, 0x60543C50DE970553, 0x302A1E286FC58CA7,
    0x18150F14B9EC46DD, 0x0C84890AD27623E0, 0x0642CA05693B9F70, 0x0321658CBA93C138,
    0x86275DF09CE8AAA8, 0x439DA0784E745554, 0xAFC0503C273AA42A, 0xD960281E9D1D5215,
    0xE230140FC0802984, 0x71180A8960409A42, 0xB60C05CA30204D21, 0x5B068C651810A89E,
    0x456C34887A3805B9, 0xAC361A443D1C8CD2, 0x561B0D22900E4669, 0x2B838811480723BA,
    0x9BCF4486248D9F5D, 0xC3E9224312C8C1A0, 0xEFFA11AF0964EE50, 0xF97D86D98A327728,
    0xE4FA2054A80B329C, 0x727D102A548B194E, 0x39B008152ACB8227, 0x9258048415EB419D,
    0x492C024284FBAEC0, 0xAA16012142F35760, 0x550B8E9E21F7A530, 0xA48B474F9EF5DC18,
    0x70A6A56E2440598E, 0x3853DC371220A247, 0x1CA76E95091051AD, 0x0EDD37C48A08A6D8,
    0x07E095624504536C, 0x8D70C431AC02A736, 0xC83862965601DD1B, 0x641C314B2B8EE083,
)  # fmt: skip

# §5.3: the byte permutation tau = (0, 8, 16, ..., 56, 1, 9, ..., 63); it is a transposition of
# the 8 x 8 byte matrix, hence its own inverse.
_TAU = tuple(8 * (i % 8) + i // 8 for i in range(64))

# §5.5: the iteration constants C_1 .. C_12 of the key schedule, as printed in the standard.
_C = (
    0xB1085BDA1ECADAE9EBCB2F81C0657C1F2F6A76432E45D016714EB88D7585C4FC4B7CE09192676901A2422A08A460D31505767436CC744D23DD806559F2A64507,
    0x6FA3B58AA99D2F1A4FE39D460F70B5D7F3FEEA720A232B9861D55E0F16B501319AB5176B12D699585CB561C2DB0AA7CA55DDA21BD7CBCD56E679047021B19BB7,
    0xF574DCAC2BCE2FC70A39FC286A3D843506F15E5F529C1F8BF2EA7514B1297B7BD3E20FE490359EB1C1C93A376062DB09C2B6F443867ADB31991E96F50ABA0AB2,
    0xEF1FDFB3E81566D2F948E1A05D71E4DD488E857E335C3C7D9D721CAD685E353FA9D72C82ED03D675D8B71333935203BE3453EAA193E837F1220CBEBC84E3D12E,
    0x4BEA6BACAD4747999A3F410C6CA923637F151C1F1686104A359E35D7800FFFBDBFCD1747253AF5A3DFFF00B723271A167A56A27EA9EA63F5601758FD7C6CFE57,
    0xAE4FAEAE1D3AD3D96FA4C33B7A3039C02D66C4F95142A46C187F9AB49AF08EC6CFFAA6B71C9AB7B40AF21F66C2BEC6B6BF71C57236904F35FA68407A46647D6E,
    0xF4C70E16EEAAC5EC51AC86FEBF240954399EC6C7E6BF87C9D3473E33197A93C90992ABC52D822C3706476983284A05043517454CA23C4AF38886564D3A14D493,
    0x9B1F5B424D93C9A703E7AA020C6E41414EB7F8719C36DE1E89B4443B4DDBC49AF4892BCB929B069069D18D2BD1A5C42F36ACC2355951A8D9A47F0DD4BF02E71E,
    0x378F5A541631229B944C9AD8EC165FDE3A7D3A1B258942243CD955B7E00D0984800A440BDBB2CEB17B2B8A9AA6079C540E38DC92CB1F2A607261445183235ADB,
    0xABBEDEA680056F52382AE548B2E4F3F38941E71CFF8A78DB1FFFE18A1B3361039FE76702AF69334B7A1E6C303B7652F43698FAD1153BB6C374B4C7FB98459CED,
    0x7BCD9ED0EFC889FB3002C6CD635AFE94D8FA6BBBEBAB076120018021148466798A1D71EFEA48B9CAEFBACD1D7D476E98DEA2594AC06FD85D6BCAA4CD81F32D1B,
    0x378EE767F11631BAD21380B00449B17ACDA43C32BCDF1D77F82012D430219F9B5D80EF9D1891CC86E71DA4AA88E12852FAF417D5D9B21B9948BC924AF11BD720,
)  # fmt: skip

_MASK512 = (1 << 512) - 1
_IV512 = 0  # §5.1: IV of the 512-bit hash is 0^512
_IV256 = int.from_bytes(b"\x01" * 64, "little")  # §5.1: IV of the 256-bit hash is (00000001)^64


def _l_of_byte(position: int, value: int) -> int:
    """l (§5.4) of the 64-bit word whose byte ``position`` (0 = least significant) is ``value``, others zero."""
    out = 0
    for bit in range(8):
        if value >> bit & 1:
            out ^= _A[63 - (8 * position + bit)]
    return out


def _build_lps_tables() -> tuple[tuple[bytes, ...], ...]:
    """For each input byte position j (0 = least significant), the 256 contributions of that byte to LPS.

    S replaces byte j by pi(v); P moves it to tau(j) = 8 * (j % 8) + j // 8, that is byte ``j // 8`` of 64-bit
    word ``j % 8``; L applies l to each word.  So input byte j only touches output word ``j % 8``, and its
    contribution is ``l(pi(v) << 8 * (j // 8))``, stored as the 8 little-endian bytes of that word.
    """
    l_rows = [[_l_of_byte(row, v) for v in range(256)] for row in range(8)]
    tables = []
    for j in range(64):
        word, row = divmod(_TAU[j], 8)
        assert word == j % 8  # what _lps relies on: the contributions of byte j belong at word j % 8
        tables.append(tuple(l_rows[row][_PI[v]].to_bytes(8, "little") for v in range(256)))
    return tuple(tables)


_LPS_TABLES = _build_lps_tables()
_MASK2048 = (1 << 2048) - 1
_MASK1024 = (1 << 1024) - 1


def _lps(x: int) -> int:
    """LPS(x) = L(P(S(x))) (§6: the transformations built from §5.2-5.4) for a 512-bit int."""
    # Concatenating the contributions of bytes 0..63 in order puts byte j's 8 bytes at offset 8 * j =
    # 64 * (j // 8) + 8 * (j % 8): eight 512-bit "rows", each with every word in its place.  LPS(x) is the XOR
    # of the eight rows, done by folding the 4096-bit int in halves (3 shifts instead of 63 XORs).
    rows = int.from_bytes(b"".join(map(getitem, _LPS_TABLES, x.to_bytes(64, "little"))), "little")
    rows = (rows >> 2048) ^ (rows & _MASK2048)
    rows = (rows >> 1024) ^ (rows & _MASK1024)
    return (rows >> 512) ^ (rows & _MASK512)


def _g(n: int, h: int, m: int) -> int:
    """The compression function g_N(h, m) = E(LPS(h xor N), m) xor h xor m (§7)."""
    # E(K, m) = X[K_13] LPSX[K_12] ... LPSX[K_1](m), with K_1 = K and K_(i+1) = LPS(K_i xor C_i).
    k = _lps(h ^ n)
    state = m
    for c in _C:
        state = _lps(state ^ k)
        k = _lps(k ^ c)
    return state ^ k ^ h ^ m




class Streebog:
    """A hashlib-style GOST R 34.11-2012 hash object (digest_size 32 or 64 bytes).

    ``digest()`` does not finalise the object: it may be called again, and more data may be added after it.
    """

    block_size = 64

    __slots__ = ("_buffer", "_h", "_n", "_sigma", "digest_size", "name")

    def __init__(self, digest_size: int, data: object = b"") -> None:
        if isinstance(digest_size, bool) or not isinstance(digest_size, int):
            raise InvalidTypeError("digest_size must be an int (32 or 64)", got=type(digest_size).__name__)
        if digest_size not in (32, 64):
            raise InvalidInputError("Streebog digest_size must be 32 or 64", got=digest_size)
        self.digest_size = digest_size
        self.name = "streebog256" if digest_size == 32 else "streebog512"
        self._h = _IV256 if digest_size == 32 else _IV512
        self._n = 0  # number of message bits processed so far, mod 2^512 (N of §8)
        self._sigma = 0  # sum of the processed blocks mod 2^512 (Sigma of §8)
        self._buffer = b""  # the tail that does not yet fill a block (< 64 bytes)
        self.update(data)

    def update(self, data: object) -> None:
        """Add ``data`` (any bytes-like object) to the message."""
        view = as_view(data, "the data to hash")
        if not len(view):
            return
        buf = self._buffer + view
        full = len(buf) - len(buf) % 64
        if full:
            h, n, sigma = self._h, self._n, self._sigma
            from_bytes = int.from_bytes
            # §8.2: each full block m updates h = g_N(h, m), N += 512, Sigma += m.
            for off in range(0, full, 64):
                m = from_bytes(buf[off : off + 64], "little")
                h = _g(n, h, m)
                n = (n + 512) & _MASK512
                sigma = (sigma + m) & _MASK512
            self._h, self._n, self._sigma = h, n, sigma
        self._buffer = bytes(buf[full:])

    def _final(self) -> int:
        # §8.3: pad the tail M to m = 0^(511-|M|) || 1 || M, then fold N and Sigma in with g_0.
        tail = self._buffer
        m = int.from_bytes(tail, "little") | (1 << (8 * len(tail)))
        h = _g(self._n, self._h, m)
        n = (self._n + 8 * len(tail)) & _MASK512
        sigma = (self._sigma + m) & _MASK512
        h = _g(0, h, n)
        return _g(0, h, sigma)

    def digest(self) -> bytes:
        """The hash code as implementations output it (the reverse of the standard's printed hex)."""
        h = self._final()
        if self.digest_size == 64:
            return h.to_bytes(64, "little")
        return (h >> 256).to_bytes(32, "little")  # §8.3: the 256-bit hash is MSB_256 of the final h

    def hexdigest(self) -> str:
        """``digest()`` as lowercase hex."""
        return self.digest().hex()

    def copy(self) -> Streebog:
        """An independent copy of the current state."""
        other = Streebog.__new__(Streebog)
        other.digest_size = self.digest_size
        other.name = self.name
        other._h, other._n, other._sigma, other._buffer = self._h, self._n, self._sigma, self._buffer
        return other

    def __repr__(self) -> str:
        return f"<{self.name} pure-Python hash object at {id(self):#x}>"
