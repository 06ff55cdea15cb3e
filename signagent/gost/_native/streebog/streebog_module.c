/* signagent.gost._streebog_c: the Streebog (GOST R 34.11-2012) backend, a hashlib-style hash type.
 *
 * Interface (see signagent/gost/_backend.py): Streebog(digest_size, data=b"") with digest_size 32 or 64;
 * update(data), digest(), hexdigest(), copy(); read-only name, digest_size, block_size.
 *
 * Bad input raises the project's typed errors, looked up in signagent.errors when the module is initialised:
 * InvalidTypeError for str, non-buffer objects and buffers that are not contiguous bytes, InvalidInputError for
 * a digest_size other than 32 or 64.
 *
 * Threads: like CPython's hashlib, an update of at least SB_GIL_MINSIZE bytes releases the GIL, and from then on
 * the object carries a lock that every method takes, so that threads sharing one object never see a torn state.
 * The caller's buffer stays exported (PyObject_GetBuffer) while the GIL is released, so a bytearray cannot be
 * resized, nor an mmap closed, under the hash.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#include <string.h>

#include "streebog.h"

/* Below this many bytes, releasing and re-taking the GIL costs more than it lets other threads gain
 * (CPython's hashlib uses the same figure). */
#define SB_GIL_MINSIZE 2048

typedef struct {
    PyTypeObject *hash_type;
    PyObject *invalid_type_error;
    PyObject *invalid_input_error;
} module_state;

typedef struct {
    PyObject_HEAD
    PyThread_type_lock lock; /* NULL until the first update that releases the GIL */
    streebog_ctx ctx;
} StreebogObject;

static struct PyModuleDef streebog_module;

static module_state *state_from_type(PyTypeObject *tp)
{
    PyObject *module = PyType_GetModuleByDef(tp, &streebog_module);
    return module == NULL ? NULL : (module_state *)PyModule_GetState(module);
}

/* Raise exc(message, got=got) -- the signagent.errors constructor takes details as keywords; got may be NULL. */
static void raise_typed(PyObject *exc, const char *message, PyObject *got)
{
    PyObject *args = Py_BuildValue("(s)", message);
    PyObject *kwargs = NULL, *err = NULL;
    if (args == NULL) {
        return;
    }
    if (got != NULL) {
        kwargs = Py_BuildValue("{s:O}", "got", got);
        if (kwargs == NULL) {
            Py_DECREF(args);
            return;
        }
    }
    err = PyObject_Call(exc, args, kwargs);
    Py_DECREF(args);
    Py_XDECREF(kwargs);
    if (err != NULL) {
        PyErr_SetObject(exc, err);
        Py_DECREF(err);
    }
}

/* raise_typed with got = the name of obj's type (for wrong-type errors). */
static void raise_wrong_type(PyObject *exc, const char *message, PyObject *obj)
{
    PyObject *name = PyUnicode_FromString(Py_TYPE(obj)->tp_name);
    if (name != NULL) {
        raise_typed(exc, message, name);
        Py_DECREF(name);
    }
}

/* Replace the pending exception by a wrong-type error exc(message), keeping the original as __cause__ (like "raise ... from"). */
static void raise_wrong_type_from_pending(PyObject *exc, const char *message, PyObject *obj)
{
    PyObject *cause_type, *cause, *cause_tb;
    PyObject *new_type, *new_value, *new_tb;
    PyErr_Fetch(&cause_type, &cause, &cause_tb);
    PyErr_NormalizeException(&cause_type, &cause, &cause_tb);
    if (cause_tb != NULL && cause != NULL) {
        PyException_SetTraceback(cause, cause_tb);
    }
    raise_wrong_type(exc, message, obj);
    PyErr_Fetch(&new_type, &new_value, &new_tb);
    PyErr_NormalizeException(&new_type, &new_value, &new_tb);
    if (new_value != NULL && cause != NULL) {
        Py_INCREF(cause);
        PyException_SetContext(new_value, cause); /* steals the new reference */
        PyException_SetCause(new_value, cause);   /* steals our reference */
        cause = NULL;
    }
    Py_XDECREF(cause_type);
    Py_XDECREF(cause);
    Py_XDECREF(cause_tb);
    PyErr_Restore(new_type, new_value, new_tb);
}

