#include "speedups.h"

/* resp(*args): one RESP command, "*<argc>\r\n" then "$<len>\r\n<bytes>\r\n" per
   argument (FORMAT.md 8.1); arguments are bytes (other buffers are copied to bytes
   first). One allocation, one copy. */
PyObject *sp_resp(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t total = 3 + 20;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        if (!PyBytes_Check(args[i])) {
            /* a memoryview or bytearray: again, with every argument as bytes */
            PyObject *conv = PyTuple_New(nargs);
            if (!conv) return NULL;
            for (Py_ssize_t j = 0; j < nargs; j++) {
                PyObject *b = PyBytes_FromObject(args[j]);
                if (!b) { Py_DECREF(conv); return NULL; }
                PyTuple_SET_ITEM(conv, j, b);
            }
            PyObject *res = sp_resp(NULL, &PyTuple_GET_ITEM(conv, 0), nargs);
            Py_DECREF(conv);
            return res;
        }
        total += PyBytes_GET_SIZE(args[i]) + 5 + 20;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (!out) return NULL;
    char *p = PyBytes_AS_STRING(out);
    *p++ = '*';
    p += dec_len(nargs, p);
    *p++ = '\r'; *p++ = '\n';
    for (Py_ssize_t i = 0; i < nargs; i++) {
        Py_ssize_t n = PyBytes_GET_SIZE(args[i]);
        *p++ = '$';
        p += dec_len(n, p);
        *p++ = '\r'; *p++ = '\n';
        memcpy(p, PyBytes_AS_STRING(args[i]), (size_t)n);
        p += n;
        *p++ = '\r'; *p++ = '\n';
    }
    if (_PyBytes_Resize(&out, p - PyBytes_AS_STRING(out)) < 0) return NULL;
    return out;
}
