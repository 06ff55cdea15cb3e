/*
 * Python glue of the GOST R 34.10-2012 core: the extension module signagent.gost._ec_c with the CurveEngine
 * type described in signagent/gost/_backend.py. All arithmetic lives in the plain C files (ec_core.h); this file
 * only checks and copies arguments, maps status codes to signagent.errors and releases the GIL around the
 * long computations.
 *
 * Every argument is copied into a local buffer before the GIL is released, so a bytearray mutated by another
 * thread cannot change under the computation. The fixed-base tables are built once, with the GIL held, before
 * the first operation that needs them; afterwards an engine is read-only and safe to share between threads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "ec_core.h"
#include "ec_ct.h"

#define MAXSIZE 64

/* Classes of signagent.errors, fetched at import time. */
static PyObject *InvalidInputError, *InvalidTypeError, *InvalidLengthError, *InvalidKeyError, *InvalidPointError,
    *SignAgentError;
/* A signature of the wrong length is both malformed (InvalidSignatureFormatError, what the reference raises) and
 * of the wrong length (InvalidLengthError): one class derived from both, created at import time. */
static PyObject *SignatureLengthError;

typedef struct {
    PyObject_HEAD ec_engine *eng;
    Py_ssize_t size;
} EngineObject;

/* Copy the bytes-like obj of exactly want bytes into dst; on error set a signagent error and return -1. */
static int take_bytes(PyObject *obj, const char *what, Py_ssize_t want, uint8_t *dst)
{
    if (PyUnicode_Check(obj) || !PyObject_CheckBuffer(obj)) {
        PyErr_Format(InvalidTypeError, "%s must be bytes, not %.80s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) != 0) {
        PyErr_Clear();
        PyErr_Format(InvalidTypeError, "%s must be a contiguous bytes-like object", what);
        return -1;
    }
    if (view.len != want) {
        Py_ssize_t got = view.len;
        PyBuffer_Release(&view);
        PyErr_Format(InvalidLengthError, "%s must be %zd bytes long, not %zd", what, want, got);
        return -1;
    }
    memcpy(dst, view.buf, (size_t)want);
    PyBuffer_Release(&view);
    return 0;
}

/* Raise the signagent error for a core status code. */
static PyObject *raise_status(int rc)
{
    switch (rc) {
    case EC_ERR_PARAM:
        PyErr_SetString(InvalidInputError, "the curve parameters do not define a valid GOST R 34.10 curve");
        break;
    case EC_ERR_RANGE:
        PyErr_SetString(InvalidKeyError, "scalar out of range (0 < value < q required)");
        break;
    case EC_ERR_POINT:
        PyErr_SetString(InvalidPointError, "the point is not on the curve");
        break;
    case EC_ERR_BASEPOINT:
        PyErr_SetString(InvalidPointError, "the base point is not on the curve or does not have order q");
        break;
    case EC_ERR_RNG:
        PyErr_SetString(SignAgentError, "the operating system's random number generator failed");
        break;
    case EC_ERR_NOMEM:
        PyErr_NoMemory();
        break;
    case EC_ERR_NONCE:
        PyErr_SetString(InvalidKeyError, "the given nonce k yields r = 0 or s = 0; choose another k");
        break;
    case EC_ERR_SIZE:
        PyErr_SetString(InvalidLengthError, "curve parameters must be 32 or 64 bytes long");
        break;
    default:
        PyErr_Format(SignAgentError, "internal error in the GOST R 34.10 core (status %d)", rc);
        break;
    }
    return NULL;
}

static int ensure_tables(EngineObject *self)
{
    if (ec_engine_ready(self->eng))
        return 0;
    int rc = ec_engine_precompute(self->eng); /* GIL held: no other thread can build them at the same time */
    if (rc != EC_OK) {
        raise_status(rc);
        return -1;
    }
    return 0;
}

/* A scalar argument that must lie in 0 < x < q. */
static int take_scalar(EngineObject *self, PyObject *obj, const char *what, PyObject *err_class, uint8_t *dst)
{
    if (take_bytes(obj, what, self->size, dst) != 0)
        return -1;
    if (!ec_scalar_ok(self->eng, dst)) {
        ec_wipe(dst, (size_t)self->size);
        PyErr_Format(err_class, "%s out of range (0 < %s < q required)", what, what);
        return -1;
    }
    return 0;
}

static PyObject *Engine_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"p", "a", "b", "q", "gx", "gy", NULL};
    static const char *names[] = {"p", "a", "b", "q", "gx", "gy"};
    PyObject *objs[6];
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOO:CurveEngine", kwlist, &objs[0], &objs[1], &objs[2],
                                     &objs[3], &objs[4], &objs[5]))
        return NULL;
    uint8_t buf[6][MAXSIZE];
    Py_ssize_t size = -1;
    for (int i = 0; i < 6; i++) {
        if (PyUnicode_Check(objs[i]) || !PyObject_CheckBuffer(objs[i])) {
            PyErr_Format(InvalidTypeError, "%s must be bytes, not %.80s", names[i], Py_TYPE(objs[i])->tp_name);
            return NULL;
        }
        if (size < 0) {
            Py_buffer view;
            if (PyObject_GetBuffer(objs[i], &view, PyBUF_SIMPLE) != 0) {
                PyErr_Clear();
                PyErr_Format(InvalidTypeError, "%s must be a contiguous bytes-like object", names[i]);
                return NULL;
            }
            size = view.len;
            PyBuffer_Release(&view);
            if (size != 32 && size != 64) {
                PyErr_Format(InvalidLengthError, "curve parameters must be 32 or 64 bytes long, not %zd", size);
                return NULL;
            }
        }
        if (take_bytes(objs[i], names[i], size, buf[i]) != 0)
            return NULL;
    }
    ec_engine *eng = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ec_engine_new(&eng, (size_t)size, buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]);
    Py_END_ALLOW_THREADS
    if (rc != EC_OK)
        return raise_status(rc);
    EngineObject *self = (EngineObject *)type->tp_alloc(type, 0);
    if (!self) {
        ec_engine_free(eng);
        return NULL;
    }
    self->eng = eng;
    self->size = size;
    return (PyObject *)self;
}

