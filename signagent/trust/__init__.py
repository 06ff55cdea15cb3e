"""Trust store, path building and validation, CRL/OCSP, validation reports."""
