/*
 * C versions of the hot blob decoders of rdbtools/rdb/_encodings.py: listpack and
 * ziplist (FORMAT.md §4.A, §4.B). Same results and same checks as the Python versions,
 * which stay the reference and the fallback when this module is not built. On a
 * structural problem they raise ValueError with a message; the Python wrapper turns it
 * into CorruptInput.
 *
 * Also the writer's hot encoders (lengths, rdb-strings with the LZF rule of
 * rdbSaveRawString, listpack and ziplist builders, quicklist node filling, key records):
 * twins of the *_py functions of rdbtools/rdb/_encoders.py, byte for byte.
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
static PyObject *sp_listpack(PyObject *self, PyObject *args) {
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
static PyObject *sp_listpack_count(PyObject *self, PyObject *args) {
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
static PyObject *sp_listpack_slice(PyObject *self, PyObject *args) {
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
static PyObject *sp_ziplist(PyObject *self, PyObject *args) {
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
static PyObject *sp_ziplist_count(PyObject *self, PyObject *args) {
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
static PyObject *sp_ziplist_slice(PyObject *self, PyObject *args) {
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

/* lzf(data, ulen) -> bytes: liblzf's lzf_decompress into a bytes object of exactly
 * `ulen` bytes, allocated once (python-lzf's decompress holds two copies at its peak).
 * A token is a literal run (ctrl < 32: ctrl + 1 bytes follow) or a back reference
 * (length ctrl >> 5, 7 = extended by the next byte, + 2; distance from the 13 bits of
 * ctrl & 0x1f and the next byte, + 1). */
static PyObject *sp_lzf(PyObject *self, PyObject *args) {
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

/* Redis string2ll as canonical_int_py: optional '-', ASCII digits without a leading zero
 * (except "0"), not "-0", int64, at most max_len bytes. Returns 1 and sets *out. */
static int canonical(const unsigned char *s, Py_ssize_t n, Py_ssize_t max_len, int64_t *out) {
    if (n == 0 || n > max_len)
        return 0;
    if (n == 1 && s[0] == '0') { *out = 0; return 1; }
    int neg = s[0] == '-';
    const unsigned char *d = s + neg;
    Py_ssize_t nd = n - neg;
    if (nd == 0 || d[0] == '0')
        return 0;
    uint64_t v = 0;
    for (Py_ssize_t i = 0; i < nd; i++) {
        unsigned c = d[i];
        if (c < '0' || c > '9')
            return 0;
        if (v > (UINT64_MAX - (c - '0')) / 10)
            return 0;
        v = v * 10 + (c - '0');
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return 0;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)v;
    }
    return 1;
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
static PyObject *sp_enc_len(PyObject *self, PyObject *arg) {
    uint64_t n = PyLong_AsUnsignedLongLong(arg);
    if (n == (uint64_t)-1 && PyErr_Occurred())
        return NULL;
    unsigned char out[9];
    return PyBytes_FromStringAndSize((const char *)out, put_len(out, n));
}

/* enc_string(s, compress=True) -> bytes */
static PyObject *sp_enc_string(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
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

/* Apply put(item) to every item of a sequence into one buffer; msg is the TypeError of
 * a non-sequence. */
static PyObject *run_of(PyObject *seq_in, const char *msg, int (*put)(Buf *, PyObject *, int),
                        int flag) {
    PyObject *seq = PySequence_Fast(seq_in, msg);
    if (seq == NULL)
        return NULL;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Buf b = {NULL, 0, 0};
    for (Py_ssize_t i = 0; i < k; i++) {
        if (put(&b, items[i], flag) < 0) goto fail;
    }
    Py_DECREF(seq);
    return buf_finish(&b);
fail:
    Py_DECREF(seq);
    PyMem_Free(b.p);
    return NULL;
}

static int put_lp_entry_flag(Buf *b, PyObject *obj, int unused) {
    (void)unused;
    return put_lp_entry(b, obj);
}

/* enc_strings(items, compress=True) -> bytes: the rdb-strings of items, concatenated */
static PyObject *sp_enc_strings(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "enc_strings(items, compress=True)");
        return NULL;
    }
    int compress = nargs < 2 ? 1 : PyObject_IsTrue(args[1]);
    if (compress < 0)
        return NULL;
    return run_of(args[0], "expected a sequence of bytes", put_string, compress);
}

/* lp_entry(s) -> bytes */
static PyObject *sp_lp_entry(PyObject *self, PyObject *arg) {
    Buf b = {NULL, 0, 0};
    if (put_lp_entry(&b, arg) < 0) { PyMem_Free(b.p); return NULL; }
    return buf_finish(&b);
}

/* lp_entries(items) -> bytes: the listpack entries of items, concatenated */
static PyObject *sp_lp_entries(PyObject *self, PyObject *arg) {
    return run_of(arg, "expected a sequence of bytes", put_lp_entry_flag, 0);
}

/* listpack(items) -> bytes: <u32 total> <u16 count, 0xFFFF if >= 65535> entries 0xFF */
static PyObject *sp_listpack_of(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "expected a sequence of bytes");
    if (seq == NULL)
        return NULL;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Buf b = {NULL, 0, 0};
    unsigned char hdr[6] = {0};
    if (buf_put(&b, hdr, 6) < 0) goto fail;
    for (Py_ssize_t i = 0; i < k; i++) {
        if (put_lp_entry(&b, items[i]) < 0) goto fail;
    }
    if (buf_put(&b, "\xff", 1) < 0) goto fail;
    put_le((unsigned char *)b.p, (int64_t)(uint32_t)b.len, 4);
    put_le((unsigned char *)b.p + 4, k < 65535 ? k : 65535, 2);
    Py_DECREF(seq);
    return buf_finish(&b);
fail:
    Py_DECREF(seq);
    PyMem_Free(b.p);
    return NULL;
}

