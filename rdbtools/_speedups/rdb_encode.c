#include "speedups.h"

/* ------------------------------------------------------------------ encoders
 * C twins of the writer's encoders in rdbtools/rdb/_encoders.py (the ``*_py``
 * functions there are the reference): lengths, rdb-strings, listpack entries. */

typedef struct {
    char *p;
    Py_ssize_t len, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t more) {
    if (b->len + more <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    char *p = PyMem_Realloc(b->p, (size_t)cap);
    if (p == NULL) { PyErr_NoMemory(); return -1; }
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const void *data, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, data, (size_t)n);
    b->len += n;
    return 0;
}

static PyObject *buf_finish(Buf *b) {
    PyObject *o = PyBytes_FromStringAndSize(b->p ? b->p : "", b->len);
    PyMem_Free(b->p);
    b->p = NULL;
    return o;
}

/* Length encoding (FORMAT.md 2.1) into out; returns its size. */
static int put_len(unsigned char *out, uint64_t n) {
    if (n < 64) { out[0] = (unsigned char)n; return 1; }
    if (n < 16384) { out[0] = (unsigned char)(0x40 | (n >> 8)); out[1] = (unsigned char)(n & 0xFF); return 2; }
    if (n <= 0xFFFFFFFFull) {
        out[0] = 0x80;
        for (int i = 0; i < 4; i++) out[1 + i] = (unsigned char)(n >> (8 * (3 - i)));
        return 5;
    }
    out[0] = 0x81;
    for (int i = 0; i < 8; i++) out[1 + i] = (unsigned char)(n >> (8 * (7 - i)));
    return 9;
}

static void put_le(unsigned char *out, int64_t v, int w) {
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < w; i++) out[i] = (unsigned char)(u >> (8 * i));
}

static PyObject *lzf_compress_fn = NULL; /* python-lzf's compress, loaded on first use */

/* Append the rdb-string of obj (bytes) as rdbSaveRawString writes it (FORMAT.md 2.2). */
static int put_string_bytes(Buf *b, PyObject *obj, int compress);

static int put_string(Buf *b, PyObject *obj, int compress) {
    if (PyBytes_Check(obj))
        return put_string_bytes(b, obj, compress);
    PyObject *tmp = PyBytes_FromObject(obj);
    if (tmp == NULL) return -1;
    int rc = put_string_bytes(b, tmp, compress);
    Py_DECREF(tmp);
    return rc;
}

static int put_string_bytes(Buf *b, PyObject *obj, int compress) {
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(obj);
    Py_ssize_t n = PyBytes_GET_SIZE(obj);
    unsigned char hdr[20];
    int64_t v;
    if (n <= 11 && canonical(s, n, 11, &v)) {
        if (v >= -128 && v <= 127) {
            hdr[0] = 0xC0; put_le(hdr + 1, v, 1);
            return buf_put(b, hdr, 2);
        }
        if (v >= -32768 && v <= 32767) {
            hdr[0] = 0xC1; put_le(hdr + 1, v, 2);
            return buf_put(b, hdr, 3);
        }
        if (v >= INT32_MIN && v <= INT32_MAX) {
            hdr[0] = 0xC2; put_le(hdr + 1, v, 4);
            return buf_put(b, hdr, 5);
        }
    }
    if (compress && n > 20) {
        /* exactly rdbtools.lzf.compress(s, n - 4): python-lzf with max_len budget - 1 */
        if (lzf_compress_fn == NULL) {
            PyObject *mod = PyImport_ImportModule("lzf");
            if (mod == NULL) return -1;
            lzf_compress_fn = PyObject_GetAttrString(mod, "compress");
            Py_DECREF(mod);
            if (lzf_compress_fn == NULL) return -1;
        }
        PyObject *budget = PyLong_FromSsize_t(n - 5);
        if (budget == NULL) return -1;
        PyObject *call_args[2] = {obj, budget};
        PyObject *packed = PyObject_Vectorcall(lzf_compress_fn, call_args, 2, NULL);
        Py_DECREF(budget);
        if (packed == NULL) return -1;
        if (packed != Py_None) {
            Py_buffer pv;
            if (PyObject_GetBuffer(packed, &pv, PyBUF_SIMPLE) < 0) { Py_DECREF(packed); return -1; }
            if (pv.len <= n - 4) {
                int h = 1;
                hdr[0] = 0xC3;
                h += put_len(hdr + h, (uint64_t)pv.len);
                h += put_len(hdr + h, (uint64_t)n);
                int rc = buf_put(b, hdr, h) < 0 || buf_put(b, pv.buf, pv.len) < 0 ? -1 : 0;
                PyBuffer_Release(&pv);
                Py_DECREF(packed);
                return rc;
            }
            PyBuffer_Release(&pv);
        }
        Py_DECREF(packed);
    }
    int h = put_len(hdr, (uint64_t)n);
    if (buf_put(b, hdr, h) < 0) return -1;
    return buf_put(b, s, n);
}

