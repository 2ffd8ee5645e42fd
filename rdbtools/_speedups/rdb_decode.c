/* rdb value decoding: listpack and ziplist blobs (FORMAT.md 4.A, 4.B), runs of
 * rdb-strings, type-5 sorted-set pairs and plain string key records; twins of
 * rdbtools/rdb/_encodings.py and rdbtools/_buffer.py. */
#include "speedups.h"

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

PyObject *corrupt(PyObject *list, const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    Py_XDECREF(list);
    PyErr_SetString(PyExc_ValueError, msg);
    return NULL;
}

/* The entries of a listpack from byte p (an entry start) to its end byte at `end`:
 * appends up to `limit` of them to `out` (NULL: create nothing, only walk and count).
 * Returns the number walked, sets *next to where it stopped; -1 with an exception on a
 * structural error or a failed allocation. */
static Py_ssize_t lp_walk(const unsigned char *b, Py_ssize_t p, Py_ssize_t end, int ints,
                          Py_ssize_t limit, PyObject *out, Py_ssize_t *next) {
    Py_ssize_t found = 0;
    while (p < end && found < limit) {
        unsigned c = b[p];
        PyObject *item = NULL;
        Py_ssize_t q;
        if (c < 0x80) {
            if (out) item = int_text(c, ints);
            q = p + 2;
        } else if (c < 0xC0) {
            Py_ssize_t len = c & 0x3F;
            if (p + 1 + len > end) { corrupt(NULL, "listpack string at +%zd overruns", p); return -1; }
            if (out) item = PyBytes_FromStringAndSize((const char *)b + p + 1, len);
            q = p + 1 + len + 1;
        } else if (c < 0xE0) {
            if (p + 1 >= end) { corrupt(NULL, "listpack entry runs past the end of the blob"); return -1; }
            int u = ((c & 0x1F) << 8) | b[p + 1];
            if (out) item = int_text(u >= 4096 ? u - 8192 : u, ints);
            q = p + 3;
        } else if (c < 0xF0) {
            if (p + 1 >= end) { corrupt(NULL, "listpack entry runs past the end of the blob"); return -1; }
            Py_ssize_t len = ((c & 0x0F) << 8) | b[p + 1];
            if (p + 2 + len > end) { corrupt(NULL, "listpack string at +%zd overruns", p); return -1; }
            if (out) item = PyBytes_FromStringAndSize((const char *)b + p + 2, len);
            q = p + 2 + len + (len <= 125 ? 1 : 2);
        } else if (c == 0xF0) {
            if (p + 5 > end) { corrupt(NULL, "listpack entry runs past the end of the blob"); return -1; }
            uint64_t len = le32(b + p + 1);
            if ((uint64_t)p + 5 + len > (uint64_t)end) { corrupt(NULL, "listpack string of %llu bytes at +%zd overruns", (unsigned long long)len, p); return -1; }
            if (out) item = PyBytes_FromStringAndSize((const char *)b + p + 5, (Py_ssize_t)len);
            q = p + 5 + (Py_ssize_t)len + backlen_size(len + 5);
        } else if (c >= 0xF1 && c <= 0xF4) {
            static const int width[] = {2, 3, 4, 8};
            int w = width[c - 0xF1];
            if (p + 1 + w > end) { corrupt(NULL, "listpack entry runs past the end of the blob"); return -1; }
            if (out) item = int_text(le_signed(b + p + 1, w), ints);
            q = p + 1 + w + 1;
        } else {
            corrupt(NULL, "bad listpack entry encoding 0x%02x at +%zd", c, p);
            return -1;
        }
        if (out && append_steal(out, item) < 0)
            return -1;
        p = q;
        found++;
    }
    *next = p;
    return found;
}

/* The header checks of a listpack: total bytes, end byte. Returns the header's count,
 * or -1 with an exception. */
static long lp_header(const unsigned char *b, Py_ssize_t n) {
    if (n < 7) {
        corrupt(NULL, "listpack of %zd bytes is shorter than its header", n);
        return -1;
    }
    uint32_t total = le32(b);
    if ((Py_ssize_t)total != n) {
        corrupt(NULL, "listpack header says %u bytes, blob holds %zd", total, n);
        return -1;
    }
    if (b[n - 1] != 0xFF) {
        corrupt(NULL, "listpack does not end with 0xff (last byte 0x%02x)", b[n - 1]);
        return -1;
    }
    return (long)((unsigned)b[4] | ((unsigned)b[5] << 8));
}

