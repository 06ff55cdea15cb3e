"""Object identifiers of the GOST algorithms and of the Russian qualified-certificate profile.

Sources: RFC 9215 (GOST R 34.10-2012 / 34.11-2012 in X.509, Russian attributes and extensions), RFC 7836 and
RFC 4357 (parameter sets), RFC 4491 (GOST R 34.10-2001 / 34.11-94), Приказ ФСБ № 795 (qualified certificate form).
Names are the asn1crypto-style names this project registers (see :mod:`signagent.asn1.gost`).

Exports: the constants below and the dicts GOST_PUBLIC_KEY_ALGORITHMS, GOST_SIGNATURE_ALGORITHMS,
GOST_DIGEST_ALGORITHMS, RUSSIAN_NAME_ATTRIBUTES, RUSSIAN_EXTENSIONS, POLICY_CLASSES.
"""

from __future__ import annotations

# Public-key algorithms (SubjectPublicKeyInfo.algorithm) -- RFC 9215 section 3, RFC 4491 section 2.3.2.
GOST2012_256 = "1.2.643.7.1.1.1.1"
GOST2012_512 = "1.2.643.7.1.1.1.2"
GOST2001 = "1.2.643.2.2.19"

# Digest algorithms -- RFC 9215 section 2, RFC 4491 section 2.1.
STREEBOG256 = "1.2.643.7.1.1.2.2"
STREEBOG512 = "1.2.643.7.1.1.2.3"
GOST341194 = "1.2.643.2.2.9"

# Signature algorithms (certificates, CRLs, requests) -- RFC 9215 section 3.1, RFC 4491 section 2.2.2.
SIGNWITHDIGEST_2012_256 = "1.2.643.7.1.1.3.2"
SIGNWITHDIGEST_2012_512 = "1.2.643.7.1.1.3.3"
SIGNWITHDIGEST_2001 = "1.2.643.2.2.3"

# Digest parameter set of GOST R 34.11-94 (RFC 4357 section 10.2).
GOST341194_CRYPTOPRO_PARAMSET = "1.2.643.2.2.30.1"

GOST_PUBLIC_KEY_ALGORITHMS = {
    GOST2012_256: "gost3410_2012_256",
    GOST2012_512: "gost3410_2012_512",
    GOST2001: "gost3410_2001",
}
GOST_DIGEST_ALGORITHMS = {
    STREEBOG256: "streebog256",
    STREEBOG512: "streebog512",
    GOST341194: "gost341194",
}
GOST_SIGNATURE_ALGORITHMS = {
    SIGNWITHDIGEST_2012_256: "gost3410_2012_256_streebog256",
    SIGNWITHDIGEST_2012_512: "gost3410_2012_512_streebog512",
    SIGNWITHDIGEST_2001: "gost3410_2001_gost341194",
}

# Subject name attributes of the qualified-certificate profile (Приказ ФСБ № 795; RFC 9215 section 5).
OGRN = "1.2.643.100.1"
SNILS = "1.2.643.100.3"
INNLE = "1.2.643.100.4"
OGRNIP = "1.2.643.100.5"
INN = "1.2.643.3.131.1.1"
RUSSIAN_NAME_ATTRIBUTES = {
    OGRN: "ogrn",
    SNILS: "snils",
    INNLE: "innle",
    OGRNIP: "ogrnip",
    INN: "inn",
}

# Extensions (RFC 9215 section 5; Приказ ФСБ № 795 as amended by № 31).
SUBJECT_SIGN_TOOL = "1.2.643.100.111"
ISSUER_SIGN_TOOL = "1.2.643.100.112"
IDENTIFICATION_KIND = "1.2.643.100.114"
RUSSIAN_EXTENSIONS = {
    SUBJECT_SIGN_TOOL: "subject_sign_tool",
    ISSUER_SIGN_TOOL: "issuer_sign_tool",
    IDENTIFICATION_KIND: "identification_kind",
}

# Certificate policies: class of the owner's signature tool (Приказ ФСБ № 796), 1.2.643.100.113.1-6.
POLICY_CLASSES = {
    "1.2.643.100.113.1": "КС1",
    "1.2.643.100.113.2": "КС2",
    "1.2.643.100.113.3": "КС3",
    "1.2.643.100.113.4": "КВ1",
    "1.2.643.100.113.5": "КВ2",
    "1.2.643.100.113.6": "КА1",
}
