"""A test PKI of GOST certificates with real qualified content, CRLs and an OCSP responder, for testers and tests."""