/* The whole of a listpack: entries into `out` (or only counted, out NULL), every check
 * made. Returns the number of entries or -1. */
static Py_ssize_t lp_all(const unsigned char *b, Py_ssize_t n, int ints, PyObject *out) {
    long count = lp_header(b, n);
    if (count < 0)
        return -1;
    Py_ssize_t p, end = n - 1;
    Py_ssize_t found = lp_walk(b, 6, end, ints, PY_SSIZE_T_MAX, out, &p);
    if (found < 0)
        return -1;
    if (p != end) {
        corrupt(NULL, "listpack entries overrun its end (+%zd vs +%zd)", p, end);
        return -1;
    }
    if (count != 0xFFFF && (Py_ssize_t)count != found) {
        corrupt(NULL, "listpack header counts %ld entries, found %zd", count, found);
        return -1;
    }
    return found;
}

/* listpack(blob, ints=False) -> list */
PyObject *sp_listpack(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    int ints = 0;
    if (!PyArg_ParseTuple(args, "y*|p", &view, &ints))
        return NULL;
    PyObject *out = PyList_New(0);
    if (out != NULL && lp_all(view.buf, view.len, ints, out) < 0)
        Py_CLEAR(out);
    PyBuffer_Release(&view);
    return out;
}

/* listpack_count(blob) -> int: every check of listpack(), no element created. */
PyObject *sp_listpack_count(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    Py_ssize_t found = lp_all(view.buf, view.len, 0, NULL);
    PyBuffer_Release(&view);
    return found < 0 ? NULL : PyLong_FromSsize_t(found);
}

/* listpack_slice(blob, ints, pos, limit) -> (list, pos): up to `limit` entries from
 * the entry at byte `pos` (6 for the first) of a listpack that listpack_count accepted;
 * the returned pos is that of the next entry (len(blob) - 1 at the end). */
PyObject *sp_listpack_slice(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    int ints = 0;
    Py_ssize_t pos, limit;
    if (!PyArg_ParseTuple(args, "y*pnn", &view, &ints, &pos, &limit))
        return NULL;
    PyObject *res = NULL, *out = NULL;
    if (view.len < 7 || pos < 6 || pos > view.len - 1) {
        corrupt(NULL, "listpack slice at +%zd of a %zd-byte blob", pos, view.len);
        goto done;
    }
    out = PyList_New(0);
    Py_ssize_t next;
    if (out == NULL || lp_walk(view.buf, pos, view.len - 1, ints, limit, out, &next) < 0)
        goto done;
    res = Py_BuildValue("(On)", out, next);
done:
    Py_XDECREF(out);
    PyBuffer_Release(&view);
    return res;
}

/* The entries of a ziplist from byte p (an entry start, `prev` the size of the entry
 * before it) to its end byte at `end`, as lp_walk; *last is set to the start of the
 * last entry walked and *prev_out to its size. */
