#include "speedups.h"

/* lzf(data, ulen) -> bytes: liblzf's lzf_decompress into a bytes object of exactly
 * `ulen` bytes, allocated once (python-lzf's decompress holds two copies at its peak).
 * A token is a literal run (ctrl < 32: ctrl + 1 bytes follow) or a back reference
 * (length ctrl >> 5, 7 = extended by the next byte, + 2; distance from the 13 bits of
 * ctrl & 0x1f and the next byte, + 1). */
PyObject *sp_lzf(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    Py_ssize_t ulen;
    if (!PyArg_ParseTuple(args, "y*n", &view, &ulen))
        return NULL;
    PyObject *out = NULL;
    if (ulen < 0) {
        corrupt(NULL, "negative uncompressed length");
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, ulen);
    if (out == NULL)
        goto done;
    unsigned char *o0 = (unsigned char *)PyBytes_AS_STRING(out), *op = o0, *oe = o0 + ulen;
    const unsigned char *ip = view.buf, *ie = ip + view.len;
    while (ip < ie) {
        size_t ctrl = *ip++;
        if (ctrl < 32) {
            ctrl++;
            if ((size_t)(oe - op) < ctrl) { out = corrupt(out, "inflates past the stated %zd bytes", ulen); goto done; }
            if ((size_t)(ie - ip) < ctrl) { out = corrupt(out, "literal run past the end of the data"); goto done; }
            memcpy(op, ip, ctrl);
            op += ctrl;
            ip += ctrl;
        } else {
            size_t len = ctrl >> 5;
            size_t dist = ((ctrl & 0x1f) << 8) + 1;
            if (len == 7) {
                if (ip >= ie) { out = corrupt(out, "back reference past the end of the data"); goto done; }
                len += *ip++;
            }
            if (ip >= ie) { out = corrupt(out, "back reference past the end of the data"); goto done; }
            dist += *ip++;
            len += 2;
            if ((size_t)(oe - op) < len) { out = corrupt(out, "inflates past the stated %zd bytes", ulen); goto done; }
            if ((size_t)(op - o0) < dist) { out = corrupt(out, "back reference before the start of the output"); goto done; }
            const unsigned char *ref = op - dist;
            while (len--) *op++ = *ref++;
        }
    }
    if (op != oe)
        out = corrupt(out, "inflates to %zd bytes, not the stated %zd", (Py_ssize_t)(op - o0), ulen);
done:
    PyBuffer_Release(&view);
    return out;
}