/* The listpack backlen of an n-byte entry (FORMAT.md 4.B). */
static int put_backlen(unsigned char *out, uint64_t n) {
    if (n <= 127) { out[0] = (unsigned char)n; return 1; }
    int k = backlen_size(n);
    for (int i = 0; i < k; i++) {
        unsigned char g = (unsigned char)((n >> (7 * (k - 1 - i))) & 127);
        out[i] = i ? (unsigned char)(g | 128) : (unsigned char)(n >> (7 * (k - 1)));
    }
    return k;
}

/* Append one listpack entry of obj (bytes) with its backlen, as lp_entry_py. */
static int put_lp_entry_bytes(Buf *b, PyObject *obj);

static int put_lp_entry(Buf *b, PyObject *obj) {
    if (PyBytes_Check(obj))
        return put_lp_entry_bytes(b, obj);
    PyObject *tmp = PyBytes_FromObject(obj);
    if (tmp == NULL) return -1;
    int rc = put_lp_entry_bytes(b, tmp);
    Py_DECREF(tmp);
    return rc;
}

static int put_lp_entry_bytes(Buf *b, PyObject *obj) {
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(obj);
    Py_ssize_t n = PyBytes_GET_SIZE(obj);
    unsigned char hdr[16];
    int64_t v;
    if (canonical(s, n, 20, &v)) {
        if (v >= 0 && v <= 127) {
            hdr[0] = (unsigned char)v; hdr[1] = 1;
            return buf_put(b, hdr, 2);
        }
        if (v >= -4096 && v <= 4095) {
            unsigned u = (unsigned)(v & 0x1FFF);
            hdr[0] = (unsigned char)(0xC0 | (u >> 8)); hdr[1] = (unsigned char)(u & 0xFF); hdr[2] = 2;
            return buf_put(b, hdr, 3);
        }
        int w, tag;
        if (v >= -32768 && v <= 32767) { w = 2; tag = 0xF1; }
        else if (v >= -(1 << 23) && v < (1 << 23)) { w = 3; tag = 0xF2; }
        else if (v >= INT32_MIN && v <= INT32_MAX) { w = 4; tag = 0xF3; }
        else { w = 8; tag = 0xF4; }
        hdr[0] = (unsigned char)tag;
        put_le(hdr + 1, v, w);
        hdr[1 + w] = (unsigned char)(w + 1);
        return buf_put(b, hdr, w + 2);
    }
    int h;
    if (n < 64) { hdr[0] = (unsigned char)(0x80 | n); h = 1; }
    else if (n < 4096) { hdr[0] = (unsigned char)(0xE0 | (n >> 8)); hdr[1] = (unsigned char)(n & 0xFF); h = 2; }
    else { hdr[0] = 0xF0; put_le(hdr + 1, (int64_t)n, 4); h = 5; }
    if (buf_put(b, hdr, h) < 0 || buf_put(b, s, n) < 0) return -1;
    unsigned char back[8];
    int k = put_backlen(back, (uint64_t)(n + h));
    return buf_put(b, back, k);
}


/* enc_len(n) -> bytes */
PyObject *sp_enc_len(PyObject *Py_UNUSED(self), PyObject *arg) {
    uint64_t n = PyLong_AsUnsignedLongLong(arg);
    if (n == (uint64_t)-1 && PyErr_Occurred())
        return NULL;
    unsigned char out[9];
    return PyBytes_FromStringAndSize((const char *)out, put_len(out, n));
}

/* enc_string(s, compress=True) -> bytes */
PyObject *sp_enc_string(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "enc_string(s, compress=True)");
        return NULL;
    }
    int compress = nargs < 2 ? 1 : PyObject_IsTrue(args[1]);
    if (compress < 0)
        return NULL;
    Buf b = {NULL, 0, 0};
    if (put_string(&b, args[0], compress) < 0) { PyMem_Free(b.p); return NULL; }
    return buf_finish(&b);
}

