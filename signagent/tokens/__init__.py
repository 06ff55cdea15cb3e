"""Token access: PKCS#11 (PyKCS11), PC/SC readers and events, software keys behind one Token protocol."""
