"""Sources of the simulator's loadable PKCS#11 module: the function table, C shims, cffi build and init code."""
