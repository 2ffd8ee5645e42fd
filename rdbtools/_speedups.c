/*
 * C versions of the hot blob decoders of rdbtools/rdb/_encodings.py: listpack and
 * ziplist (FORMAT.md §4.A, §4.B). Same results and same checks as the Python versions,
 * which stay the reference and the fallback when this module is not built. On a
 * structural problem they raise ValueError with a message; the Python wrapper turns it
 * into CorruptInput.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

static PyObject *small_ints_text[8192 + 4096]; /* decimal text of -4096..8191 */

static PyObject *int_text(int64_t v, int as_int) {
    if (as_int)
        return PyLong_FromLongLong((long long)v);
    if (v >= -4096 && v < 8192) {
        PyObject *o = small_ints_text[v + 4096];
        Py_INCREF(o);
        return o;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    return PyBytes_FromStringAndSize(buf, n);
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int64_t le_signed(const unsigned char *p, int n) {
    uint64_t u = 0;
    for (int i = 0; i < n; i++)
        u |= (uint64_t)p[i] << (8 * i);
    if (n < 8 && (u >> (8 * n - 1)) & 1)
        u |= ~(uint64_t)0 << (8 * n);
    return (int64_t)u;
}

static int backlen_size(uint64_t n) {
    if (n <= 127) return 1;
    if (n < 16383) return 2;
    if (n < 2097151) return 3;
    if (n < 268435455) return 4;
    return 5;
}

static PyObject *corrupt(PyObject *list, const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    Py_XDECREF(list);
    PyErr_SetString(PyExc_ValueError, msg);
    return NULL;
}

static int append_steal(PyObject *list, PyObject *item) {
    if (item == NULL)
        return -1;
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc;
}

/* listpack(blob, ints=False) -> list */
static PyObject *sp_listpack(PyObject *self, PyObject *args) {
    Py_buffer view;
    int ints = 0;
    if (!PyArg_ParseTuple(args, "y*|p", &view, &ints))
        return NULL;
    const unsigned char *b = view.buf;
    Py_ssize_t n = view.len;
    PyObject *out = NULL;
    if (n < 7) {
        corrupt(NULL, "listpack of %zd bytes is shorter than its header", n);
        goto done;
    }
    uint32_t total = le32(b);
    unsigned count = (unsigned)b[4] | ((unsigned)b[5] << 8);
    if ((Py_ssize_t)total != n) {
        corrupt(NULL, "listpack header says %u bytes, blob holds %zd", total, n);
        goto done;
    }
    if (b[n - 1] != 0xFF) {
        corrupt(NULL, "listpack does not end with 0xff (last byte 0x%02x)", b[n - 1]);
        goto done;
    }
    out = PyList_New(0);
    if (out == NULL)
        goto done;
    Py_ssize_t p = 6, end = n - 1;
    while (p < end) {
        unsigned c = b[p];
        PyObject *item;
        if (c < 0x80) {
            item = int_text(c, ints);
            p += 2;
        } else if (c < 0xC0) {
            Py_ssize_t len = c & 0x3F;
            if (p + 1 + len > end) { out = corrupt(out, "listpack string at +%zd overruns", p); goto done; }
            item = PyBytes_FromStringAndSize((const char *)b + p + 1, len);
            p += 1 + len + 1;
        } else if (c < 0xE0) {
            if (p + 1 >= end) { out = corrupt(out, "listpack entry runs past the end of the blob"); goto done; }
            int u = ((c & 0x1F) << 8) | b[p + 1];
            item = int_text(u >= 4096 ? u - 8192 : u, ints);
            p += 3;
        } else if (c < 0xF0) {
            if (p + 1 >= end) { out = corrupt(out, "listpack entry runs past the end of the blob"); goto done; }
            Py_ssize_t len = ((c & 0x0F) << 8) | b[p + 1];
            if (p + 2 + len > end) { out = corrupt(out, "listpack string at +%zd overruns", p); goto done; }
            item = PyBytes_FromStringAndSize((const char *)b + p + 2, len);
            p += 2 + len + (len <= 125 ? 1 : 2);
        } else if (c == 0xF0) {
            if (p + 5 > end) { out = corrupt(out, "listpack entry runs past the end of the blob"); goto done; }
            uint64_t len = le32(b + p + 1);
            if ((uint64_t)p + 5 + len > (uint64_t)end) { out = corrupt(out, "listpack string of %llu bytes at +%zd overruns", (unsigned long long)len, p); goto done; }
            item = PyBytes_FromStringAndSize((const char *)b + p + 5, (Py_ssize_t)len);
            p += 5 + (Py_ssize_t)len + backlen_size(len + 5);
        } else if (c >= 0xF1 && c <= 0xF4) {
            static const int width[] = {2, 3, 4, 8};
            int w = width[c - 0xF1];
            if (p + 1 + w > end) { out = corrupt(out, "listpack entry runs past the end of the blob"); goto done; }
            item = int_text(le_signed(b + p + 1, w), ints);
            p += 1 + w + 1;
        } else {
            out = corrupt(out, "bad listpack entry encoding 0x%02x at +%zd", c, p);
            goto done;
        }
        if (append_steal(out, item) < 0) { Py_CLEAR(out); goto done; }
    }
    if (p != end) {
        out = corrupt(out, "listpack entries overrun its end (+%zd vs +%zd)", p, end);
        goto done;
    }
    if (count != 0xFFFF && (Py_ssize_t)count != PyList_GET_SIZE(out)) {
        out = corrupt(out, "listpack header counts %u entries, found %zd", count, PyList_GET_SIZE(out));
        goto done;
    }
done:
    PyBuffer_Release(&view);
    return out;
}

/* ziplist(blob) -> list[bytes] */
static PyObject *sp_ziplist(PyObject *self, PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    const unsigned char *b = view.buf;
    Py_ssize_t n = view.len;
    PyObject *out = NULL;
    if (n < 11) {
        corrupt(NULL, "ziplist of %zd bytes is shorter than its header", n);
        goto done;
    }
    uint32_t zlbytes = le32(b), zltail = le32(b + 4);
    unsigned zllen = (unsigned)b[8] | ((unsigned)b[9] << 8);
    if ((Py_ssize_t)zlbytes != n) {
        corrupt(NULL, "ziplist header says %u bytes, blob holds %zd", zlbytes, n);
        goto done;
    }
    if (b[n - 1] != 0xFF) {
        corrupt(NULL, "ziplist does not end with 0xff (last byte 0x%02x)", b[n - 1]);
        goto done;
    }
    out = PyList_New(0);
    if (out == NULL)
        goto done;
    Py_ssize_t p = 10, end = n - 1, last = 10;
    uint64_t prev = 0;
    while (p < end) {
        Py_ssize_t start = p;
        uint64_t prevlen;
        if (b[p] < 0xFE) {
            prevlen = b[p];
            p += 1;
        } else if (b[p] == 0xFE) {
            if (p + 5 > end) { out = corrupt(out, "ziplist entry runs past the end of the blob"); goto done; }
            prevlen = le32(b + p + 1);
            p += 5;
        } else {
            out = corrupt(out, "ziplist entry at +%zd starts with 0xff", p);
            goto done;
        }
        if (prevlen != prev) {
            out = corrupt(out, "ziplist entry at +%zd has prevlen %llu, not %llu", p, (unsigned long long)prevlen, (unsigned long long)prev);
            goto done;
        }
        if (p >= end) { out = corrupt(out, "ziplist entry runs past the end of the blob"); goto done; }
        unsigned e = b[p];
        unsigned t = e >> 6;
        PyObject *item;
        if (t <= 2) {
            uint64_t len;
            Py_ssize_t hdr;
            if (t == 0) { len = e & 0x3F; hdr = 1; }
            else if (t == 1) {
                if (p + 1 >= end) { out = corrupt(out, "ziplist entry runs past the end of the blob"); goto done; }
                len = ((e & 0x3F) << 8) | b[p + 1]; hdr = 2;
            } else if (e == 0x80) {
                if (p + 5 > end) { out = corrupt(out, "ziplist entry runs past the end of the blob"); goto done; }
                len = ((uint64_t)b[p + 1] << 24) | ((uint64_t)b[p + 2] << 16) | ((uint64_t)b[p + 3] << 8) | b[p + 4];
                hdr = 5;
            } else {
                out = corrupt(out, "bad ziplist entry encoding 0x%02x at +%zd", e, p);
                goto done;
            }
            if ((uint64_t)p + hdr + len > (uint64_t)end) { out = corrupt(out, "ziplist entry runs past the end of the blob"); goto done; }
            item = PyBytes_FromStringAndSize((const char *)b + p + hdr, (Py_ssize_t)len);
            p += hdr + (Py_ssize_t)len;
        } else {
            int w;
            if (e == 0xC0) w = 2;
            else if (e == 0xD0) w = 4;
            else if (e == 0xE0) w = 8;
            else if (e == 0xF0) w = 3;
            else if (e == 0xFE) w = 1;
            else if (e >= 0xF1 && e <= 0xFD) w = 0;
            else { out = corrupt(out, "bad ziplist entry encoding 0x%02x at +%zd", e, p); goto done; }
            if (p + 1 + w > end) { out = corrupt(out, "ziplist entry runs past the end of the blob"); goto done; }
            item = int_text(w ? le_signed(b + p + 1, w) : (int64_t)(e & 0x0F) - 1, 0);
            p += 1 + w;
        }
        if (append_steal(out, item) < 0) { Py_CLEAR(out); goto done; }
        prev = (uint64_t)(p - start);
        last = start;
    }
    if (p != end) {
        out = corrupt(out, "ziplist entries overrun its end (+%zd vs +%zd)", p, end);
        goto done;
    }
    if ((Py_ssize_t)zltail != last) {
        out = corrupt(out, "ziplist tail offset %u does not point at the last entry (+%zd)", zltail, last);
        goto done;
    }
    if (zllen != 0xFFFF && (Py_ssize_t)zllen != PyList_GET_SIZE(out)) {
        out = corrupt(out, "ziplist header counts %u entries, found %zd", zllen, PyList_GET_SIZE(out));
        goto done;
    }
done:
    PyBuffer_Release(&view);
    return out;
}

/* One rdb-string at b[p..n): returns its bytes (new reference) and advances *pp, or
 * returns NULL without an exception when it is not complete in the buffer or needs the
 * Python reader (LZF, or a byte that is not a valid string start: it raises there). */
static PyObject *one_string(const unsigned char *b, Py_ssize_t n, Py_ssize_t *pp) {
    Py_ssize_t p = *pp;
    if (p >= n)
        return NULL;
    unsigned c = b[p];
    unsigned t = c >> 6;
    uint64_t len;
    Py_ssize_t hdr;
    if (t == 0) { len = c; hdr = 1; }
    else if (t == 1) {
        if (p + 2 > n) return NULL;
        len = ((uint64_t)(c & 0x3F) << 8) | b[p + 1]; hdr = 2;
    } else if (c == 0x80) {
        if (p + 5 > n) return NULL;
        len = ((uint64_t)b[p + 1] << 24) | ((uint64_t)b[p + 2] << 16) | ((uint64_t)b[p + 3] << 8) | b[p + 4];
        hdr = 5;
    } else if (c == 0x81) {
        if (p + 9 > n) return NULL;
        len = 0;
        for (int i = 1; i <= 8; i++) len = (len << 8) | b[p + i];
        hdr = 9;
    } else if (c == 0xC0 || c == 0xC1 || c == 0xC2) {
        int w = c == 0xC0 ? 1 : c == 0xC1 ? 2 : 4;
        if (p + 1 + w > n) return NULL;
        PyObject *o = int_text(le_signed(b + p + 1, w), 0);
        if (o != NULL) *pp = p + 1 + w;
        return o;
    } else {
        return NULL;
    }
    if (len > (uint64_t)(n - p - hdr))
        return NULL;
    PyObject *o = PyBytes_FromStringAndSize((const char *)b + p + hdr, (Py_ssize_t)len);
    if (o != NULL) *pp = p + hdr + (Py_ssize_t)len;
    return o;
}

/* strings(buf, pos, count) -> (list[bytes], pos): up to count rdb-strings read from buf
 * at pos, stopping early (see one_string) so the caller can refill or take the slow
 * path for the next one. */
static PyObject *sp_strings(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, count;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &pos, &count))
        return NULL;
    const unsigned char *b = view.buf;
    Py_ssize_t n = view.len;
    PyObject *out = PyList_New(0);
    if (out == NULL) { PyBuffer_Release(&view); return NULL; }
    while (count-- > 0) {
        PyObject *o = one_string(b, n, &pos);
        if (o == NULL) {
            if (PyErr_Occurred()) { Py_DECREF(out); PyBuffer_Release(&view); return NULL; }
            break;
        }
        if (append_steal(out, o) < 0) { Py_DECREF(out); PyBuffer_Release(&view); return NULL; }
    }
    PyBuffer_Release(&view);
    PyObject *res = Py_BuildValue("(Nn)", out, pos);
    return res;
}

