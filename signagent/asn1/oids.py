"""Object identifiers of the GOST algorithms and of the Russian qualified-certificate profile.

Sources: RFC 9215 (GOST R 34.10-2012 / 34.11-2012 in X.509, Russian attributes and extensions), RFC 7836 and
RFC 4357 (parameter sets), RFC 4491 (GOST R 34.10-2001 / 34.11-94), Приказ ФСБ № 795 (qualified certificate form).
Names are the asn1crypto-style names this project registers (see :mod:`signagent.asn1.gost`).

The standard X.509 / PKIX / PKCS identifiers the project names itself (extensions, CRL extensions, name
attributes, PKCS#5 and PKCS#9) are here too, under the clause that defines them; where asn1crypto resolves an
identifier by its own name, code may use that name instead. (The curve and digest identifiers inside
:mod:`signagent.gost` stay there: that layer imports only the standard library.)

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

# HMAC with Streebog (R 50.1.113-2016; RFC 7836 appendix): PRFs of PBKDF2.
HMAC_STREEBOG256 = "1.2.643.7.1.1.4.1"
HMAC_STREEBOG512 = "1.2.643.7.1.1.4.2"

# Block ciphers and their CTR-ACPKM modes (RFC 4357 section 10.1; R 1323565.1.012-2017; RFC 8645).
GOST28147 = "1.2.643.2.2.21"
GOST28147_PARAM_Z = "1.2.643.7.1.2.5.1.1"  # id-tc26-gost-28147-param-Z
MAGMA_CTR_ACPKM = "1.2.643.7.1.1.5.1.1"
MAGMA_CTR_ACPKM_OMAC = "1.2.643.7.1.1.5.1.2"
KUZNYECHIK_CTR_ACPKM = "1.2.643.7.1.1.5.2.1"
KUZNYECHIK_CTR_ACPKM_OMAC = "1.2.643.7.1.1.5.2.2"

# Public-key parameter sets (RFC 7836 section 4; RFC 4357 section 10.8; the curves themselves: signagent.gost).
TC26_256_PARAMSET_A = "1.2.643.7.1.2.1.1.1"
TC26_256_PARAMSET_B = "1.2.643.7.1.2.1.1.2"
TC26_256_PARAMSET_C = "1.2.643.7.1.2.1.1.3"
TC26_256_PARAMSET_D = "1.2.643.7.1.2.1.1.4"
TC26_512_PARAMSET_A = "1.2.643.7.1.2.1.2.1"
TC26_512_PARAMSET_B = "1.2.643.7.1.2.1.2.2"
TC26_512_PARAMSET_C = "1.2.643.7.1.2.1.2.3"
CRYPTOPRO_PARAMSET_A = "1.2.643.2.2.35.1"
CRYPTOPRO_PARAMSET_B = "1.2.643.2.2.35.2"
CRYPTOPRO_PARAMSET_C = "1.2.643.2.2.35.3"
CRYPTOPRO_PARAMSET_XCHA = "1.2.643.2.2.36.0"  # the CryptoPro-A curve
CRYPTOPRO_PARAMSET_XCHB = "1.2.643.2.2.36.1"  # the CryptoPro-C curve

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

# Standard name attributes (X.520, RFC 5280 appendix A.1) and PKCS #9 ones (RFC 2985 section 5).
ATTR_COMMON_NAME = "2.5.4.3"
ATTR_SURNAME = "2.5.4.4"
ATTR_COUNTRY = "2.5.4.6"
ATTR_LOCALITY = "2.5.4.7"
ATTR_STATE_OR_PROVINCE = "2.5.4.8"
ATTR_STREET_ADDRESS = "2.5.4.9"
ATTR_ORGANIZATION = "2.5.4.10"
ATTR_ORGANIZATIONAL_UNIT = "2.5.4.11"
ATTR_TITLE = "2.5.4.12"
ATTR_GIVEN_NAME = "2.5.4.42"
ATTR_EMAIL_ADDRESS = "1.2.840.113549.1.9.1"
ATTR_UNSTRUCTURED_NAME = "1.2.840.113549.1.9.2"

# PKCS #9 / CMS attributes (RFC 2985 section 5.4.2; RFC 5652 section 11; ESS: RFC 2634 5.4, RFC 5035 3).
EXTENSION_REQUEST = "1.2.840.113549.1.9.14"
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_TIME = "1.2.840.113549.1.9.5"
SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12"
SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
# signagent's own signed attribute: the web origin a signature was requested from through the localhost API (value
# UTF8String, the RFC 6454 serialization). An OID under 2.25, derived from a UUID (ITU-T X.667 / ISO/IEC 9834-8:
# valid without registration); UUID fe1a4ec9-918b-474c-b90d-3b1feb5cb7f9.
SIGNAGENT_ORIGIN = "2.25.337760508645543991249662391250807732217"

# CMS content types (RFC 5652 sections 4 and 5).
DATA = "1.2.840.113549.1.7.1"
SIGNED_DATA = "1.2.840.113549.1.7.2"

# Password-based encryption (PKCS #5, RFC 8018 appendix A).
PBKDF2 = "1.2.840.113549.1.5.12"
PBES2 = "1.2.840.113549.1.5.13"

# Foreign digests a CMS may name (RFC 3370 section 2.1; RFC 5754 section 2).
SHA1 = "1.3.14.3.2.26"
SHA256 = "2.16.840.1.101.3.4.2.1"
SHA384 = "2.16.840.1.101.3.4.2.2"
SHA512 = "2.16.840.1.101.3.4.2.3"

# Extended key usages (RFC 5280 section 4.2.1.12).
KP_SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
KP_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
KP_CODE_SIGNING = "1.3.6.1.5.5.7.3.3"
KP_EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
KP_TIME_STAMPING = "1.3.6.1.5.5.7.3.8"
KP_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"

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

# Standard certificate extensions (RFC 5280 section 4.2.1; privateKeyUsagePeriod: RFC 3280 section 4.2.1.4).
EXT_SUBJECT_KEY_IDENTIFIER = "2.5.29.14"
EXT_KEY_USAGE = "2.5.29.15"
EXT_PRIVATE_KEY_USAGE_PERIOD = "2.5.29.16"
EXT_SUBJECT_ALT_NAME = "2.5.29.17"
EXT_ISSUER_ALT_NAME = "2.5.29.18"
EXT_BASIC_CONSTRAINTS = "2.5.29.19"
EXT_NAME_CONSTRAINTS = "2.5.29.30"
EXT_CRL_DISTRIBUTION_POINTS = "2.5.29.31"
EXT_CERTIFICATE_POLICIES = "2.5.29.32"
EXT_POLICY_MAPPINGS = "2.5.29.33"
EXT_AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"
EXT_POLICY_CONSTRAINTS = "2.5.29.36"
EXT_EXTENDED_KEY_USAGE = "2.5.29.37"
EXT_FRESHEST_CRL = "2.5.29.46"
EXT_INHIBIT_ANY_POLICY = "2.5.29.54"
EXT_AUTHORITY_INFO_ACCESS = "1.3.6.1.5.5.7.1.1"  # RFC 5280 section 4.2.2.1
EXT_SUBJECT_INFO_ACCESS = "1.3.6.1.5.5.7.1.11"  # RFC 5280 section 4.2.2.2
EXT_OCSP_NO_CHECK = "1.3.6.1.5.5.7.48.1.5"  # RFC 6960 section 4.2.2.2.1
ANY_POLICY = "2.5.29.32.0"  # RFC 5280 section 4.2.1.4

# CRL extensions (RFC 5280 sections 5.2.4 and 5.2.5).
EXT_DELTA_CRL_INDICATOR = "2.5.29.27"
EXT_ISSUING_DISTRIBUTION_POINT = "2.5.29.28"

# Certificate policies: class of the owner's signature tool (Приказ ФСБ № 796), 1.2.643.100.113.1-6.
POLICY_KS1 = "1.2.643.100.113.1"
POLICY_KS2 = "1.2.643.100.113.2"
POLICY_KS3 = "1.2.643.100.113.3"
POLICY_KV1 = "1.2.643.100.113.4"
POLICY_KV2 = "1.2.643.100.113.5"
POLICY_KA1 = "1.2.643.100.113.6"
POLICY_CLASSES = {
    POLICY_KS1: "КС1",
    POLICY_KS2: "КС2",
    POLICY_KS3: "КС3",
    POLICY_KV1: "КВ1",
    POLICY_KV2: "КВ2",
    POLICY_KA1: "КА1",
}