/* canonical_int(s, max_len=20) -> int | None */
static PyObject *sp_canonical_int(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
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
static PyObject *sp_key_record(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
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
static PyObject *sp_ziplist_of(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "expected a sequence of bytes");
    if (seq == NULL)
        return NULL;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Buf b = {NULL, 0, 0};
    unsigned char hdr[10] = {0};
    Py_ssize_t prev = 0, tail = 10;
    if (buf_put(&b, hdr, 10) < 0) goto fail;
    for (Py_ssize_t i = 0; i < k; i++) {
        tail = b.len;
        prev = put_zl_entry(&b, items[i], prev);
        if (prev < 0) goto fail;
    }
    if (buf_put(&b, "\xff", 1) < 0) goto fail;
    put_le((unsigned char *)b.p, (int64_t)(uint32_t)b.len, 4);
    put_le((unsigned char *)b.p + 4, (int64_t)(uint32_t)tail, 4);
    put_le((unsigned char *)b.p + 8, k < 65535 ? k : 65535, 2);
    Py_DECREF(seq);
    return buf_finish(&b);
fail:
    Py_DECREF(seq);
    PyMem_Free(b.p);
    return NULL;
}

/* Append the length encoding of obj (an int). */
static int put_len_flag(Buf *b, PyObject *obj, int unused) {
    (void)unused;
    uint64_t n = PyLong_AsUnsignedLongLong(obj);
    if (n == (uint64_t)-1 && PyErr_Occurred())
        return -1;
    unsigned char out[9];
    return buf_put(b, out, put_len(out, n));
}

/* enc_lens(ns) -> bytes: the length encodings of ns, concatenated */
static PyObject *sp_enc_lens(PyObject *self, PyObject *arg) {
    return run_of(arg, "expected a sequence of integers", put_len_flag, 0);
}

/* lp_fill(items, start, count, node_size, limit, overhead, plain_min) -> (run, next, size):
 * the listpack entries of items[start:] that go into the current quicklist node, as
 * lp_fill_py: an element stops the run when it takes a PLAIN node (plain_min not None
 * and its length >= plain_min) or when the node holds count > 0 entries and
 * size + length + overhead > limit. */
static PyObject *sp_lp_fill(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
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

/* ---------------------------------------------------------------- memory estimator
 * Per-batch element accounting of the memory estimator: twins of the *_py functions of
 * rdbtools/memory/_batch.py (FORMAT.md §4.A-§4.C, §10.2-§10.4). Each takes one batch of
 * elements, the model's parameters and a list of ints holding the accumulator's state,
 * and updates that list in place. */

typedef struct {
    int alloc;          /* 0: jemalloc (8-byte quantum), 1: jemalloc-q16, 2: glibc malloc */
    int sds_old;        /* 8-byte sds headers (before 3.2) */
    int sds_rounded;    /* an sds counts as its allocation (6.0+), else header + len + 1 */
    int64_t dict_entry; /* sizeof(dictEntry) */
} MemParams;

static int mem_params(PyObject *o, MemParams *p) {
    if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != 4) {
        PyErr_SetString(PyExc_TypeError, "params: (allocator, sds_old, sds_rounded, dict_entry)");
        return -1;
    }
    long long v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(o, i));
        if (v[i] == -1 && PyErr_Occurred())
            return -1;
    }
    if (v[0] < 0 || v[0] > 2) {
        PyErr_SetString(PyExc_ValueError, "params: allocator must be 0, 1 or 2");
        return -1;
    }
    p->alloc = (int)v[0];
    p->sds_old = v[1] != 0;
    p->sds_rounded = v[2] != 0;
    p->dict_entry = v[3];
    return 0;
}

/* The allocator's size for an n-byte request (rdbtools/memory/_jemalloc.py). */
static int64_t mem_alloc(const MemParams *p, uint64_t n) {
    if (p->alloc == 2) {
        uint64_t u = ((n + 8 + 15) & ~(uint64_t)15) - 8;
        return (int64_t)(u < 24 ? 24 : u);
    }
    if (n <= 8)
        return 8;
    if (p->alloc == 1) {
        if (n <= 128)
            return (int64_t)((n + 15) & ~(uint64_t)15);
    } else if (n <= 64) {
        return (int64_t)((n + 7) & ~(uint64_t)7);
    }
    uint64_t g = 1; /* largest power of two < n */
    while (g <= (n - 1) >> 1)
        g <<= 1;
    uint64_t step = g >> 2;
    return (int64_t)((n + step - 1) / step * step);
}

static int64_t mem_sds_header(uint64_t n, int old) {
    if (old) return 8;
    if (n == 0) return 3;
    if (n < 32) return 1;
    if (n < 256) return 3;
    if (n < 65536) return 5;
    if (n < ((uint64_t)1 << 32)) return 9;
    return 17;
}

static int64_t mem_sds(const MemParams *p, uint64_t n) {
    int64_t req = mem_sds_header(n, p->sds_old) + (int64_t)n + 1;
    return p->sds_rounded ? mem_alloc(p, (uint64_t)req) : req;
}

static int64_t mem_lp_int(int64_t v) {
    int64_t n;
    if (v >= 0 && v <= 127) n = 1;
    else if (v >= -4096 && v <= 4095) n = 2;
    else if (v >= -32768 && v <= 32767) n = 3;
    else if (v >= -8388608 && v <= 8388607) n = 4;
    else if (v >= -2147483648LL && v <= 2147483647LL) n = 5;
    else n = 9;
    return n + backlen_size((uint64_t)n);
}

/* Bytes of one listpack entry (encoding, data, backlen). */
static int64_t mem_lp_entry(const unsigned char *s, Py_ssize_t ln) {
    int64_t v;
    if (canonical(s, ln, 20, &v))
        return mem_lp_int(v);
    int64_t n = (int64_t)ln + (ln < 64 ? 1 : ln < 4096 ? 2 : 5);
    return n + backlen_size((uint64_t)n);
}

