"""pkcs11_sim: a software GOST R 34.10-2012 token (PKCS#11 module, persistent store, virtual PC/SC card).

Being built (issue: pkcs11_sim); the package exists so that the project layout of DESIGN.md section 2 holds.
"""
