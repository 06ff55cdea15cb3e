"""Software private keys in files: PKCS#8 (RFC 5208 / RFC 5958) and its password-based encryption.

* :mod:`.keyfile` -- GOST R 34.10-2012 keys in PKCS#8 files (RFC 9215 section 4): reading every encoding of d
  found in the wild, writing OpenSSL-compatible PEM atomically;
* :mod:`.pbes2` -- PBES2 (RFC 8018 section 6.2): PBKDF2 with HMAC-SHA-2 or HMAC-Streebog-512, AES-CBC or
  GOST 28147-89 CFB.

Neither is CMS: both sit below ``cms``, ``tokens`` (software keys) and ``service``, above ``x509`` (the
PrivateKeyInfo builder) in the layers of DESIGN.md section 2.
"""