/* Bytes of one ziplist entry without its prevlen field. */
static int64_t mem_zl_entry(const unsigned char *s, Py_ssize_t ln) {
    int64_t v;
    if (canonical(s, ln, 20, &v)) {
        if (v >= 0 && v <= 12) return 1;
        if (v >= -128 && v <= 127) return 2;
        if (v >= -32768 && v <= 32767) return 3;
        if (v >= -8388608 && v <= 8388607) return 4;
        if (v >= -2147483648LL && v <= 2147483647LL) return 5;
        return 9;
    }
    return (int64_t)ln + (ln <= 63 ? 1 : ln <= 16383 ? 2 : 5);
}

/* A listpack or ziplist being appended to: its byte size and the last entry's size
 * (a ziplist entry's prevlen field is 1 byte when that is < 254, else 5). */
typedef struct {
    int64_t size;
    int64_t prev;
} MemBlob;

static void mem_blob_add(MemBlob *b, int ziplist, const unsigned char *s, Py_ssize_t n) {
    if (ziplist) {
        int64_t e = mem_zl_entry(s, n) + (b->prev < 254 ? 1 : 5);
        b->size += e;
        b->prev = e;
    } else {
        b->size += mem_lp_entry(s, n);
    }
}

static int mem_bytes(PyObject *o, const unsigned char **s, Py_ssize_t *n) {
    if (PyBytes_Check(o)) {
        *s = (const unsigned char *)PyBytes_AS_STRING(o);
        *n = PyBytes_GET_SIZE(o);
        return 0;
    }
    if (PyByteArray_Check(o)) {
        *s = (const unsigned char *)PyByteArray_AS_STRING(o);
        *n = PyByteArray_GET_SIZE(o);
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "element must be bytes, not %.100s", Py_TYPE(o)->tp_name);
    return -1;
}

static int mem_load(PyObject *st, int64_t *v, Py_ssize_t k) {
    if (!PyList_Check(st) || PyList_GET_SIZE(st) != k) {
        PyErr_Format(PyExc_TypeError, "state must be a list of %zd ints", k);
        return -1;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        v[i] = PyLong_AsLongLong(PyList_GET_ITEM(st, i));
        if (v[i] == -1 && PyErr_Occurred())
            return -1;
    }
    return 0;
}

static int mem_store(PyObject *st, const int64_t *v, Py_ssize_t k) {
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *o = PyLong_FromLongLong(v[i]);
        if (o == NULL)
            return -1;
        if (PyList_SetItem(st, i, o) < 0)
            return -1;
    }
    return 0;
}

static int mem_int_arg(PyObject *o, int64_t *out) {
    long long v = PyLong_AsLongLong(o);
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = v;
    return 0;
}

#define MEM_ARGS(name, count)                                                     \
    if (nargs != (count)) {                                                       \
        PyErr_SetString(PyExc_TypeError, name "() takes " #count " arguments");   \
        return NULL;                                                              \
    }

/* mem_set(members, params, lp_max, hist, st): st = [elements, largest, all_int, width,
 * lp_size, ht]; hist (a dict length -> count, or None) takes the member lengths instead
 * of ht (Valkey 8). */
static PyObject *sp_mem_set(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    MEM_ARGS("mem_set", 5)
    MemParams p;
    int64_t lp_max, s[6];
    PyObject *hist = args[3];
    if (mem_params(args[1], &p) < 0 || mem_int_arg(args[2], &lp_max) < 0 ||
        mem_load(args[4], s, 6) < 0)
        return NULL;
    if (hist != Py_None && !PyDict_Check(hist)) {
        PyErr_SetString(PyExc_TypeError, "hist must be a dict or None");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "members must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *m;
        Py_ssize_t n;
        if (mem_bytes(items[i], &m, &n) < 0) goto fail;
        s[0] += 1;
        if (n > s[1]) s[1] = n;
        if (s[2]) {
            int64_t v;
            if (!canonical(m, n, 20, &v)) {
                s[2] = 0;
            } else {
                int64_t w = (v >= -32768 && v <= 32767) ? 2
                            : (v >= -2147483648LL && v <= 2147483647LL) ? 4 : 8;
                if (w > s[3]) s[3] = w;
            }
        }
        if (s[0] <= lp_max)
            s[4] += mem_lp_entry(m, n);
        if (hist != Py_None) {
            PyObject *key = PyLong_FromSsize_t(n);
            if (key == NULL) goto fail;
            PyObject *old = PyDict_GetItemWithError(hist, key);
            long long k = 0;
            if (old == NULL && PyErr_Occurred()) { Py_DECREF(key); goto fail; }
            if (old != NULL) {
                k = PyLong_AsLongLong(old);
                if (k == -1 && PyErr_Occurred()) { Py_DECREF(key); goto fail; }
            }
            PyObject *val = PyLong_FromLongLong(k + 1);
            int rc = val == NULL ? -1 : PyDict_SetItem(hist, key, val);
            Py_XDECREF(val);
            Py_DECREF(key);
            if (rc < 0) goto fail;
        } else {
            s[5] += p.dict_entry + mem_sds(&p, (uint64_t)n);
        }
    }
    Py_DECREF(seq);
    if (mem_store(args[4], s, 6) < 0)
        return NULL;
    Py_RETURN_NONE;
fail:
    Py_DECREF(seq);
    return NULL;
}

/* The listpack/ziplist entry of a sorted-set score: its text as score_text() writes it
 * (integers as integers, else %.17g or the shortest round-trip form). */
static int mem_blob_add_score(MemBlob *b, int ziplist, double score, int shortest) {
    char buf[32];
    const char *text = buf;
    char *owned = NULL;
    if (isinf(score)) {
        text = score > 0 ? "inf" : "-inf";
    } else if (isnan(score)) {
        text = "nan";
    } else if (fabs(score) < 1e17 && score == (double)(long long)score) {
        snprintf(buf, sizeof buf, "%lld", (long long)score);
    } else {
        owned = PyOS_double_to_string(score, shortest ? 'r' : 'g', shortest ? 0 : 17,
                                      shortest ? Py_DTSF_ADD_DOT_0 : 0, NULL);
        if (owned == NULL)
            return -1;
        text = owned;
    }
    mem_blob_add(b, ziplist, (const unsigned char *)text, (Py_ssize_t)strlen(text));
    if (owned != NULL)
        PyMem_Free(owned);
    return 0;
}

/* mem_zset(members, params, lp_max, ziplist, shortest, st): members are (member, score)
 * pairs; st = [elements, largest, lp_size, lp_prev, ht]. */
static PyObject *sp_mem_zset(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    MEM_ARGS("mem_zset", 6)
    MemParams p;
    int64_t lp_max, s[5];
    int ziplist = PyObject_IsTrue(args[3]), shortest = PyObject_IsTrue(args[4]);
    if (ziplist < 0 || shortest < 0 || mem_params(args[1], &p) < 0 ||
        mem_int_arg(args[2], &lp_max) < 0 || mem_load(args[5], s, 5) < 0)
        return NULL;
    PyObject *seq = PySequence_Fast(args[0], "members must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    MemBlob lp = {s[2], s[3]};
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = items[i];
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "a sorted-set member must be a (member, score) tuple");
            goto fail;
        }
        const unsigned char *m;
        Py_ssize_t n;
        if (mem_bytes(PyTuple_GET_ITEM(pair, 0), &m, &n) < 0) goto fail;
        double score = PyFloat_AsDouble(PyTuple_GET_ITEM(pair, 1));
        if (score == -1.0 && PyErr_Occurred()) goto fail;
        s[0] += 1;
        if (n > s[1]) s[1] = n;
        if (s[0] <= lp_max) {
            mem_blob_add(&lp, ziplist, m, n);
            if (mem_blob_add_score(&lp, ziplist, score, shortest) < 0) goto fail;
        }
        s[4] += mem_sds(&p, (uint64_t)n) + p.dict_entry;
    }
    Py_DECREF(seq);
    s[2] = lp.size;
    s[3] = lp.prev;
    if (mem_store(args[5], s, 5) < 0)
        return NULL;
    Py_RETURN_NONE;