/* Get a contiguous byte view of data, or raise a typed error. On success the caller must PyBuffer_Release. */
static int get_bytes_view(module_state *st, PyObject *data, Py_buffer *view)
{
    if (PyUnicode_Check(data)) {
        raise_wrong_type(st->invalid_type_error, "Strings must be encoded before hashing", data);
        return -1;
    }
    if (!PyObject_CheckBuffer(data)) {
        raise_wrong_type(st->invalid_type_error, "object supporting the buffer API required", data);
        return -1;
    }
    /* PyBUF_SIMPLE asks for one contiguous run of bytes; exporters refuse it for strided views. */
    if (PyObject_GetBuffer(data, view, PyBUF_SIMPLE) < 0) {
        if (PyErr_ExceptionMatches(PyExc_BufferError)) {
            raise_wrong_type_from_pending(st->invalid_type_error, "a contiguous bytes-like object is required", data);
        } else if (PyErr_ExceptionMatches(PyExc_ValueError)) { /* e.g. a released memoryview */
            raise_wrong_type_from_pending(st->invalid_input_error, "the buffer cannot be read", data);
        }
        return -1;
    }
    if (view->len < 0 || (view->len > 0 && view->buf == NULL)) { /* defensive: a broken exporter */
        PyBuffer_Release(view);
        raise_wrong_type(st->invalid_input_error, "the buffer reports an invalid length", data);
        return -1;
    }
    return 0;
}

/* Take the object's lock, if it has one, without ever blocking while holding the GIL. */
static void object_lock(StreebogObject *self)
{
    if (self->lock != NULL && !PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}

static void object_unlock(StreebogObject *self)
{
    if (self->lock != NULL) {
        PyThread_release_lock(self->lock);
    }
}

/* Hash the bytes of data into self; 0 or -1 with an exception set. */
static int absorb(StreebogObject *self, module_state *st, PyObject *data)
{
    Py_buffer view;
    if (get_bytes_view(st, data, &view) < 0) {
        return -1;
    }
    if (view.len >= SB_GIL_MINSIZE && self->lock == NULL) {
        /* Created while holding the GIL, so no other thread can be inside a method of self right now. */
        self->lock = PyThread_allocate_lock();
        /* On failure, just keep the GIL during the update: correct, only less concurrent. */
    }
    if (view.len >= SB_GIL_MINSIZE && self->lock != NULL) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        streebog_update(&self->ctx, view.buf, (size_t)view.len);
        PyThread_release_lock(self->lock);
        Py_END_ALLOW_THREADS
    } else {
        object_lock(self);
        streebog_update(&self->ctx, view.buf, (size_t)view.len);
        object_unlock(self);
    }
    PyBuffer_Release(&view);
    return 0;
}

static StreebogObject *new_object(PyTypeObject *tp)
{
    StreebogObject *self = PyObject_New(StreebogObject, tp);
    if (self != NULL) {
        self->lock = NULL;
    }
    return self;
}