/* zset2(buf, pos, count) -> (list[(bytes, float)], pos): up to count members of a type-5
 * sorted set (rdb-string member, 8-byte LE double score). */
static PyObject *sp_zset2(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, count;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &pos, &count))
        return NULL;
    const unsigned char *b = view.buf;
    Py_ssize_t n = view.len;
    PyObject *out = PyList_New(0);
    if (out == NULL) { PyBuffer_Release(&view); return NULL; }
    while (count-- > 0) {
        Py_ssize_t p = pos;
        PyObject *m = one_string(b, n, &p);
        if (m == NULL) {
            if (PyErr_Occurred()) { Py_DECREF(out); PyBuffer_Release(&view); return NULL; }
            break;
        }
        if (p + 8 > n) { Py_DECREF(m); break; }
        double d;
        uint64_t u = (uint64_t)le_signed(b + p, 8);
        memcpy(&d, &u, 8);
        PyObject *pair = Py_BuildValue("(Nd)", m, d);
        if (pair == NULL || append_steal(out, pair) < 0) { Py_DECREF(out); PyBuffer_Release(&view); return NULL; }
        pos = p + 8;
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(Nn)", out, pos);
}

/* string_keys(buf, pos, limit) -> (list, pos): a run of up to `limit` plain string key
 * records at buf[pos:] ([0xFC <i64 LE expire>] 0x00 <key> <value>), each as
 * (record_start, expire_ms | None, key, value, value_start, int_encoded); stops before
 * anything else (other attribute opcodes, other types, LZF, values over 1 MiB,
 * incomplete data), which the Python reader then takes. */
