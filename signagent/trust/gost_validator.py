"""GOST signatures and algorithm policy for pyhanko-certvalidator.

pyhanko-certvalidator checks signatures through a :class:`~pyhanko_certvalidator.sig_validate.SignatureValidator`
and asks an :class:`~pyhanko_certvalidator.policy_decl.AlgorithmUsagePolicy` whether an algorithm may be used. Its
defaults know only the algorithms of pyca/cryptography, so this module supplies both for the Russian PKI:

* :class:`GostSignatureValidator` verifies GOST R 34.10-2012 (256/512, Streebog) and the legacy GOST R 34.10-2001
  with GOST R 34.11-94 over certificates, CRLs and OCSP responses (RFC 9215 section 3; RFC 4491 section 2.2) and
  hands every other algorithm to pyhanko's default validator, or rejects it when ``allow_foreign`` is false.
  Verdicts are memoised (the same certificate is verified by several paths and by every warm validation).
* :class:`GostAlgorithmPolicy` accepts the GOST 2012 algorithms, the 2001/94 ones only when ``allow_legacy`` (they
  still sign the 2012 root and old CAs, so validating existing chains needs them), and defers or refuses others.

:func:`verify_signature` is the plain function behind the validator (``True``/``False``, no exception for a bad
signature) for callers that do not go through pyhanko.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime

from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.policy_decl import (
    AlgorithmUsageConstraint,
    AlgorithmUsagePolicy,
    DisallowWeakAlgorithmsPolicy,
)
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
    SignatureValidator,
)

import signagent.asn1  # noqa: F401  (registers the GOST algorithms with asn1crypto)
from signagent.errors import SignAgentError, UnknownAlgorithmError
from signagent.x509.signature import public_key_from_info
from signagent.x509.signature import verify_signature as x509_verify_signature

__all__ = [
    "GOST_2012_SIGNATURES",
    "LEGACY_SIGNATURES",
    "GostAlgorithmPolicy",
    "GostSignatureValidator",
    "is_gost_signature",
    "verify_signature",
]

#: Signature algorithm names (as signagent.asn1 registers them) of GOST R 34.10-2012; the key OIDs are accepted too
#: because CMS SignerInfo and some OCSP responders name the key algorithm instead (RFC 9215 section 4).
GOST_2012_SIGNATURES = frozenset({
    "gost3410_2012_256_streebog256", "gost3410_2012_512_streebog512", "gost3410_2012_256", "gost3410_2012_512",
})
#: GOST R 34.10-2001 with GOST R 34.11-94 (RFC 4491): valid for existing chains only.
LEGACY_SIGNATURES = frozenset({"gost3410_2001_gost341194", "gost3410_2001"})
_GOST_DIGESTS_2012 = frozenset({"streebog256", "streebog512"})
_LEGACY_DIGESTS = frozenset({"gost341194"})


def is_gost_signature(signature_algorithm: algos.SignedDigestAlgorithm) -> bool:
    """Whether the AlgorithmIdentifier names a GOST R 34.10 signature (2012 or legacy 2001)."""
    name = signature_algorithm["algorithm"].native
    return name in GOST_2012_SIGNATURES or name in LEGACY_SIGNATURES


def verify_signature(data: bytes, signature_algorithm: algos.SignedDigestAlgorithm, signature: bytes,
                     public_key_info: keys.PublicKeyInfo, *, prehashed: bool = False) -> bool:
    """Verify a GOST signature ``s||r`` over ``data`` (or over a digest when ``prehashed``); never raises for a
    bad key or signature (False), only :class:`~signagent.errors.UnknownAlgorithmError` for a non-GOST algorithm.

    The key algorithm must be the one the signature algorithm needs (a 256-bit signature with a 512-bit key is
    simply false). The work is :func:`signagent.x509.signature.verify_signature`'s.
    """
    if not is_gost_signature(signature_algorithm):
        raise UnknownAlgorithmError(f"not a GOST signature algorithm: {signature_algorithm['algorithm'].native}")
    try:
        if prehashed:
            key = public_key_from_info(public_key_info)
            return bool(key.verify_digest(data, signature))
        return bool(x509_verify_signature(data, signature_algorithm, signature, public_key_info))
    except (SignAgentError, ValueError, TypeError, KeyError):
        # a point off the curve, an unknown parameter set, a key that does not fit the algorithm: not valid
        return False


class GostSignatureValidator(SignatureValidator):
    """pyhanko-certvalidator signature validator for GOST, deferring other algorithms (or refusing them).

    ``allow_foreign``: hand RSA/ECDSA/EdDSA... to pyhanko's default validator; when false they raise
    :class:`~pyhanko_certvalidator.errors.AlgorithmNotSupported` (an ``InvalidSignature``). ``cache_size``: how many
    verdicts to remember (keyed by the signature, a SHA-256 of the signed bytes and the key), 0 for none.
    """

    def __init__(self, *, allow_foreign: bool = True, cache_size: int = 4096) -> None:
        self.allow_foreign = allow_foreign
        self._default = DefaultSignatureValidator()
        self._cache: OrderedDict[tuple[bytes, bytes, bytes, str, bool], bool] = OrderedDict()
        self._cache_size = cache_size

    def validate_signature(self, signature: bytes, signed_data: bytes, public_key_info: keys.PublicKeyInfo,
                           signature_algorithm: algos.SignedDigestAlgorithm,
                           context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT) -> None:
        """Raise ``InvalidSignature`` unless ``signature`` verifies (pyhanko's contract)."""
        if not is_gost_signature(signature_algorithm):
            if not self.allow_foreign:
                raise AlgorithmNotSupported(
                    f"signature algorithm {signature_algorithm['algorithm'].native} is not accepted")
            self._default.validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
            return
        if not self.is_valid(signature, signed_data, public_key_info, signature_algorithm,
                             prehashed=context.prehashed):
            raise InvalidSignature("GOST signature does not verify")

    def is_valid(self, signature: bytes, signed_data: bytes, public_key_info: keys.PublicKeyInfo,
                 signature_algorithm: algos.SignedDigestAlgorithm, *, prehashed: bool = False) -> bool:
        """The memoised verdict of :func:`verify_signature`."""
        key = (bytes(signature), hashlib.sha256(signed_data).digest(), public_key_info.dump(),
               signature_algorithm["algorithm"].dotted, prehashed)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        verdict = verify_signature(signed_data, signature_algorithm, bytes(signature), public_key_info,
                                   prehashed=prehashed)
        if self._cache_size:
            self._cache[key] = verdict
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return verdict


class GostAlgorithmPolicy(AlgorithmUsagePolicy):
    """Algorithm policy: GOST 2012 always; GOST 2001/94 when ``allow_legacy``; others per ``allow_foreign``.

    With ``allow_foreign`` the non-GOST algorithms are judged by pyhanko's :class:`DisallowWeakAlgorithmsPolicy`
    (no MD5/SHA-1, RSA >= 2048); without it they are refused. GOST 2001 stopped being allowed for *new*
    signatures in 2019 (ФСБ notice on the transition to GOST R 34.10-2012), but existing chains -- the 2012 root,
    NUC 2017 -- are still verified with it, so a validating policy keeps ``allow_legacy=True``.
    """

    def __init__(self, *, allow_legacy: bool = True, allow_foreign: bool = False) -> None:
        self.allow_legacy = allow_legacy
        self.allow_foreign = allow_foreign
        self._foreign = DisallowWeakAlgorithmsPolicy()

    def digest_algorithm_allowed(self, algo: algos.DigestAlgorithm,
                                 moment: datetime | None) -> AlgorithmUsageConstraint:
        """Streebog always, GOST R 34.11-94 when legacy is allowed, others per ``allow_foreign``."""
        name = algo["algorithm"].native
        if name in _GOST_DIGESTS_2012:
            return AlgorithmUsageConstraint(True)
        if name in _LEGACY_DIGESTS:
            return AlgorithmUsageConstraint(self.allow_legacy, failure_reason=None if self.allow_legacy else
                                            "GOST R 34.11-94 is accepted only for existing chains")
        if self.allow_foreign:
            return self._foreign.digest_algorithm_allowed(algo, moment)
        return AlgorithmUsageConstraint(False, failure_reason=f"digest algorithm {name} is not a GOST algorithm")

    def signature_algorithm_allowed(self, algo: algos.SignedDigestAlgorithm, moment: datetime | None,
                                    public_key: keys.PublicKeyInfo | None) -> AlgorithmUsageConstraint:
        """GOST 2012 signatures always, GOST 2001 when legacy is allowed, others per ``allow_foreign``."""
        name = algo["algorithm"].native
        if name in GOST_2012_SIGNATURES:
            return AlgorithmUsageConstraint(True)
        if name in LEGACY_SIGNATURES:
            return AlgorithmUsageConstraint(self.allow_legacy, failure_reason=None if self.allow_legacy else
                                            "GOST R 34.10-2001 is accepted only for existing chains")
        if self.allow_foreign:
            return self._foreign.signature_algorithm_allowed(algo, moment, public_key)
        return AlgorithmUsageConstraint(False, failure_reason=f"signature algorithm {name} is not a GOST algorithm")
