"""Teaches asn1crypto the GOST algorithms: names for their OIDs, their key parameters, their key encodings.

asn1crypto keeps its OID tables as class attributes, so adding entries is the supported way to extend it; a few
properties that hard-code their tables (``SignedDigestAlgorithm.signature_algo``/``hash_algo``, the public- and
private-key spec callbacks) are wrapped so that GOST algorithms answer and every other algorithm is answered by
asn1crypto exactly as before. :func:`register` is idempotent and runs when :mod:`signagent.asn1` is imported.

Structures (RFC 9215 section 3; RFC 4491 section 2.3.1):

    GostR3410-2012-PublicKeyParameters ::= SEQUENCE {
        publicKeyParamSet OBJECT IDENTIFIER,
        digestParamSet    OBJECT IDENTIFIER OPTIONAL }        -- 2001 keys may add encryptionParamSet

    GostR3410-2012-PublicKey ::= OCTET STRING  -- X || Y little-endian, inside the SPKI BIT STRING

Exports: GostPublicKeyParameters, register, SIGNATURE_TO_KEY_ALGORITHM.
"""

from __future__ import annotations

from asn1crypto import algos, core, keys

from . import oids


class GostPublicKeyParameters(core.Sequence):
    """Parameters of a GOST R 34.10 public key: the curve and (optionally) the digest and cipher parameter sets."""

    _fields = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
        ("encryption_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


# Signature algorithm name -> (signature_algo, hash_algo) as asn1crypto's properties report them.
_SIGNATURE_PARTS = {
    "gost3410_2012_256_streebog256": ("gost3410_2012", "streebog256"),
    "gost3410_2012_512_streebog512": ("gost3410_2012", "streebog512"),
    "gost3410_2001_gost341194": ("gost3410_2001", "gost341194"),
    # CMS SignerInfo often names the key algorithm instead of the signature algorithm (RFC 9215 section 4 allows
    # it; OpenSSL and the TC 26 examples do it), with the digest implied by the key size.
    "gost3410_2012_256": ("gost3410_2012", "streebog256"),
    "gost3410_2012_512": ("gost3410_2012", "streebog512"),
    "gost3410_2001": ("gost3410_2001", "gost341194"),
}

#: Which public-key algorithm a GOST signature algorithm needs.
SIGNATURE_TO_KEY_ALGORITHM = {
    "gost3410_2012_256_streebog256": "gost3410_2012_256",
    "gost3410_2012_512_streebog512": "gost3410_2012_512",
    "gost3410_2001_gost341194": "gost3410_2001",
    "gost3410_2012_256": "gost3410_2012_256",
    "gost3410_2012_512": "gost3410_2012_512",
    "gost3410_2001": "gost3410_2001",
}

_registered = False


def _wrap_property(cls: type, name: str, table: dict[str, str]) -> None:
    original = getattr(cls, name)

    def getter(self: object) -> str:
        algorithm = self["algorithm"].native  # type: ignore[index]
        if algorithm in table:
            return table[algorithm]
        return original.fget(self)

    setattr(cls, name, property(getter, doc=original.__doc__))


def _wrap_spec_method(cls: type, method: str, field: str, algorithm_field: str, gost_spec: object) -> None:
    """Answer ``gost_spec`` for GOST keys in ``cls.<method>`` and point the field's spec callback at it.

    The method itself is replaced (not only the ``_spec_callbacks`` entry) because other libraries wrap that
    entry with a function that calls the method: pyhanko-certvalidator does so when it is imported, and would
    otherwise drop GOST keys again if it is imported after this registration.
    """
    original = getattr(cls, method)

    def spec(self: object) -> object:
        if self[algorithm_field]["algorithm"].native in oids.GOST_PUBLIC_KEY_ALGORITHMS.values():  # type: ignore[index]
            return gost_spec
        return original(self)

    setattr(cls, method, spec)
    cls._spec_callbacks = {**cls._spec_callbacks, field: lambda self: getattr(self, method)()}  # type: ignore[attr-defined]


def register() -> None:
    """Add the GOST algorithms to asn1crypto's tables (idempotent)."""
    global _registered
    if _registered:
        return
    keys.PublicKeyAlgorithmId._map.update(oids.GOST_PUBLIC_KEY_ALGORITHMS)
    keys.PrivateKeyAlgorithmId._map.update(oids.GOST_PUBLIC_KEY_ALGORITHMS)
    algos.DigestAlgorithmId._map.update(oids.GOST_DIGEST_ALGORITHMS)
    algos.SignedDigestAlgorithmId._map.update(oids.GOST_SIGNATURE_ALGORITHMS)
    algos.SignedDigestAlgorithmId._map.update(oids.GOST_PUBLIC_KEY_ALGORITHMS)
    for cls in (keys.PublicKeyAlgorithmId, keys.PrivateKeyAlgorithmId, algos.DigestAlgorithmId,
                algos.SignedDigestAlgorithmId):
        cls._reverse_map = None  # asn1crypto rebuilds its name -> OID map lazily
    for name in oids.GOST_PUBLIC_KEY_ALGORITHMS.values():
        keys.PublicKeyAlgorithm._oid_specs[name] = GostPublicKeyParameters
        keys.PrivateKeyAlgorithm._oid_specs[name] = GostPublicKeyParameters
    _wrap_property(algos.SignedDigestAlgorithm, "signature_algo", {k: v[0] for k, v in _SIGNATURE_PARTS.items()})
    _wrap_property(algos.SignedDigestAlgorithm, "hash_algo", {k: v[1] for k, v in _SIGNATURE_PARTS.items()})
    # The SPKI BIT STRING of a GOST key holds a DER OCTET STRING (X || Y little-endian); PKCS#8 holds the private
    # key as an OCTET STRING whose content varies by producer (raw d, or a further OCTET STRING / INTEGER).
    _wrap_spec_method(keys.PublicKeyInfo, "_public_key_spec", "public_key", "algorithm",
                      (keys.ParsableOctetBitString, core.OctetString))
    # (field spec, no inner parse): the reader of key files looks inside (signagent.cms key loading).
    _wrap_spec_method(keys.PrivateKeyInfo, "_private_key_spec", "private_key", "private_key_algorithm",
                      (core.OctetString, None))
    _registered = True