static PyObject *sp_string_keys(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, limit;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &pos, &limit))
        return NULL;
    const unsigned char *b = view.buf;
    Py_ssize_t n = view.len;
    PyObject *out = PyList_New(0);
    if (out == NULL) { PyBuffer_Release(&view); return NULL; }
    while (limit-- > 0 && pos < n) {
        Py_ssize_t p = pos;
        PyObject *expire = NULL;
        if (b[p] == 0xFC) {
            if (p + 9 > n) break;
            expire = PyLong_FromLongLong((long long)le_signed(b + p + 1, 8));
            if (expire == NULL) goto fail;
            p += 9;
        }
        if (p >= n || b[p] != 0x00) { Py_XDECREF(expire); break; }
        p += 1;
        PyObject *key = one_string(b, n, &p);
        if (key == NULL) { Py_XDECREF(expire); if (PyErr_Occurred()) goto fail; break; }
        Py_ssize_t value_at = p;
        unsigned first = p < n ? b[p] : 0xFF;
        int is_int = first >= 0xC0 && first <= 0xC2;
        if (!(first < 0x80 || first == 0x80 || is_int)) { Py_DECREF(key); Py_XDECREF(expire); break; }
        if (first == 0x80 && p + 5 <= n) {
            uint32_t len = ((uint32_t)b[p + 1] << 24) | ((uint32_t)b[p + 2] << 16) | ((uint32_t)b[p + 3] << 8) | b[p + 4];
            if (len > (1u << 20)) { Py_DECREF(key); Py_XDECREF(expire); break; }
        }
        PyObject *value = one_string(b, n, &p);
        if (value == NULL) { Py_DECREF(key); Py_XDECREF(expire); if (PyErr_Occurred()) goto fail; break; }
        PyObject *rec = Py_BuildValue("(nONNnO)", pos, expire ? expire : Py_None, key, value,
                                      value_at, is_int ? Py_True : Py_False);
        Py_XDECREF(expire);
        if (rec == NULL || append_steal(out, rec) < 0) goto fail;
        pos = p;
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(Nn)", out, pos);
fail:
    Py_DECREF(out);
    PyBuffer_Release(&view);
    return NULL;
}