static void Engine_dealloc(EngineObject *self)
{
    ec_engine_free(self->eng);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(sign_doc, "sign(d, e, k=None) -> bytes\n\n"
                       "GOST R 34.10-2012 signature s || r (big-endian halves) of e (0 < e < q) with the private\n"
                       "key d (0 < d < q). k=None draws the nonce from the OS CSPRNG; a given k (0 < k < q) is\n"
                       "only for known-answer tests. Constant time in d and k.");

static PyObject *Engine_sign(EngineObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"d", "e", "k", NULL};
    PyObject *od, *oe, *ok = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O:sign", kwlist, &od, &oe, &ok))
        return NULL;
    uint8_t d[MAXSIZE], e[MAXSIZE], k[MAXSIZE], sig[2 * MAXSIZE];
    PyObject *result = NULL;
    int have_k = ok != Py_None;
    if (take_scalar(self, od, "d", InvalidKeyError, d) != 0)
        return NULL;
    if (take_scalar(self, oe, "e", InvalidInputError, e) != 0)
        goto done;
    if (have_k && take_scalar(self, ok, "k", InvalidKeyError, k) != 0)
        goto done;
    if (ensure_tables(self) != 0)
        goto done;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ec_sign(self->eng, d, e, have_k ? k : NULL, sig);
    Py_END_ALLOW_THREADS
    if (rc != EC_OK)
        raise_status(rc);
    else
        result = PyBytes_FromStringAndSize((const char *)sig, 2 * self->size);
done:
    ec_wipe(d, sizeof d);
    ec_wipe(k, sizeof k);
    return result;
}

PyDoc_STRVAR(verify_doc, "verify(qx, qy, e, sig) -> bool\n\n"
                         "GOST R 34.10-2012 section 6.2 check of sig = s || r over e (0 < e < q) with the public\n"
                         "key (qx, qy). False for any out-of-range r or s and for a key that is not on the curve.");