fail:
    Py_DECREF(seq);
    return NULL;
}

/* mem_hash(fields, params, lp_max, ziplist, mstr, st): fields are (field, value,
 * expire_ms or None) triples; st = [elements, largest, ttl, lp_size, lp_prev, ht]; mstr:
 * fields are 7.4 "mstr"s, else sds. */
static PyObject *sp_mem_hash(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    MEM_ARGS("mem_hash", 6)
    MemParams p;
    int64_t lp_max, s[6];
    int ziplist = PyObject_IsTrue(args[3]), mstr = PyObject_IsTrue(args[4]);
    if (ziplist < 0 || mstr < 0 || mem_params(args[1], &p) < 0 ||
        mem_int_arg(args[2], &lp_max) < 0 || mem_load(args[5], s, 6) < 0)
        return NULL;
    PyObject *seq = PySequence_Fast(args[0], "fields must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    MemBlob lp = {s[3], s[4]};
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *t = items[i];
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3) {
            PyErr_SetString(PyExc_TypeError, "a hash field must be a (field, value, expire) tuple");
            goto fail;
        }
        const unsigned char *f, *v;
        Py_ssize_t lf, lv;
        if (mem_bytes(PyTuple_GET_ITEM(t, 0), &f, &lf) < 0 ||
            mem_bytes(PyTuple_GET_ITEM(t, 1), &v, &lv) < 0)
            goto fail;
        PyObject *exp = PyTuple_GET_ITEM(t, 2);
        int has_exp = exp != Py_None;
        s[0] += 1;
        Py_ssize_t n = lf > lv ? lf : lv;
        if (n > s[1]) s[1] = n;
        if (has_exp) s[2] = 1;
        if (s[0] <= lp_max) {
            mem_blob_add(&lp, ziplist, f, lf);
            mem_blob_add(&lp, ziplist, v, lv);
            if (s[2]) {
                int64_t e = 0;
                if (has_exp) {
                    int overflow;
                    long long ev = PyLong_AsLongLongAndOverflow(exp, &overflow);
                    if (ev == -1 && PyErr_Occurred()) goto fail;
                    /* any value outside int64 takes the 9-byte form, as INT64_MAX does */
                    e = overflow ? INT64_MAX : ev;
                }
                lp.size += mem_lp_int(e);
            }
        }
        int64_t field;
        if (mstr) {
            int64_t hdr = lf < 32 ? 1 : lf < 65536 ? 3 : 9;
            field = mem_alloc(&p, (uint64_t)(hdr + lf + 1 + (has_exp ? 18 : 0)));
        } else {
            field = mem_sds(&p, (uint64_t)lf);
        }
        s[5] += p.dict_entry + field + mem_sds(&p, (uint64_t)lv);
    }
    Py_DECREF(seq);
    s[3] = lp.size;
    s[4] = lp.prev;
    if (mem_store(args[5], s, 6) < 0)
        return NULL;
    Py_RETURN_NONE;
fail:
    Py_DECREF(seq);
    return NULL;
}

/* mem_list(items, params, cfg, close_first, st): cfg = (ziplist, by_offset, plain_max,
 * node_max, node_struct, blob_rounded); st = [elements, largest, whole_size, whole_count,
 * whole_prev, node_open, node_size, node_prev, nodes, nodes_cost]. Quicklist nodes as
 * _quicklistNodeAllowInsert fills them (or one per batch when by_offset), PLAIN nodes
 * for elements of at least plain_max bytes, and the whole list as one blob for its
 * first 65535 elements. */
static void mem_list_close(int64_t *s, const MemParams *p, int64_t node_struct, int rounded) {
    if (s[5]) {
        s[8] += 1;
        s[9] += node_struct + (rounded ? mem_alloc(p, (uint64_t)s[6]) : s[6]);
    }
    s[5] = s[6] = s[7] = 0;
}