static Py_ssize_t zl_walk(const unsigned char *b, Py_ssize_t p, Py_ssize_t end, uint64_t prev,
                          Py_ssize_t limit, PyObject *out, Py_ssize_t *next, Py_ssize_t *last,
                          uint64_t *prev_out) {
    Py_ssize_t found = 0;
    while (p < end && found < limit) {
        Py_ssize_t start = p;
        uint64_t prevlen;
        if (b[p] < 0xFE) {
            prevlen = b[p];
            p += 1;
        } else if (b[p] == 0xFE) {
            if (p + 5 > end) { corrupt(NULL, "ziplist entry runs past the end of the blob"); return -1; }
            prevlen = le32(b + p + 1);
            p += 5;
        } else {
            corrupt(NULL, "ziplist entry at +%zd starts with 0xff", p);
            return -1;
        }
        if (prevlen != prev) {
            corrupt(NULL, "ziplist entry at +%zd has prevlen %llu, not %llu", p, (unsigned long long)prevlen, (unsigned long long)prev);
            return -1;
        }
        if (p >= end) { corrupt(NULL, "ziplist entry runs past the end of the blob"); return -1; }
        unsigned e = b[p];
        unsigned t = e >> 6;
        PyObject *item = NULL;
        if (t <= 2) {
            uint64_t len;
            Py_ssize_t hdr;
            if (t == 0) { len = e & 0x3F; hdr = 1; }
            else if (t == 1) {
                if (p + 1 >= end) { corrupt(NULL, "ziplist entry runs past the end of the blob"); return -1; }
                len = ((e & 0x3F) << 8) | b[p + 1]; hdr = 2;
            } else if (e == 0x80) {
                if (p + 5 > end) { corrupt(NULL, "ziplist entry runs past the end of the blob"); return -1; }
                len = ((uint64_t)b[p + 1] << 24) | ((uint64_t)b[p + 2] << 16) | ((uint64_t)b[p + 3] << 8) | b[p + 4];
                hdr = 5;
            } else {
                corrupt(NULL, "bad ziplist entry encoding 0x%02x at +%zd", e, p);
                return -1;
            }
            if ((uint64_t)p + hdr + len > (uint64_t)end) { corrupt(NULL, "ziplist entry runs past the end of the blob"); return -1; }
            if (out) item = PyBytes_FromStringAndSize((const char *)b + p + hdr, (Py_ssize_t)len);
            p += hdr + (Py_ssize_t)len;
        } else {
            int w;
            if (e == 0xC0) w = 2;
            else if (e == 0xD0) w = 4;
            else if (e == 0xE0) w = 8;
            else if (e == 0xF0) w = 3;
            else if (e == 0xFE) w = 1;
            else if (e >= 0xF1 && e <= 0xFD) w = 0;
            else { corrupt(NULL, "bad ziplist entry encoding 0x%02x at +%zd", e, p); return -1; }
            if (p + 1 + w > end) { corrupt(NULL, "ziplist entry runs past the end of the blob"); return -1; }
            if (out) item = int_text(w ? le_signed(b + p + 1, w) : (int64_t)(e & 0x0F) - 1, 0);
            p += 1 + w;
        }
        if (out && append_steal(out, item) < 0)
            return -1;
        prev = (uint64_t)(p - start);
        *last = start;
        found++;
    }
    *next = p;
    *prev_out = prev;
    return found;
}

/* The whole of a ziplist, as lp_all. */
static Py_ssize_t zl_all(const unsigned char *b, Py_ssize_t n, PyObject *out) {
    if (n < 11) {
        corrupt(NULL, "ziplist of %zd bytes is shorter than its header", n);
        return -1;
    }
    uint32_t zlbytes = le32(b), zltail = le32(b + 4);
    unsigned zllen = (unsigned)b[8] | ((unsigned)b[9] << 8);
    if ((Py_ssize_t)zlbytes != n) {
        corrupt(NULL, "ziplist header says %u bytes, blob holds %zd", zlbytes, n);
        return -1;
    }
    if (b[n - 1] != 0xFF) {
        corrupt(NULL, "ziplist does not end with 0xff (last byte 0x%02x)", b[n - 1]);
        return -1;
    }
    Py_ssize_t p, end = n - 1, last = 10;
    uint64_t prev;
    Py_ssize_t found = zl_walk(b, 10, end, 0, PY_SSIZE_T_MAX, out, &p, &last, &prev);
    if (found < 0)
        return -1;
    if (p != end) {
        corrupt(NULL, "ziplist entries overrun its end (+%zd vs +%zd)", p, end);
        return -1;
    }
    if ((Py_ssize_t)zltail != last) {
        corrupt(NULL, "ziplist tail offset %u does not point at the last entry (+%zd)", zltail, last);
        return -1;
    }
    if (zllen != 0xFFFF && (Py_ssize_t)zllen != found) {
        corrupt(NULL, "ziplist header counts %u entries, found %zd", zllen, found);
        return -1;
    }
    return found;
}

/* ziplist(blob) -> list[bytes] */
PyObject *sp_ziplist(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    PyObject *out = PyList_New(0);
    if (out != NULL && zl_all(view.buf, view.len, out) < 0)
        Py_CLEAR(out);
    PyBuffer_Release(&view);
    return out;
}