/* maker(cls): a fast constructor for a slotted class (the frozen event dataclasses).
 * Calling it with exactly one positional argument per slot, in __slots__ order, returns
 * a new instance with every slot set directly, as the dataclass __init__ would set
 * them, without the per-field object.__setattr__ calls of a frozen __init__. */
typedef struct {
    PyObject_HEAD
    PyTypeObject *cls;
    Py_ssize_t nslots;
    Py_ssize_t *offsets;
    vectorcallfunc vectorcall;
} Maker;

static void maker_dealloc(Maker *self) {
    Py_XDECREF(self->cls);
    PyMem_Free(self->offsets);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *maker_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                                  PyObject *kwnames) {
    Maker *m = (Maker *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != m->nslots || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        PyErr_Format(PyExc_TypeError, "%s maker takes exactly %zd positional arguments",
                     m->cls->tp_name, m->nslots);
        return NULL;
    }
    PyObject *obj = m->cls->tp_alloc(m->cls, 0);
    if (obj == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject **slot = (PyObject **)((char *)obj + m->offsets[i]);
        Py_INCREF(args[i]);
        *slot = args[i];
    }
    return obj;
}

static PyTypeObject MakerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rdbtools._speedups.Maker",
    .tp_basicsize = sizeof(Maker),
    .tp_dealloc = (destructor)maker_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(Maker, vectorcall),
    .tp_call = PyVectorcall_Call,
};

