"""CAdES-BES signing and verification, co-signing, PKCS#10 requests."""