static PyObject *sp_mem_list(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    MEM_ARGS("mem_list", 5)
    MemParams p;
    int64_t s[10], cfg[6];
    int close_first = PyObject_IsTrue(args[3]);
    if (close_first < 0 || mem_params(args[1], &p) < 0 || mem_load(args[4], s, 10) < 0)
        return NULL;
    if (!PyTuple_Check(args[2]) || PyTuple_GET_SIZE(args[2]) != 6) {
        PyErr_SetString(PyExc_TypeError, "cfg must be a 6-tuple");
        return NULL;
    }
    for (int i = 0; i < 6; i++)
        if (mem_int_arg(PyTuple_GET_ITEM(args[2], i), &cfg[i]) < 0)
            return NULL;
    int ziplist = cfg[0] != 0, by_offset = cfg[1] != 0, rounded = cfg[5] != 0;
    int64_t plain_max = cfg[2], node_max = cfg[3], node_struct = cfg[4];
    int64_t empty = ziplist ? 11 : 7;
    PyObject *seq = PySequence_Fast(args[0], "items must be a sequence");
    if (seq == NULL)
        return NULL;
    if (close_first)
        mem_list_close(s, &p, node_struct, rounded);
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    MemBlob whole = {s[2], s[4]}, node = {s[6], s[7]};
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *e;
        Py_ssize_t n;
        if (mem_bytes(items[i], &e, &n) < 0) goto fail;
        s[0] += 1;
        if (n > s[1]) s[1] = n;
        if (s[3] < 0xFFFF) {
            mem_blob_add(&whole, ziplist, e, n);
            s[3] += 1;
        }
        if (n >= plain_max) {
            s[6] = node.size;
            s[7] = node.prev;
            mem_list_close(s, &p, node_struct, rounded);
            s[8] += 1;
            s[9] += node_struct + mem_alloc(&p, (uint64_t)n);
            continue;
        }
        if (!s[5]) {
            s[5] = 1;
            node.size = empty;
            node.prev = 0;
        } else if (!by_offset && node.size + n + 8 > node_max) {
            s[6] = node.size;
            s[7] = node.prev;
            mem_list_close(s, &p, node_struct, rounded);
            s[5] = 1;
            node.size = empty;
            node.prev = 0;
        }
        mem_blob_add(&node, ziplist, e, n);
    }
    Py_DECREF(seq);
    s[2] = whole.size;
    s[4] = whole.prev;
    if (s[5]) {
        s[6] = node.size;
        s[7] = node.prev;
    }
    if (mem_store(args[4], s, 10) < 0)
        return NULL;
    Py_RETURN_NONE;
fail:
    Py_DECREF(seq);
    return NULL;
}

/* mem_lp_sum(items) -> the listpack bytes of these elements (entries only). */
static PyObject *sp_mem_lp_sum(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "items must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    int64_t total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *e;
        Py_ssize_t n;
        if (mem_bytes(items[i], &e, &n) < 0) { Py_DECREF(seq); return NULL; }
        total += mem_lp_entry(e, n);
    }
    Py_DECREF(seq);
    return PyLong_FromLongLong(total);
}

/* mem_int(s) -> 1 if s is a canonical int64 decimal (string2ll), else 0. */
static PyObject *sp_mem_int(PyObject *self, PyObject *arg) {
    const unsigned char *s;
    Py_ssize_t n;
    int64_t v;
    if (mem_bytes(arg, &s, &n) < 0)
        return NULL;
    return PyBool_FromLong(canonical(s, n, 20, &v));
}

/* ------------------------------------------------------------------ AOF walk
 * The C twin of the fast path of the AOF RESP parser, rdbtools/aof/_walk.py:
 * aof_walk_full is walk_full_py (the reference) and aof_cum is Lines.cum there.
 * A command is a canonical "*<n>" line (1 <= n <= max_argc) followed by 2n lines, each
 * argument after the canonical "$<len>" of its length (FORMAT.md 8.1); "#..." lines are
 * annotations, "#TS:<digits>" sets the timestamp (8.3). The walk stops at the first line
 * it cannot take, at a command not complete in the window, or at the first command whose
 * "$" lines are not canonical (Walk.verified: its index). */

static struct {
    PyTypeObject *cls;
    Py_ssize_t db, ts, offsets, args, count, end;
} aw_bt;

#define AW_SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))
#define AW_END 0
#define AW_ANOMALY 1
#define AW_CUT 2

static int aw_slot(PyObject *cls, const char *name, Py_ssize_t *off) {
    PyObject *d = PyObject_GetAttrString(cls, name);
    if (d == NULL)
        return -1;
    if (!PyObject_TypeCheck(d, &PyMemberDescr_Type)
            || ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
        Py_DECREF(d);
        PyErr_Format(PyExc_TypeError, "Batch.%s is not a slot", name);
        return -1;
    }
    *off = ((PyMemberDescrObject *)d)->d_member->offset;
    Py_DECREF(d);
    return 0;
}

/* The slot offsets of the Batch class (which must have exactly these six slots). */
static int aw_batch_type(PyObject *cls) {
    if ((PyTypeObject *)cls == aw_bt.cls)
        return 0;
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "aof_walk_full: Batch must be a class");
        return -1;
    }
    PyObject *slots = PyObject_GetAttrString(cls, "__slots__");
    if (slots == NULL)
        return -1;
    Py_ssize_t ns = PyObject_Length(slots);
    Py_DECREF(slots);
    if (ns != 6) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "aof_walk_full: Batch must have six slots");
        return -1;
    }
    Py_ssize_t o[6];
    if (aw_slot(cls, "db", &o[0]) < 0 || aw_slot(cls, "timestamp", &o[1]) < 0
            || aw_slot(cls, "offsets", &o[2]) < 0 || aw_slot(cls, "args", &o[3]) < 0
            || aw_slot(cls, "count", &o[4]) < 0 || aw_slot(cls, "end", &o[5]) < 0)
        return -1;
    Py_INCREF(cls);
    Py_XDECREF(aw_bt.cls);
    aw_bt.cls = (PyTypeObject *)cls;
    aw_bt.db = o[0]; aw_bt.ts = o[1]; aw_bt.offsets = o[2];
    aw_bt.args = o[3]; aw_bt.count = o[4]; aw_bt.end = o[5];
    return 0;
}

