/* Placeholder: the streebog extension module is being written. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_streebog_c", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__streebog_c(void) { return PyModule_Create(&mod); }