/* Appends one item to a buffer; state is what the encoding carries from item to item. */
typedef int (*PutFn)(Buf *b, PyObject *obj, void *state);

/* `head` zero bytes (a header the caller fills in), then put(item) for every item of a
 * sequence, into the empty buffer b; msg is the TypeError of a non-sequence. Returns the
 * number of items, or -1 with b freed. */
static Py_ssize_t put_each(Buf *b, PyObject *seq_in, const char *msg, Py_ssize_t head,
                           PutFn put, void *state) {
    PyObject *seq = PySequence_Fast(seq_in, msg);
    if (seq == NULL)
        return -1;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (head > 0) {
        if (buf_reserve(b, head) < 0) goto fail;
        memset(b->p, 0, (size_t)head);
        b->len = head;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        if (put(b, items[i], state) < 0) goto fail;
    }
    Py_DECREF(seq);
    return k;
fail:
    Py_DECREF(seq);
    PyMem_Free(b->p);
    b->p = NULL;
    return -1;
}

/* The bytes of put(item) for every item of a sequence, concatenated. */
static PyObject *run_of(PyObject *seq_in, const char *msg, PutFn put, void *state) {
    Buf b = {NULL, 0, 0};
    if (put_each(&b, seq_in, msg, 0, put, state) < 0)
        return NULL;
    return buf_finish(&b);
}

/* The end byte 0xFF of a listpack or ziplist, and b as bytes. */
static PyObject *blob_finish(Buf *b) {
    if (buf_put(b, "\xff", 1) < 0) {
        PyMem_Free(b->p);
        return NULL;
    }
    return buf_finish(b);
}

static int put_string_st(Buf *b, PyObject *obj, void *compress) {
    return put_string(b, obj, *(int *)compress);
}

static int put_lp_entry_st(Buf *b, PyObject *obj, void *unused) {
    (void)unused;
    return put_lp_entry(b, obj);
}

/* enc_strings(items, compress=True) -> bytes: the rdb-strings of items, concatenated */
PyObject *sp_enc_strings(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "enc_strings(items, compress=True)");
        return NULL;
    }
    int compress = nargs < 2 ? 1 : PyObject_IsTrue(args[1]);
    if (compress < 0)
        return NULL;
    return run_of(args[0], "expected a sequence of bytes", put_string_st, &compress);
}

/* lp_entry(s) -> bytes */
PyObject *sp_lp_entry(PyObject *Py_UNUSED(self), PyObject *arg) {
    Buf b = {NULL, 0, 0};
    if (put_lp_entry(&b, arg) < 0) { PyMem_Free(b.p); return NULL; }
    return buf_finish(&b);
}

/* lp_entries(items) -> bytes: the listpack entries of items, concatenated */
PyObject *sp_lp_entries(PyObject *Py_UNUSED(self), PyObject *arg) {
    return run_of(arg, "expected a sequence of bytes", put_lp_entry_st, NULL);
}

/* listpack(items) -> bytes: <u32 total> <u16 count, 0xFFFF if >= 65535> entries 0xFF */
PyObject *sp_listpack_of(PyObject *Py_UNUSED(self), PyObject *arg) {
    Buf b = {NULL, 0, 0};
    Py_ssize_t k = put_each(&b, arg, "expected a sequence of bytes", 6, put_lp_entry_st, NULL);
    if (k < 0)
        return NULL;
    put_le((unsigned char *)b.p, (int64_t)(uint32_t)(b.len + 1), 4);
    put_le((unsigned char *)b.p + 4, k < 65535 ? k : 65535, 2);
    return blob_finish(&b);
}

/* canonical_int(s, max_len=20) -> int | None */
PyObject *sp_canonical_int(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "canonical_int(s, max_len=20)");
        return NULL;
    }
    if (!PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "canonical_int() takes bytes");
        return NULL;
    }
    Py_ssize_t max_len = 20;
    if (nargs == 2) {
        max_len = PyLong_AsSsize_t(args[1]);
        if (max_len == -1 && PyErr_Occurred())
            return NULL;
    }
    int64_t v;
    if (!canonical((const unsigned char *)PyBytes_AS_STRING(args[0]), PyBytes_GET_SIZE(args[0]),
                   max_len, &v))
        Py_RETURN_NONE;
    return PyLong_FromLongLong((long long)v);
}