/* Batch(db, ts): empty offsets and args, count and end 0. */
static PyObject *aw_new_batch(PyObject *db, PyObject *ts) {
    PyObject *b = aw_bt.cls->tp_alloc(aw_bt.cls, 0);
    if (b == NULL)
        return NULL;
    PyObject *offs = PyList_New(0), *args = PyList_New(0), *zero = PyLong_FromLong(0);
    if (offs == NULL || args == NULL || zero == NULL) {
        Py_XDECREF(offs); Py_XDECREF(args); Py_XDECREF(zero); Py_DECREF(b);
        return NULL;
    }
    Py_INCREF(db); AW_SLOT(b, aw_bt.db) = db;
    Py_INCREF(ts); AW_SLOT(b, aw_bt.ts) = ts;
    AW_SLOT(b, aw_bt.offsets) = offs;
    AW_SLOT(b, aw_bt.args) = args;
    Py_INCREF(zero); AW_SLOT(b, aw_bt.count) = zero;
    AW_SLOT(b, aw_bt.end) = zero;
    return b;
}

/* Set count (and end, when the batch holds commands) of a finished batch. */
static int aw_close(PyObject *b, Py_ssize_t end) {
    Py_ssize_t n = PyList_GET_SIZE(AW_SLOT(b, aw_bt.args));
    PyObject *c = PyLong_FromSsize_t(n);
    if (c == NULL)
        return -1;
    Py_SETREF(AW_SLOT(b, aw_bt.count), c);
    if (n) {
        PyObject *e = PyLong_FromSsize_t(end);
        if (e == NULL)
            return -1;
        Py_SETREF(AW_SLOT(b, aw_bt.end), e);
    }
    return 0;
}

/* The n of a canonical "*<n>" line with 1 <= n <= max, else 0. */
static Py_ssize_t aw_star(const char *p, Py_ssize_t len, Py_ssize_t max) {
    if (len < 2 || len > 12 || p[0] != '*' || p[1] < '1' || p[1] > '9')
        return 0;
    Py_ssize_t v = 0;
    for (Py_ssize_t k = 1; k < len; k++) {
        if (p[k] < '0' || p[k] > '9')
            return 0;
        v = v * 10 + (p[k] - '0');
    }
    return v <= max ? v : 0;
}

/* Whether h is "$" and the canonical decimal of n. */
static int aw_head(PyObject *h, Py_ssize_t n) {
    Py_ssize_t len = PyBytes_GET_SIZE(h);
    const char *p = PyBytes_AS_STRING(h);
    char tmp[24];
    Py_ssize_t k = dec_len(n, tmp);
    return len == k + 1 && p[0] == '$' && memcmp(p + 1, tmp, (size_t)k) == 0;
}

/* bytes.isdigit(): at least one byte, all of them ASCII digits. */
static int aw_digits(const char *p, Py_ssize_t len) {
    if (len < 1)
        return 0;
    for (Py_ssize_t k = 0; k < len; k++)
        if (p[k] < '0' || p[k] > '9')
            return 0;
    return 1;
}

/* 1, 2, 3 for SELECT, MULTI, EXEC in any ASCII case, else 0. */
static int aw_kind(const char *p, Py_ssize_t len) {
    static const char *names[] = {"SELECT", "MULTI", "EXEC"};
    for (int k = 0; k < 3; k++) {
        if ((Py_ssize_t)strlen(names[k]) != len)
            continue;
        Py_ssize_t q = 0;
        for (; q < len; q++) {
            char c = p[q];
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 32);
            if (c != names[k][q])
                break;
        }
        if (q == len)
            return k + 1;
    }
    return 0;
}

static int aw_attr_ssize(PyObject *o, const char *name, Py_ssize_t *out) {
    PyObject *v = PyObject_GetAttrString(o, name);
    if (v == NULL)
        return -1;
    *out = PyLong_AsSsize_t(v);
    Py_DECREF(v);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int aw_set_attr(PyObject *o, const char *name, PyObject *v /* stolen */) {
    if (v == NULL)
        return -1;
    int rc = PyObject_SetAttrString(o, name, v);
    Py_DECREF(v);
    return rc;
}

/* aof_cum(lines) -> bytes: native int64 cum[0 .. len(lines)], cum[k] the total length
 * of lines 0 .. k-1 (without their "\r\n"). */
static PyObject *sp_aof_cum(PyObject *self, PyObject *lines) {
    if (!PyList_Check(lines) && !PyTuple_Check(lines)) {
        PyErr_SetString(PyExc_TypeError, "aof_cum() takes a list of bytes");
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(lines);
    PyObject **items = PySequence_Fast_ITEMS(lines);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (n + 1) * (Py_ssize_t)sizeof(int64_t));
    if (out == NULL)
        return NULL;
    int64_t *c = (int64_t *)PyBytes_AS_STRING(out), s = 0;
    c[0] = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!PyBytes_Check(items[k])) {
            Py_DECREF(out);
            PyErr_SetString(PyExc_TypeError, "aof_cum() takes a list of bytes");
            return NULL;
        }
        s += PyBytes_GET_SIZE(items[k]);
        c[k + 1] = s;
    }
    return out;
}

/* aof_walk_full(lines, nl, off, i, st, Batch, Walk, max_argc, annotation_max) -> Walk:
 * walk_full_py from line i, which starts at byte off. */
