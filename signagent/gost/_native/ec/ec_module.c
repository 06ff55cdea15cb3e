/* Placeholder: the ec extension module is being written. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_ec_c", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__ec_c(void) { return PyModule_Create(&mod); }