/* key_record(out, expire_ms, type, key, compress, head, body, tail) -> None: append one
 * key record to the bytearray out: [0xFC <i64 LE expire_ms>] <type byte> <rdb-string
 * key> head body tail (FORMAT.md 3), as key_record_py. */
PyObject *sp_key_record(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8 || !PyByteArray_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "key_record(out: bytearray, expire_ms, type, key, compress, head, body, tail)");
        return NULL;
    }
    PyObject *out = args[0];
    Buf b = {NULL, 0, 0};
    unsigned char pre[10];
    int np = 0;
    if (args[1] != Py_None) {
        long long e = PyLong_AsLongLong(args[1]);
        if (e == -1 && PyErr_Occurred()) return NULL;
        pre[0] = 0xFC;
        put_le(pre + 1, (int64_t)e, 8);
        np = 9;
    }
    long tp = PyLong_AsLong(args[2]);
    if (tp == -1 && PyErr_Occurred()) return NULL;
    if (tp < 0 || tp > 255) {
        PyErr_SetString(PyExc_ValueError, "type byte out of range");
        return NULL;
    }
    pre[np++] = (unsigned char)tp;
    int compress = PyObject_IsTrue(args[4]);
    if (compress < 0) return NULL;
    if (buf_put(&b, pre, np) < 0 || put_string(&b, args[3], compress) < 0) {
        PyMem_Free(b.p);
        return NULL;
    }
    Py_buffer parts[3];
    int got = 0;
    for (; got < 3; got++) {
        if (PyObject_GetBuffer(args[5 + got], &parts[got], PyBUF_SIMPLE) < 0)
            goto fail;
    }
    Py_ssize_t old = PyByteArray_GET_SIZE(out), add = b.len;
    for (int i = 0; i < 3; i++) add += parts[i].len;
    if (PyByteArray_Resize(out, old + add) < 0)
        goto fail;
    char *p = PyByteArray_AS_STRING(out) + old;
    memcpy(p, b.p, (size_t)b.len);
    p += b.len;
    for (int i = 0; i < 3; i++) {
        memcpy(p, parts[i].buf, (size_t)parts[i].len);
        p += parts[i].len;
        PyBuffer_Release(&parts[i]);
    }
    PyMem_Free(b.p);
    Py_RETURN_NONE;
fail:
    for (int i = 0; i < got; i++) PyBuffer_Release(&parts[i]);
    PyMem_Free(b.p);
    return NULL;
}

/* Append one ziplist entry of obj (bytes) whose previous entry took prev bytes; returns
 * the entry's size, or -1 (FORMAT.md 4.A, as ziplist_py). */
static Py_ssize_t put_zl_entry(Buf *b, PyObject *obj, Py_ssize_t prev) {
    PyObject *tmp = NULL;
    if (!PyBytes_Check(obj)) {
        tmp = PyBytes_FromObject(obj);
        if (tmp == NULL) return -1;
        obj = tmp;
    }
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(obj);
    Py_ssize_t n = PyBytes_GET_SIZE(obj);
    unsigned char hdr[16];
    int h = 0;
    if (prev < 254) hdr[h++] = (unsigned char)prev;
    else { hdr[h++] = 0xFE; put_le(hdr + h, (int64_t)prev, 4); h += 4; }
    int64_t v;
    Py_ssize_t size;
    int rc;
    if (canonical(s, n, 31, &v)) {
        if (v >= 0 && v <= 12) hdr[h++] = (unsigned char)(0xF1 + v);
        else if (v >= -128 && v <= 127) { hdr[h++] = 0xFE; put_le(hdr + h, v, 1); h += 1; }
        else if (v >= -32768 && v <= 32767) { hdr[h++] = 0xC0; put_le(hdr + h, v, 2); h += 2; }
        else if (v >= -(1 << 23) && v < (1 << 23)) { hdr[h++] = 0xF0; put_le(hdr + h, v, 3); h += 3; }
        else if (v >= INT32_MIN && v <= INT32_MAX) { hdr[h++] = 0xD0; put_le(hdr + h, v, 4); h += 4; }
        else { hdr[h++] = 0xE0; put_le(hdr + h, v, 8); h += 8; }
        rc = buf_put(b, hdr, h);
        size = h;
    } else {
        if (n < 64) hdr[h++] = (unsigned char)n;
        else if (n < 16384) { hdr[h++] = (unsigned char)(0x40 | (n >> 8)); hdr[h++] = (unsigned char)(n & 0xFF); }
        else {
            hdr[h++] = 0x80;
            for (int i = 0; i < 4; i++) hdr[h++] = (unsigned char)((uint64_t)n >> (8 * (3 - i)));
        }
        rc = buf_put(b, hdr, h) < 0 ? -1 : buf_put(b, s, n);
        size = h + n;
    }
    Py_XDECREF(tmp);
    return rc < 0 ? -1 : size;
}