static PyObject *sp_aof_walk_full(PyObject *self, PyObject *const *a, Py_ssize_t nargs) {
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "aof_walk_full() takes 9 arguments");
        return NULL;
    }
    PyObject *lines = a[0], *st = a[4];
    if (!PyList_Check(lines) && !PyTuple_Check(lines)) {
        PyErr_SetString(PyExc_TypeError, "aof_walk_full() takes a list of lines");
        return NULL;
    }
    Py_ssize_t nl = PyLong_AsSsize_t(a[1]), off = PyLong_AsSsize_t(a[2]);
    Py_ssize_t i = PyLong_AsSsize_t(a[3]), max_argc = PyLong_AsSsize_t(a[7]);
    Py_ssize_t ann_max = PyLong_AsSsize_t(a[8]);
    if (PyErr_Occurred() || aw_batch_type(a[5]) < 0)
        return NULL;
    if (nl < 0 || nl >= PySequence_Fast_GET_SIZE(lines) || i < 0) {
        PyErr_SetString(PyExc_ValueError, "aof_walk_full(): line numbers out of range");
        return NULL;
    }
    PyObject **items = PySequence_Fast_ITEMS(lines);
    Py_ssize_t multi_at, annotations;
    if (aw_attr_ssize(st, "multi_at", &multi_at) < 0
            || aw_attr_ssize(st, "annotations", &annotations) < 0)
        return NULL;
    PyObject *db = PyObject_GetAttrString(st, "db");
    PyObject *ts = PyObject_GetAttrString(st, "timestamp");
    PyObject *limit = PyObject_GetAttrString(st, "limit");
    PyObject *batches = PyList_New(0), *multis = PyList_New(0), *batch = NULL;
    PyObject *walk = NULL;
    if (db == NULL || ts == NULL || limit == NULL || batches == NULL || multis == NULL)
        goto fail;
    batch = aw_new_batch(db, ts);
    if (batch == NULL || PyList_Append(batches, batch) < 0
            || append_steal(multis, PyLong_FromSsize_t(multi_at)) < 0)
        goto fail;
    PyObject *boffs = AW_SLOT(batch, aw_bt.offsets), *bargs = AW_SLOT(batch, aw_bt.args);
    Py_ssize_t start = i, ncmd = 0, bad = -1, end = 0;
    int why = AW_END;
    while (i < nl) {
        PyObject *h = items[i];
        if (!PyBytes_Check(h))
            goto not_bytes;
        const char *hp = PyBytes_AS_STRING(h);
        Py_ssize_t hn = PyBytes_GET_SIZE(h);
        Py_ssize_t n = aw_star(hp, hn, max_argc);
        if (n) {
            Py_ssize_t j = i + 1 + n + n;
            if (j > nl)
                break;
            for (Py_ssize_t k = i + 1; k < j; k++)
                if (!PyBytes_Check(items[k]))
                    goto not_bytes;
            PyObject *name = items[i + 2];
            int kind = aw_kind(PyBytes_AS_STRING(name), PyBytes_GET_SIZE(name));
            if (kind == 1) {
                PyObject *arg = items[i + 4];
                if (n != 2 || PyBytes_GET_SIZE(arg) > 18
                        || !aw_digits(PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg))) {
                    why = AW_ANOMALY;
                    break;
                }
            } else if ((kind == 2 && multi_at >= 0) || (kind == 3 && multi_at < 0)) {
                why = AW_ANOMALY;
                break;
            }
            Py_ssize_t size = hn + 2;
            int ok = 1;
            for (Py_ssize_t k = i + 1; k < j; k += 2) {
                Py_ssize_t an = PyBytes_GET_SIZE(items[k + 1]);
                if (!aw_head(items[k], an)) {
                    ok = 0;
                    break;
                }
                size += PyBytes_GET_SIZE(items[k]) + an + 4;
            }
            if (!ok) {
                bad = ncmd;
                why = AW_ANOMALY;
                break;
            }
            PyObject *args = PyTuple_New(n);
            if (args == NULL)
                goto fail;
            for (Py_ssize_t k = 0; k < n; k++) {
                PyObject *v = items[i + 2 + 2 * k];
                Py_INCREF(v);
                PyTuple_SET_ITEM(args, k, v);
            }
            if (append_steal(bargs, args) < 0
                    || append_steal(boffs, PyLong_FromSsize_t(off)) < 0)
                goto fail;
            ncmd++;
            Py_ssize_t at = off;
            off += size;
            end = off;
            i = j;
            if (kind) {
                if (kind == 1) {
                    PyObject *arg = items[j - 1];
                    long long v = 0;
                    const char *p = PyBytes_AS_STRING(arg);
                    for (Py_ssize_t k = 0; k < PyBytes_GET_SIZE(arg); k++)
                        v = v * 10 + (p[k] - '0');
                    PyObject *ndb = PyLong_FromLongLong(v);
                    if (ndb == NULL)
                        goto fail;
                    Py_SETREF(db, ndb);
                } else {
                    multi_at = kind == 2 ? at : -1;
                }
                if (aw_close(batch, end) < 0)
                    goto fail;
                Py_SETREF(batch, aw_new_batch(db, ts));
                if (batch == NULL || PyList_Append(batches, batch) < 0
                        || append_steal(multis, PyLong_FromSsize_t(multi_at)) < 0)
                    goto fail;
                boffs = AW_SLOT(batch, aw_bt.offsets);
                bargs = AW_SLOT(batch, aw_bt.args);
            }
            continue;
        }
        if (hn >= 1 && hp[0] == '#' && hn <= ann_max && memchr(hp, '\n', (size_t)hn) == NULL) {
            if (hn >= 4 && memcmp(hp, "#TS:", 4) == 0) {
                if (aw_digits(hp + 4, hn - 4)) {
                    /* bytes objects end with a NUL: the digits are the whole string */
                    PyObject *t = PyLong_FromString(hp + 4, NULL, 10);
                    if (t == NULL)
                        goto fail;
                    int later = limit == Py_None ? 0 : PyObject_RichCompareBool(t, limit, Py_GT);
                    if (later != 0) {
                        Py_DECREF(t);
                        if (later < 0)
                            goto fail;
                        why = AW_CUT;
                        break;
                    }
                    int other = ts == Py_None ? 1 : PyObject_RichCompareBool(t, ts, Py_NE);
                    if (other < 0) {
                        Py_DECREF(t);
                        goto fail;
                    }
                    if (other) {
                        Py_SETREF(ts, t);
                        if (aw_close(batch, end) < 0)
                            goto fail;
                        Py_SETREF(batch, aw_new_batch(db, ts));
                        if (batch == NULL || PyList_Append(batches, batch) < 0
                                || append_steal(multis, PyLong_FromSsize_t(multi_at)) < 0)
                            goto fail;
                        boffs = AW_SLOT(batch, aw_bt.offsets);
                        bargs = AW_SLOT(batch, aw_bt.args);
                    } else {
                        Py_DECREF(t);
                    }
                } else if (limit != Py_None) {
                    why = AW_ANOMALY;
                    break;
                }
            }
            annotations++;
            off += hn + 2;
            i++;
            continue;
        }
        why = AW_ANOMALY;
        break;
    }
    if (aw_close(batch, end) < 0)
        goto fail;
    if (PyObject_SetAttrString(st, "db", db) < 0 || PyObject_SetAttrString(st, "timestamp", ts) < 0
            || aw_set_attr(st, "multi_at", PyLong_FromSsize_t(multi_at)) < 0
            || aw_set_attr(st, "annotations", PyLong_FromSsize_t(annotations)) < 0)
        goto fail;
    {
        PyObject *wa[5] = {PyLong_FromSsize_t(start), PyLong_FromSsize_t(i),
                           PyLong_FromLong(why), batches, multis};
        if (wa[0] != NULL && wa[1] != NULL && wa[2] != NULL)
            walk = PyObject_Vectorcall(a[6], wa, 5, NULL);
        Py_XDECREF(wa[0]); Py_XDECREF(wa[1]); Py_XDECREF(wa[2]);
    }
    if (walk == NULL)
        goto fail;
    if (bad >= 0 && aw_set_attr(walk, "verified", PyLong_FromSsize_t(bad)) < 0)
        goto fail;
    Py_DECREF(db); Py_DECREF(ts); Py_DECREF(limit);
    Py_DECREF(batches); Py_DECREF(multis); Py_DECREF(batch);
    return walk;