static PyObject *sp_maker(PyObject *self, PyObject *cls) {
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "maker() takes a class");
        return NULL;
    }
    PyObject *slots = PyObject_GetAttrString(cls, "__slots__");
    if (slots == NULL)
        return NULL;
    PyObject *seq = PySequence_Fast(slots, "__slots__ must be a sequence");
    Py_DECREF(slots);
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Maker *m = PyObject_New(Maker, &MakerType);
    if (m == NULL) { Py_DECREF(seq); return NULL; }
    m->cls = (PyTypeObject *)cls;
    Py_INCREF(cls);
    m->nslots = n;
    m->vectorcall = maker_vectorcall;
    m->offsets = PyMem_Malloc(sizeof(Py_ssize_t) * (n ? n : 1));
    if (m->offsets == NULL) { Py_DECREF(seq); Py_DECREF(m); return PyErr_NoMemory(); }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *descr = PyObject_GetAttr(cls, name);
        if (descr == NULL) { Py_DECREF(seq); Py_DECREF(m); return NULL; }
        if (!PyObject_TypeCheck(descr, &PyMemberDescr_Type)) {
            Py_DECREF(descr); Py_DECREF(seq); Py_DECREF(m);
            PyErr_SetString(PyExc_TypeError, "a __slots__ entry is not a member descriptor");
            return NULL;
        }
        PyMemberDef *def = ((PyMemberDescrObject *)descr)->d_member;
        if (def->type != T_OBJECT_EX) {
            Py_DECREF(descr); Py_DECREF(seq); Py_DECREF(m);
            PyErr_SetString(PyExc_TypeError, "unexpected slot kind");
            return NULL;
        }
        m->offsets[i] = def->offset;
        Py_DECREF(descr);
    }
    Py_DECREF(seq);
    return (PyObject *)m;
}

/* resp(*args): one RESP command, "*<argc>\r\n" then "$<len>\r\n<bytes>\r\n" per
   argument (FORMAT.md 8.1); arguments are bytes (other buffers are copied to bytes
   first). One allocation, one copy. */
static Py_ssize_t dec_len(Py_ssize_t v, char *out) {
    char tmp[24];
    Py_ssize_t n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (Py_ssize_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

static PyObject *sp_resp(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
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
            PyObject *res = sp_resp(self, &PyTuple_GET_ITEM(conv, 0), nargs);
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

static PyMethodDef methods[] = {
    {"resp", (PyCFunction)(void (*)(void))sp_resp, METH_FASTCALL, "One RESP command."},
    {"listpack", sp_listpack, METH_VARARGS, "Decode a listpack blob."},
    {"ziplist", sp_ziplist, METH_VARARGS, "Decode a ziplist blob."},
    {"strings", sp_strings, METH_VARARGS, "Read up to count rdb-strings from a buffer."},
    {"zset2", sp_zset2, METH_VARARGS, "Read up to count (member, binary score) pairs."},
    {"string_keys", sp_string_keys, METH_VARARGS, "Read a run of plain string key records."},
    {"maker", sp_maker, METH_O, "A fast constructor for a slotted class."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "rdbtools._speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    for (int v = -4096; v < 8192; v++) {
        char buf[16];
        int len = snprintf(buf, sizeof buf, "%d", v);
        small_ints_text[v + 4096] = PyBytes_FromStringAndSize(buf, len);
        if (small_ints_text[v + 4096] == NULL)
            return NULL;
    }
    if (PyType_Ready(&MakerType) < 0)
        return NULL;
    return PyModule_Create(&module);
}