/* ziplist_of(items) -> bytes: <u32 zlbytes> <u32 zltail> <u16 zllen> entries 0xFF */
/* A ziplist being built: the size of its last entry and where that entry starts. */
typedef struct {
    Py_ssize_t prev, tail;
} ZlRun;

static int put_zl_st(Buf *b, PyObject *obj, void *state) {
    ZlRun *z = state;
    z->tail = b->len;
    z->prev = put_zl_entry(b, obj, z->prev);
    return z->prev < 0 ? -1 : 0;
}

PyObject *sp_ziplist_of(PyObject *Py_UNUSED(self), PyObject *arg) {
    Buf b = {NULL, 0, 0};
    ZlRun z = {0, 10};
    Py_ssize_t k = put_each(&b, arg, "expected a sequence of bytes", 10, put_zl_st, &z);
    if (k < 0)
        return NULL;
    put_le((unsigned char *)b.p, (int64_t)(uint32_t)(b.len + 1), 4);
    put_le((unsigned char *)b.p + 4, (int64_t)(uint32_t)z.tail, 4);
    put_le((unsigned char *)b.p + 8, k < 65535 ? k : 65535, 2);
    return blob_finish(&b);
}

/* Append the length encoding of obj (an int). */
static int put_len_st(Buf *b, PyObject *obj, void *unused) {
    (void)unused;
    uint64_t n = PyLong_AsUnsignedLongLong(obj);
    if (n == (uint64_t)-1 && PyErr_Occurred())
        return -1;
    unsigned char out[9];
    return buf_put(b, out, put_len(out, n));
}

/* enc_lens(ns) -> bytes: the length encodings of ns, concatenated */
PyObject *sp_enc_lens(PyObject *Py_UNUSED(self), PyObject *arg) {
    return run_of(arg, "expected a sequence of integers", put_len_st, NULL);
}

/* lp_fill(items, start, count, node_size, limit, overhead, plain_min) -> (run, next, size):
 * the listpack entries of items[start:] that go into the current quicklist node, as
 * lp_fill_py: an element stops the run when it takes a PLAIN node (plain_min not None
 * and its length >= plain_min) or when the node holds count > 0 entries and
 * size + length + overhead > limit. */
PyObject *sp_lp_fill(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "lp_fill(items, start, count, node_size, limit, overhead, plain_min)");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    Py_ssize_t count = PyLong_AsSsize_t(args[2]);
    long long size = PyLong_AsLongLong(args[3]);
    long long limit = PyLong_AsLongLong(args[4]);
    long long overhead = PyLong_AsLongLong(args[5]);
    long long plain_min = args[6] == Py_None ? -1 : PyLong_AsLongLong(args[6]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *seq = PySequence_Fast(args[0], "expected a sequence of bytes");
    if (seq == NULL)
        return NULL;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (start < 0 || start > k) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "lp_fill: start out of range");
        return NULL;
    }
    Buf b = {NULL, 0, 0};
    Py_ssize_t i = start;
    for (; i < k; i++) {
        Py_ssize_t n = PyObject_Length(items[i]);
        if (n < 0) goto fail;
        if (plain_min >= 0 && n >= plain_min) break;
        if (count && size + n + overhead > limit) break;
        if (!count) size = 7;
        Py_ssize_t before = b.len;
        if (put_lp_entry(&b, items[i]) < 0) goto fail;
        size += b.len - before;
        count++;
    }
    Py_DECREF(seq);
    PyObject *run = buf_finish(&b);
    if (run == NULL) return NULL;
    return Py_BuildValue("(NnL)", run, i, size);
fail:
    Py_DECREF(seq);
    PyMem_Free(b.p);
    return NULL;
}