static PyObject *Engine_verify(EngineObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"qx", "qy", "e", "sig", NULL};
    PyObject *ox, *oy, *oe, *os;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOO:verify", kwlist, &ox, &oy, &oe, &os))
        return NULL;
    uint8_t qx[MAXSIZE], qy[MAXSIZE], e[MAXSIZE], sig[2 * MAXSIZE];
    if (take_bytes(ox, "qx", self->size, qx) != 0 || take_bytes(oy, "qy", self->size, qy) != 0 ||
        take_bytes(oe, "e", self->size, e) != 0)
        return NULL;
    if (take_bytes(os, "sig", 2 * self->size, sig) != 0) {
        if (PyErr_ExceptionMatches(InvalidLengthError)) {
            PyErr_Clear();
            PyErr_Format(SignatureLengthError, "a signature on this curve is %zd bytes (s || r)", 2 * self->size);
        }
        return NULL;
    }
    if (!ec_scalar_ok(self->eng, e)) {
        PyErr_SetString(InvalidInputError, "e out of range (0 < e < q required)");
        return NULL;
    }
    if (ensure_tables(self) != 0)
        return NULL;
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = ec_verify(self->eng, qx, qy, e, sig);
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(ok == 1);
}

PyDoc_STRVAR(public_key_doc, "public_key(d) -> bytes\n\n"
                             "The public key d*G as X || Y (big-endian halves) for 0 < d < q. Constant time in d.");

static PyObject *Engine_public_key(EngineObject *self, PyObject *od)
{
    uint8_t d[MAXSIZE], out[2 * MAXSIZE];
    if (take_scalar(self, od, "d", InvalidKeyError, d) != 0)
        return NULL;
    PyObject *result = NULL;
    if (ensure_tables(self) == 0) {
        int rc;
        Py_BEGIN_ALLOW_THREADS
        rc = ec_public_key(self->eng, d, out);
        Py_END_ALLOW_THREADS
        result = rc == EC_OK ? PyBytes_FromStringAndSize((const char *)out, 2 * self->size) : raise_status(rc);
    }
    ec_wipe(d, sizeof d);
    return result;
}

PyDoc_STRVAR(check_point_doc, "check_point(x, y) -> bool\n\n"
                              "True when (x, y) lies on the curve, is not the point at infinity and q*(x, y) = O.");

static PyObject *Engine_check_point(EngineObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", "y", NULL};
    PyObject *ox, *oy;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:check_point", kwlist, &ox, &oy))
        return NULL;
    uint8_t x[MAXSIZE], y[MAXSIZE];
    if (take_bytes(ox, "x", self->size, x) != 0 || take_bytes(oy, "y", self->size, y) != 0)
        return NULL;
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = ec_check_point(self->eng, x, y);
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(ok == 1);
}

PyDoc_STRVAR(mul_doc, "mul(k, x, y) -> bytes | None\n\n"
                      "k*(x, y) as X || Y for any size-byte k and a point on the curve (InvalidPointError\n"
                      "otherwise), None for the point at infinity. Constant time in k (Montgomery ladder).");

static PyObject *Engine_mul(EngineObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"k", "x", "y", NULL};
    PyObject *okk, *ox, *oy;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:mul", kwlist, &okk, &ox, &oy))
        return NULL;
    uint8_t k[MAXSIZE], x[MAXSIZE], y[MAXSIZE], out[2 * MAXSIZE];
    if (take_bytes(ox, "x", self->size, x) != 0 || take_bytes(oy, "y", self->size, y) != 0)
        return NULL;
    if (take_bytes(okk, "k", self->size, k) != 0)
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ec_mul(self->eng, k, x, y, out);
    Py_END_ALLOW_THREADS
    ec_wipe(k, sizeof k);
    if (rc == EC_INFINITY)
        Py_RETURN_NONE;
    if (rc != EC_OK)
        return raise_status(rc);
    return PyBytes_FromStringAndSize((const char *)out, 2 * self->size);
}