not_bytes:
    PyErr_SetString(PyExc_TypeError, "aof_walk_full(): the lines must be bytes");
fail:
    Py_XDECREF(db); Py_XDECREF(ts); Py_XDECREF(limit);
    Py_XDECREF(batches); Py_XDECREF(multis); Py_XDECREF(batch); Py_XDECREF(walk);
    return NULL;
}

static PyMethodDef methods[] = {
    {"aof_walk_full", (PyCFunction)(void (*)(void))sp_aof_walk_full, METH_FASTCALL, "The fast path of the AOF RESP parser."},
    {"aof_cum", sp_aof_cum, METH_O, "Cumulative line lengths as int64."},
    {"mem_set", (PyCFunction)(void (*)(void))sp_mem_set, METH_FASTCALL, "Account for a batch of set members."},
    {"mem_zset", (PyCFunction)(void (*)(void))sp_mem_zset, METH_FASTCALL, "Account for a batch of sorted-set members."},
    {"mem_hash", (PyCFunction)(void (*)(void))sp_mem_hash, METH_FASTCALL, "Account for a batch of hash fields."},
    {"mem_list", (PyCFunction)(void (*)(void))sp_mem_list, METH_FASTCALL, "Account for a batch of list elements."},
    {"mem_lp_sum", sp_mem_lp_sum, METH_O, "Listpack bytes of a run of elements."},
    {"mem_int", sp_mem_int, METH_O, "Whether bytes are a canonical int64 decimal."},
    {"lp_fill", (PyCFunction)(void (*)(void))sp_lp_fill, METH_FASTCALL, "Fill a quicklist node."},
    {"ziplist_of", sp_ziplist_of, METH_O, "A ziplist blob of elements."},
    {"enc_lens", sp_enc_lens, METH_O, "A run of length encodings."},
    {"key_record", (PyCFunction)(void (*)(void))sp_key_record, METH_FASTCALL, "Append one key record."},
    {"enc_len", sp_enc_len, METH_O, "Length encoding."},
    {"enc_string", (PyCFunction)(void (*)(void))sp_enc_string, METH_FASTCALL, "One rdb-string."},
    {"enc_strings", (PyCFunction)(void (*)(void))sp_enc_strings, METH_FASTCALL, "A run of rdb-strings."},
    {"lp_entry", sp_lp_entry, METH_O, "One listpack entry."},
    {"lp_entries", sp_lp_entries, METH_O, "A run of listpack entries."},
    {"listpack_of", sp_listpack_of, METH_O, "A listpack blob of elements."},
    {"canonical_int", (PyCFunction)(void (*)(void))sp_canonical_int, METH_FASTCALL, "string2ll."},
    {"resp", (PyCFunction)(void (*)(void))sp_resp, METH_FASTCALL, "One RESP command."},
    {"listpack", sp_listpack, METH_VARARGS, "Decode a listpack blob."},
    {"ziplist", sp_ziplist, METH_VARARGS, "Decode a ziplist blob."},
    {"lzf", sp_lzf, METH_VARARGS, "LZF decompression to an exact length."},
    {"listpack_count", sp_listpack_count, METH_VARARGS, "Check a listpack blob, count its entries."},
    {"listpack_slice", sp_listpack_slice, METH_VARARGS, "Decode a run of listpack entries."},
    {"ziplist_count", sp_ziplist_count, METH_VARARGS, "Check a ziplist blob, count its entries."},
    {"ziplist_slice", sp_ziplist_slice, METH_VARARGS, "Decode a run of ziplist entries."},
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
