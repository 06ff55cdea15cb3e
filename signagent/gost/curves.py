"""GOST R 34.10 elliptic-curve parameter sets, looked up by name, alias or OID.

Every set is a frozen :class:`Curve` in short Weierstrass form y^2 = x^3 + a*x + b (mod p) with a base point
(x, y) of prime order q. The two TC 26 sets that are twisted Edwards curves (256-bit paramSetA, 512-bit paramSetC)
are used through their Weierstrass form, exactly as GOST R 34.10-2012 computes with them; their Edwards
parameters (e, d, u, v) are kept for reference and checked against the Weierstrass ones by the tests.

Sources of the numbers (facts from the standards):

* TC 26 sets: RFC 7836 Appendix A.1 (= R 1323565.1.024-2019), both forms for the Edwards curves.
* CryptoPro sets: RFC 4357 section 11.4; TC 26 256-bit paramSetB/C/D reuse CryptoPro-A/B/C's curves (RFC 7836 A.1),
  and the key-exchange sets XchA/XchB reuse CryptoPro-A/C's curves (RFC 4357 section 11.4).
* Test sets: GOST R 34.10-2012 Appendix A examples A.1 and A.2 (also RFC 7091 section 7).

Naming scheme
-------------
``Curve.name`` is the set's ASN.1 identifier with the "2012" spelling that OpenSSL uses
(``id-tc26-gost-3410-2012-512-paramSetA``); the "-12-" spelling of RFC 7836/RFC 9215
(``id-tc26-gost-3410-12-512-paramSetA``) is accepted too. Short aliases:

* ``tc26-256-A`` .. ``tc26-256-D``: TC 26 256-bit paramSetA..D (1.2.643.7.1.2.1.1.1-4)
* ``tc26-512-A`` .. ``tc26-512-C``: TC 26 512-bit paramSetA..C (1.2.643.7.1.2.1.2.1-3)
* ``tc26-512-test`` or ``test-512``: the 512-bit test set (1.2.643.7.1.2.1.2.0)
* ``cryptopro-A`` .. ``cryptopro-C``: CryptoPro signature sets (1.2.643.2.2.35.1-3)
* ``cryptopro-XchA``, ``cryptopro-XchB``: CryptoPro key-exchange sets (1.2.643.2.2.36.0-1)
* ``cryptopro-test`` or ``test-256``: the 256-bit test set (1.2.643.2.2.35.0)

Lookup (:func:`curve`) ignores case and surrounding blanks. OpenSSL's GOST engine names its sets with short,
size-dependent codes ("A" is CryptoPro-A for gost2012_256 but TC 26 paramSetA for gost2012_512), so those are
resolved only through :func:`from_openssl_paramset`, never by the main lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import InvalidTypeError, UnknownAlgorithmError

__all__ = [
    "Curve",
    "all_curves",
    "as_curve",
    "curve",
    "from_openssl_paramset",
    "openssl_paramset",
]


@dataclass(frozen=True, eq=True, repr=False)
class Curve:
    """One GOST R 34.10 parameter set (short Weierstrass form; Edwards data for reference only)."""

    name: str
    oid: str
    aliases: tuple[str, ...]
    size: int  # bytes of p, of a scalar and of one coordinate: 32 or 64
    p: int
    a: int
    b: int
    q: int  # prime order of the base point (the subgroup order, "q" in GOST R 34.10-2012)
    x: int
    y: int
    cofactor: int = 1  # m = cofactor * q is the order of the whole group of points
    # Twisted Edwards form e*u^2 + v^2 = 1 + d*u^2*v^2 (RFC 7836 A.1) and its base point (u, v), when it exists.
    e: int | None = None
    d: int | None = None
    u: int | None = None
    v: int | None = None
    _engines: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @property
    def m(self) -> int:
        """Order of the group of points E(GF(p)) (GOST R 34.10-2012 section 5.2: m = cofactor * q)."""
        return self.cofactor * self.q

    @property
    def bits(self) -> int:
        """256 or 512: the nominal size GOST R 34.10-2012 and the key algorithm OIDs refer to."""
        return self.size * 8

    @property
    def is_twisted_edwards(self) -> bool:
        """True for the TC 26 sets defined as twisted Edwards curves (256-bit A, 512-bit C)."""
        return self.d is not None

    @property
    def engine(self) -> Any:
        """The backend's ``CurveEngine`` for this set (built on first use, then cached).

        See :mod:`signagent.gost._backend`: native C core when built, the pure-Python reference otherwise.
        """
        from ._backend import BACKEND_NAME, ec_impl

        eng = self._engines.get(BACKEND_NAME)
        if eng is None:
            eng = self.make_engine(ec_impl)
            self._engines[BACKEND_NAME] = eng
        return eng

    def make_engine(self, module: Any) -> Any:
        """A fresh ``CurveEngine`` of the given backend module (tests compare the backends this way)."""
        n = self.size
        return module.CurveEngine(*(v.to_bytes(n, "big") for v in (self.p, self.a, self.b, self.q, self.x, self.y)))

    def __repr__(self) -> str:
        return f"Curve({self.name!r}, oid={self.oid!r})"


def _h(text: str) -> int:
    """Hex as printed in the standards (blanks allowed) -> int."""
    return int("".join(text.split()), 16)


# --- 256-bit curves shared by several OIDs -------------------------------------------------------------------
# RFC 4357 section 11.4, id-GostR3410-2001-CryptoPro-A-ParamSet (also TC 26 256 paramSetB and XchA).
_CP_A = dict(
    p=_h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97"),
    a=_h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94"),
    b=_h("A6"),
    q=_h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893"),
    x=1,
    y=_h("8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14"),
)
# RFC 4357 section 11.4, id-GostR3410-2001-CryptoPro-B-ParamSet (also TC 26 256 paramSetC).
_CP_B = dict(
    p=_h("8000000000000000000000000000000000000000000000000000000000000C99"),
    a=_h("8000000000000000000000000000000000000000000000000000000000000C96"),
    b=_h("3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B"),
    q=_h("800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F"),
    x=1,
    y=_h("3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC"),
)
# RFC 4357 section 11.4, id-GostR3410-2001-CryptoPro-C-ParamSet (also TC 26 256 paramSetD and XchB).
_CP_C = dict(
    p=_h("9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B"),
    a=_h("9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598"),
    b=_h("805A"),
    q=_h("9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9"),
    x=0,
    y=_h("41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67"),
)
# GOST R 34.10-2012 Appendix A.1 / RFC 7091 7.1 / RFC 4357 11.4: id-GostR3410-2001-TestParamSet.
_TEST_256 = dict(
    p=_h("8000000000000000000000000000000000000000000000000000000000000431"),
    a=7,
    b=_h("5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E"),
    q=_h("8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3"),
    x=2,
    y=_h("08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8"),
)
# RFC 7836 A.1, id-tc26-gost-3410-2012-256-paramSetA: twisted Edwards curve (e, d, u, v) with cofactor 4, and
# its Weierstrass form (a, b, x, y) by the map of the A.1 notes.
_TC26_256_A = dict(
    p=_h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97"),
    a=_h("C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335"),
    b=_h("295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513"),
    q=_h("400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67"),
    x=_h("91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28"),
    y=_h("32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C"),
    cofactor=4,
    e=1,
    d=_h("0605F6B7C183FA81578BC39CFAD518132B9DF62897009AF7E522C32D6DC7BFFB"),
    u=13,
    v=_h("60CA1E32AA475B348488C38FAB07649CE7EF8DBE87F22E81F92B2592DBA300E7"),
)

# --- 512-bit curves -------------------------------------------------------------------------------------------
# RFC 7836 A.1, id-tc26-gost-3410-12-512-paramSetA.
_TC26_512_A = dict(
    p=_h(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7"
    ),
    a=_h(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4"
    ),
    b=_h(
        "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265"
        "EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760"
    ),
    q=_h(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275"
    ),
    x=3,
    y=_h(
        "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921"
        "DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4"
    ),
)
# RFC 7836 A.1, id-tc26-gost-3410-12-512-paramSetB.
_TC26_512_B = dict(
    p=_h(
        "8000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000006F"
    ),
    a=_h(
        "8000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000006C"
    ),
    b=_h(
        "687D1B459DC841457E3E06CF6F5E2517B97C7D614AF138BCBF85DC806C4B289F"
        "3E965D2DB1416D217F8B276FAD1AB69C50F78BEE1FA3106EFB8CCBC7C5140116"
    ),
    q=_h(
        "8000000000000000000000000000000000000000000000000000000000000001"
        "49A1EC142565A545ACFDB77BD9D40CFA8B996712101BEA0EC6346C54374F25BD"
    ),
    x=2,
    y=_h(
        "1A8F7EDA389B094C2C071E3647A8940F3C123B697578C213BE6DD9E6C8EC7335"
        "DCB228FD1EDF4A39152CBCAAF8C0398828041055F94CEEEC7E21340780FE41BD"
    ),
)
# RFC 7836 A.1, id-tc26-gost-3410-2012-512-paramSetC: twisted Edwards curve with cofactor 4 and its Weierstrass form.
_TC26_512_C = dict(
    p=_h(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7"
    ),
    a=_h(
        "DC9203E514A721875485A529D2C722FB187BC8980EB866644DE41C68E1430645"
        "46E861C0E2C9EDD92ADE71F46FCF50FF2AD97F951FDA9F2A2EB6546F39689BD3"
    ),
    b=_h(
        "B4C4EE28CEBC6C2C8AC12952CF37F16AC7EFB6A9F69F4B57FFDA2E4F0DE5ADE0"
        "38CBC2FFF719D2C18DE0284B8BFEF3B52B8CC7A5F5BF0A3C8D2319A5312557E1"
    ),
    q=_h(
        "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "C98CDBA46506AB004C33A9FF5147502CC8EDA9E7A769A12694623CEF47F023ED"
    ),
    x=_h(
        "E2E31EDFC23DE7BDEBE241CE593EF5DE2295B7A9CBAEF021D385F7074CEA043A"
        "A27272A7AE602BF2A7B9033DB9ED3610C6FB85487EAE97AAC5BC7928C1950148"
    ),
    y=_h(
        "F5CE40D95B5EB899ABBCCFF5911CB8577939804D6527378B8C108C3D2090FF9B"
        "E18E2D33E3021ED2EF32D85822423B6304F726AA854BAE07D0396E9A9ADDC40F"
    ),
    cofactor=4,
    e=1,
    d=_h(
        "9E4F5D8C017D8D9F13A5CF3CDF5BFE4DAB402D54198E31EBDE28A0621050439C"
        "A6B39E0A515C06B304E2CE43E79E369E91A0CFC2BC2A22B4CA302DBB33EE7550"
    ),
    u=18,
    v=_h(
        "469AF79D1FB1F5E16B99592B77A01E2A0FDFB0D01794368D9A56117F7B386695"
        "22DD4B650CF789EEBF068C5D139732F0905622C04B2BAAE7600303EE73001A3D"
    ),
)
# GOST R 34.10-2012 Appendix A.2 / RFC 7091 7.2: id-tc26-gost-3410-2012-512-paramSetTest.
_TEST_512 = dict(
    p=_h(
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
        "F1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373"
    ),
    a=7,
    b=_h(
        "1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC43"
        "61834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC"
    ),
    q=_h(
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
        "A82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF"
    ),
    x=_h(
        "24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762"
        "FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A"
    ),
    y=_h(
        "2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C"
        "83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E"
    ),
)

_TC26 = "id-tc26-gost-3410-2012-"
_CP = "id-GostR3410-2001-"

_ALL: tuple[Curve, ...] = (
    Curve(_TC26 + "256-paramSetA", "1.2.643.7.1.2.1.1.1", ("tc26-256-A",), 32, **_TC26_256_A),
    Curve(_TC26 + "256-paramSetB", "1.2.643.7.1.2.1.1.2", ("tc26-256-B",), 32, **_CP_A),
    Curve(_TC26 + "256-paramSetC", "1.2.643.7.1.2.1.1.3", ("tc26-256-C",), 32, **_CP_B),
    Curve(_TC26 + "256-paramSetD", "1.2.643.7.1.2.1.1.4", ("tc26-256-D",), 32, **_CP_C),
    Curve(_TC26 + "512-paramSetTest", "1.2.643.7.1.2.1.2.0", ("tc26-512-test", "test-512"), 64, **_TEST_512),
    Curve(_TC26 + "512-paramSetA", "1.2.643.7.1.2.1.2.1", ("tc26-512-A",), 64, **_TC26_512_A),
    Curve(_TC26 + "512-paramSetB", "1.2.643.7.1.2.1.2.2", ("tc26-512-B",), 64, **_TC26_512_B),
    Curve(_TC26 + "512-paramSetC", "1.2.643.7.1.2.1.2.3", ("tc26-512-C",), 64, **_TC26_512_C),
    Curve(_CP + "TestParamSet", "1.2.643.2.2.35.0", ("cryptopro-test", "test-256"), 32, **_TEST_256),
    Curve(_CP + "CryptoPro-A-ParamSet", "1.2.643.2.2.35.1", ("cryptopro-A",), 32, **_CP_A),
    Curve(_CP + "CryptoPro-B-ParamSet", "1.2.643.2.2.35.2", ("cryptopro-B",), 32, **_CP_B),
    Curve(_CP + "CryptoPro-C-ParamSet", "1.2.643.2.2.35.3", ("cryptopro-C",), 32, **_CP_C),
    Curve(_CP + "CryptoPro-XchA-ParamSet", "1.2.643.2.2.36.0", ("cryptopro-XchA",), 32, **_CP_A),
    Curve(_CP + "CryptoPro-XchB-ParamSet", "1.2.643.2.2.36.1", ("cryptopro-XchB",), 32, **_CP_C),
)


def _build_index() -> MappingProxyType[str, Curve]:
    index: dict[str, Curve] = {}

    def add(key: str, c: Curve) -> None:
        key = key.strip().lower()
        if index.setdefault(key, c) is not c:  # a clash would make lookups ambiguous: a bug in the table
            raise AssertionError(f"duplicate curve key {key!r}")

    for c in _ALL:
        add(c.name, c)
        add(c.oid, c)
        for alias in c.aliases:
            add(alias, c)
        if c.name.startswith(_TC26):  # RFC 7836 / RFC 9215 also spell the TC 26 names "id-tc26-gost-3410-12-..."
            add("id-tc26-gost-3410-12-" + c.name[len(_TC26) :], c)
    return MappingProxyType(index)


_INDEX = _build_index()


def all_curves() -> tuple[Curve, ...]:
    """Every known parameter set, TC 26 first, then CryptoPro."""
    return _ALL


def curve(name_or_oid: str) -> Curve:
    """The parameter set with this name, alias or dotted OID (case-insensitive).

    Raises :class:`~signagent.errors.UnknownAlgorithmError` for an unknown one and
    :class:`~signagent.errors.InvalidTypeError` for a non-string.
    """
    if not isinstance(name_or_oid, str):
        raise InvalidTypeError(f"a curve name or OID must be a str, not {type(name_or_oid).__name__}")
    found = _INDEX.get(name_or_oid.strip().lower())
    if found is None:
        raise UnknownAlgorithmError(situation="parameter_set", shown=repr(name_or_oid), name=name_or_oid)
    return found


def as_curve(value: Curve | str) -> Curve:
    """Accept a :class:`Curve` or anything :func:`curve` accepts (the form every ``curve`` argument takes)."""
    if isinstance(value, Curve):
        return value
    return curve(value)


# OpenSSL GOST engine's "paramset" option values (gost2012_256 / gost2012_512 algorithms; the engine's
# gost2001 algorithm uses the 256-bit codes without TCA-TCD). "A" means different sets for different sizes.
_OPENSSL_256 = {
    "0": "1.2.643.2.2.35.0",
    "A": "1.2.643.2.2.35.1",
    "B": "1.2.643.2.2.35.2",
    "C": "1.2.643.2.2.35.3",
    "XA": "1.2.643.2.2.36.0",
    "XB": "1.2.643.2.2.36.1",
    "TCA": "1.2.643.7.1.2.1.1.1",
    "TCB": "1.2.643.7.1.2.1.1.2",
    "TCC": "1.2.643.7.1.2.1.1.3",
    "TCD": "1.2.643.7.1.2.1.1.4",
}
_OPENSSL_512 = {
    "A": "1.2.643.7.1.2.1.2.1",
    "B": "1.2.643.7.1.2.1.2.2",
    "C": "1.2.643.7.1.2.1.2.3",
}


def _openssl_table(bits: int) -> dict[str, str]:
    if bits == 256:
        return _OPENSSL_256
    if bits == 512:
        return _OPENSSL_512
    raise UnknownAlgorithmError(f"GOST R 34.10-2012 keys are 256 or 512 bits, not {bits!r}")


def from_openssl_paramset(bits: int, code: str) -> Curve:
    """The set OpenSSL's GOST engine means by ``-pkeyopt paramset:CODE`` for ``gost2012_<bits>`` keys."""
    if not isinstance(code, str):
        raise InvalidTypeError("an OpenSSL paramset code must be a str")
    oid = _openssl_table(bits).get(code.strip().upper())
    if oid is None:
        raise UnknownAlgorithmError(f"OpenSSL's GOST engine has no {bits}-bit paramset {code!r}", name=code)
    return curve(oid)


def openssl_paramset(c: Curve | str) -> str | None:
    """OpenSSL GOST engine's paramset code for this set, or None when the engine cannot generate keys on it."""
    c = as_curve(c)
    for code, oid in _openssl_table(c.bits).items():
        if oid == c.oid:
            return code
    return None