static PyObject *Engine_get_size(EngineObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(self->size);
}

static PyMethodDef Engine_methods[] = {
    {"sign", (PyCFunction)(void (*)(void))Engine_sign, METH_VARARGS | METH_KEYWORDS, sign_doc},
    {"verify", (PyCFunction)(void (*)(void))Engine_verify, METH_VARARGS | METH_KEYWORDS, verify_doc},
    {"public_key", (PyCFunction)Engine_public_key, METH_O, public_key_doc},
    {"check_point", (PyCFunction)(void (*)(void))Engine_check_point, METH_VARARGS | METH_KEYWORDS, check_point_doc},
    {"mul", (PyCFunction)(void (*)(void))Engine_mul, METH_VARARGS | METH_KEYWORDS, mul_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Engine_getset[] = {
    {"size", (getter)Engine_get_size, NULL, "bytes of p, of a scalar and of one coordinate (32 or 64)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Engine_doc, "CurveEngine(p, a, b, q, gx, gy)\n\n"
                         "GOST R 34.10-2012 on y^2 = x^3 + a*x + b over GF(p) with a base point (gx, gy) of prime\n"
                         "order q; every argument is big-endian bytes of one length, 32 or 64. The parameters are\n"
                         "validated (p, q prime, the point on the curve and of order q).");

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "signagent.gost._ec_c.CurveEngine",
    .tp_basicsize = sizeof(EngineObject),
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Engine_doc,
    .tp_methods = Engine_methods,
    .tp_getset = Engine_getset,
    .tp_new = Engine_new,
};

static struct PyModuleDef ec_module = {
    PyModuleDef_HEAD_INIT, "_ec_c",
    "Native GOST R 34.10-2012 core (constant-time signing, fast verification); see signagent.gost._backend.", -1,
    NULL, NULL, NULL, NULL, NULL,
};

static PyObject *error_class(PyObject *errors, const char *name)
{
    PyObject *cls = PyObject_GetAttrString(errors, name);
    if (cls && !PyType_Check(cls)) {
        Py_DECREF(cls);
        PyErr_Format(PyExc_ImportError, "signagent.errors.%s is not a class", name);
        return NULL;
    }
    return cls;
}

PyMODINIT_FUNC PyInit__ec_c(void)
{
    PyObject *errors = PyImport_ImportModule("signagent.errors");
    if (!errors)
        return NULL;
    InvalidInputError = error_class(errors, "InvalidInputError");
    InvalidTypeError = error_class(errors, "InvalidTypeError");
    InvalidLengthError = error_class(errors, "InvalidLengthError");
    InvalidKeyError = error_class(errors, "InvalidKeyError");
    InvalidPointError = error_class(errors, "InvalidPointError");
    SignAgentError = error_class(errors, "SignAgentError");
    PyObject *format_error = error_class(errors, "InvalidSignatureFormatError");
    Py_DECREF(errors);
    if (!InvalidInputError || !InvalidTypeError || !InvalidLengthError || !InvalidKeyError || !InvalidPointError ||
        !SignAgentError || !format_error) {
        Py_XDECREF(format_error);
        return NULL;
    }
    PyObject *bases = PyTuple_Pack(2, format_error, InvalidLengthError);
    Py_DECREF(format_error);
    if (!bases)
        return NULL;
    SignatureLengthError = PyErr_NewExceptionWithDoc(
        "signagent.gost._ec_c.SignatureLengthError",
        "A signature value of the wrong length (both InvalidSignatureFormatError and InvalidLengthError).", bases,
        NULL);
    Py_DECREF(bases);
    if (!SignatureLengthError)
        return NULL;
    if (PyType_Ready(&EngineType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&ec_module);
    if (!m)
        return NULL;
    Py_INCREF(SignatureLengthError);
    if (PyModule_AddObject(m, "SignatureLengthError", SignatureLengthError) < 0) {
        Py_DECREF(SignatureLengthError);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&EngineType);
    if (PyModule_AddObject(m, "CurveEngine", (PyObject *)&EngineType) < 0) {
        Py_DECREF(&EngineType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