static PyObject *Streebog_new(PyTypeObject *tp, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"digest_size", "data", NULL};
    PyObject *size_obj = NULL, *data = NULL;
    module_state *st = state_from_type(tp);
    long size;
    int overflow = 0;
    StreebogObject *self;

    if (st == NULL) {
        return NULL;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:Streebog", kwlist, &size_obj, &data)) {
        return NULL;
    }
    if (PyBool_Check(size_obj) || !PyLong_Check(size_obj)) {
        raise_wrong_type(st->invalid_type_error, "digest_size must be an int (32 or 64)", size_obj);
        return NULL;
    }
    size = PyLong_AsLongAndOverflow(size_obj, &overflow);
    if (size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow != 0 || (size != 32 && size != 64)) {
        raise_typed(st->invalid_input_error, "Streebog digest_size must be 32 or 64", size_obj);
        return NULL;
    }
    self = new_object(tp);
    if (self == NULL) {
        return NULL;
    }
    streebog_init(&self->ctx, (unsigned)size);
    if (data != NULL && absorb(self, st, data) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void Streebog_dealloc(StreebogObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    /* The state may derive from secret data (HMAC keys): wipe it through a volatile pointer so that the
     * compiler cannot drop the stores to memory that is about to be freed. */
    volatile unsigned char *p = (volatile unsigned char *)&self->ctx;
    for (size_t i = 0; i < sizeof self->ctx; i++) {
        p[i] = 0;
    }
    if (self->lock != NULL) {
        PyThread_free_lock(self->lock);
    }
    PyObject_Free(self);
    Py_DECREF(tp);
}

PyDoc_STRVAR(update_doc, "update($self, data, /)\n--\n\nAdd data (any contiguous bytes-like object) to the message.");

static PyObject *Streebog_update(StreebogObject *self, PyObject *data)
{
    module_state *st = state_from_type(Py_TYPE(self));
    if (st == NULL || absorb(self, st, data) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The digest of the current state; the object is left as it was, so hashing may go on. */
static unsigned current_digest(StreebogObject *self, uint8_t out[64])
{
    streebog_ctx snapshot;
    object_lock(self);
    memcpy(&snapshot, &self->ctx, sizeof snapshot);
    object_unlock(self);
    streebog_final(&snapshot, out);
    return snapshot.digest_size;
}

PyDoc_STRVAR(digest_doc, "digest($self, /)\n--\n\nThe hash code as bytes (the byte order of OpenSSL and CMS/X.509).");

static PyObject *Streebog_digest(StreebogObject *self, PyObject *Py_UNUSED(ignored))
{
    uint8_t out[64];
    unsigned n = current_digest(self, out);
    return PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)n);
}

PyDoc_STRVAR(hexdigest_doc, "hexdigest($self, /)\n--\n\nThe hash code as a string of lowercase hex digits.");

static PyObject *Streebog_hexdigest(StreebogObject *self, PyObject *Py_UNUSED(ignored))
{
    static const char digits[] = "0123456789abcdef";
    uint8_t out[64];
    unsigned n = current_digest(self, out);
    PyObject *s = PyUnicode_New((Py_ssize_t)(2 * n), 127);
    if (s == NULL) {
        return NULL;
    }
    Py_UCS1 *chars = PyUnicode_1BYTE_DATA(s);
    for (unsigned i = 0; i < n; i++) {
        chars[2 * i] = (Py_UCS1)digits[out[i] >> 4];
        chars[2 * i + 1] = (Py_UCS1)digits[out[i] & 0x0f];
    }
    return s;
}

PyDoc_STRVAR(copy_doc, "copy($self, /)\n--\n\nAn independent copy of the hash object in its current state.");

static PyObject *Streebog_copy(StreebogObject *self, PyObject *Py_UNUSED(ignored))
{
    StreebogObject *other = new_object(Py_TYPE(self));
    if (other == NULL) {
        return NULL;
    }
    object_lock(self);
    memcpy(&other->ctx, &self->ctx, sizeof other->ctx);
    object_unlock(self);
    return (PyObject *)other;
}

static PyObject *Streebog_get_name(StreebogObject *self, void *Py_UNUSED(closure))
{
    return PyUnicode_FromString(self->ctx.digest_size == 32 ? "streebog256" : "streebog512");
}

static PyObject *Streebog_get_digest_size(StreebogObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLong(self->ctx.digest_size);
}

static PyObject *Streebog_get_block_size(StreebogObject *Py_UNUSED(self), void *Py_UNUSED(closure))
{
    return PyLong_FromLong(STREEBOG_BLOCK_SIZE);
}

static PyObject *Streebog_repr(StreebogObject *self)
{
    return PyUnicode_FromFormat("<%s native hash object at %p>",
                                self->ctx.digest_size == 32 ? "streebog256" : "streebog512", (void *)self);
}

static PyMethodDef Streebog_methods[] = {
    {"update", (PyCFunction)Streebog_update, METH_O, update_doc},
    {"digest", (PyCFunction)Streebog_digest, METH_NOARGS, digest_doc},
    {"hexdigest", (PyCFunction)Streebog_hexdigest, METH_NOARGS, hexdigest_doc},
    {"copy", (PyCFunction)Streebog_copy, METH_NOARGS, copy_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Streebog_getset[] = {
    {"name", (getter)Streebog_get_name, NULL, "\"streebog256\" or \"streebog512\".", NULL},
    {"digest_size", (getter)Streebog_get_digest_size, NULL, "Size of the hash code in bytes (32 or 64).", NULL},
    {"block_size", (getter)Streebog_get_block_size, NULL, "Internal block size in bytes (64).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Streebog_doc,
             "Streebog(digest_size, data=b\"\")\n--\n\n"
             "GOST R 34.11-2012 hash object with a 32-byte (256-bit) or 64-byte (512-bit) hash code.\n"
             "digest() does not finalise the object: it may be called again and more data added afterwards.");

static PyType_Slot Streebog_slots[] = {
    {Py_tp_new, Streebog_new},
    {Py_tp_dealloc, Streebog_dealloc},
    {Py_tp_repr, Streebog_repr},
    {Py_tp_methods, Streebog_methods},
    {Py_tp_getset, Streebog_getset},
    {Py_tp_doc, (void *)Streebog_doc},
    {0, NULL},
};

static PyType_Spec Streebog_spec = {
    .name = "signagent.gost._streebog_c.Streebog",
    .basicsize = sizeof(StreebogObject),
    .itemsize = 0,
    /* Not a base type (like hashlib's objects); immutable so that its methods cannot be swapped at run time. */
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Streebog_slots,
};

static int load_error(PyObject *errors, const char *name, PyObject **slot)
{
    *slot = PyObject_GetAttrString(errors, name);
    if (*slot == NULL) {
        return -1;
    }
    if (!PyType_Check(*slot) || !PyType_IsSubtype((PyTypeObject *)*slot, (PyTypeObject *)PyExc_Exception)) {
        PyErr_Format(PyExc_ImportError, "signagent.errors.%s is not an exception class", name);
        return -1;
    }
    return 0;
}

static int module_exec(PyObject *module)
{
    module_state *st = PyModule_GetState(module);
    PyObject *errors;
    int rc;

    streebog_tables_init();
    errors = PyImport_ImportModule("signagent.errors");
    if (errors == NULL) {
        return -1;
    }
    rc = load_error(errors, "InvalidTypeError", &st->invalid_type_error);
    if (rc == 0) {
        rc = load_error(errors, "InvalidInputError", &st->invalid_input_error);
    }
    Py_DECREF(errors);
    if (rc < 0) {
        return -1;
    }
    st->hash_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Streebog_spec, NULL);
    if (st->hash_type == NULL) {
        return -1;
    }
    if (PyModule_AddType(module, st->hash_type) < 0) {
        return -1;
    }
    return PyModule_AddIntConstant(module, "GIL_MINSIZE", SB_GIL_MINSIZE);
}

static int module_traverse(PyObject *module, visitproc visit, void *arg)
{
    module_state *st = PyModule_GetState(module);
    Py_VISIT(st->hash_type);
    Py_VISIT(st->invalid_type_error);
    Py_VISIT(st->invalid_input_error);
    return 0;
}

static int module_clear(PyObject *module)
{
    module_state *st = PyModule_GetState(module);
    Py_CLEAR(st->hash_type);
    Py_CLEAR(st->invalid_type_error);
    Py_CLEAR(st->invalid_input_error);
    return 0;
}

static void module_free(void *module)
{
    module_clear((PyObject *)module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

PyDoc_STRVAR(module_doc, "Native GOST R 34.11-2012 (Streebog) hash: the C backend of signagent.gost.streebog.");

static struct PyModuleDef streebog_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "signagent.gost._streebog_c",
    .m_doc = module_doc,
    .m_size = sizeof(module_state),
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__streebog_c(void)
{
    return PyModuleDef_Init(&streebog_module);
}