/* ziplist_count(blob) -> int: every check of ziplist(), no element created. */
PyObject *sp_ziplist_count(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    Py_ssize_t found = zl_all(view.buf, view.len, NULL);
    PyBuffer_Release(&view);
    return found < 0 ? NULL : PyLong_FromSsize_t(found);
}

/* ziplist_slice(blob, pos, prev, limit) -> (list, pos, prev): up to `limit` entries
 * from the entry at byte `pos` (10 for the first, `prev` 0) of a ziplist that
 * ziplist_count accepted; returns where the next entry starts and the size of the last
 * one read (the next call's `prev`). */
PyObject *sp_ziplist_slice(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, limit;
    unsigned long long prev;
    if (!PyArg_ParseTuple(args, "y*nKn", &view, &pos, &prev, &limit))
        return NULL;
    PyObject *res = NULL, *out = NULL;
    if (view.len < 11 || pos < 10 || pos > view.len - 1) {
        corrupt(NULL, "ziplist slice at +%zd of a %zd-byte blob", pos, view.len);
        goto done;
    }
    out = PyList_New(0);
    Py_ssize_t next, last = pos;
    uint64_t prev_out;
    if (out == NULL || zl_walk(view.buf, pos, view.len - 1, prev, limit, out, &next, &last,
                               &prev_out) < 0)
        goto done;
    res = Py_BuildValue("(OnK)", out, next, (unsigned long long)prev_out);
done:
    Py_XDECREF(out);
    PyBuffer_Release(&view);
    return res;
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

/* Up to count rdb-strings read from buf at pos, each followed by an 8-byte LE double
 * when scored (then (bytes, float) pairs); stops early (see one_string) so the caller
 * can refill or take the slow path for the next one. Returns (list, pos after them). */
static inline PyObject *string_run(PyObject *args, int scored) {
    Py_buffer view;
    Py_ssize_t pos, count;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &pos, &count))
        return NULL;
    const unsigned char *b = view.buf;
    Py_ssize_t n = view.len;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        goto fail;
    while (count-- > 0) {
        Py_ssize_t p = pos;
        PyObject *item = one_string(b, n, &p);
        if (item == NULL) {
            if (PyErr_Occurred()) goto fail;
            break;
        }
        if (scored) {
            if (p + 8 > n) { Py_DECREF(item); break; }
            double d;
            uint64_t u = (uint64_t)le_signed(b + p, 8);
            memcpy(&d, &u, 8);
            item = Py_BuildValue("(Nd)", item, d);
            p += 8;
        }
        if (append_steal(out, item) < 0) goto fail;
        pos = p;
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(Nn)", out, pos);
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&view);
    return NULL;
}

/* strings(buf, pos, count) -> (list[bytes], pos) */
PyObject *sp_strings(PyObject *Py_UNUSED(self), PyObject *args) {
    return string_run(args, 0);
}

/* zset2(buf, pos, count) -> (list[(bytes, float)], pos): members of a type-5 sorted set
 * (rdb-string member, 8-byte LE double score). */
PyObject *sp_zset2(PyObject *Py_UNUSED(self), PyObject *args) {
    return string_run(args, 1);
}

/* string_keys(buf, pos, limit) -> (list, pos): a run of up to `limit` plain string key
 * records at buf[pos:] ([0xFC <i64 LE expire>] 0x00 <key> <value>), each as
 * (record_start, expire_ms | None, key, value, value_start, int_encoded); stops before
 * anything else (other attribute opcodes, other types, LZF, values over 1 MiB,
 * incomplete data), which the Python reader then takes. */
PyObject *sp_string_keys(PyObject *Py_UNUSED(self), PyObject *args) {
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

int sp_decode_init(void) {
    for (int v = -4096; v < 8192; v++) {
        char buf[16];
        int len = snprintf(buf, sizeof buf, "%d", v);
        small_ints_text[v + 4096] = PyBytes_FromStringAndSize(buf, len);
        if (small_ints_text[v + 4096] == NULL)
            return -1;
    }
    return 0;
}
