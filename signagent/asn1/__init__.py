"""OIDs and ASN.1 structures missing from asn1crypto (GOST keys and parameters, Russian attributes, CAdES)."""
