"""Independent implementations that the tests and benchmarks compare signagent against (OpenSSL's GOST engine)."""
