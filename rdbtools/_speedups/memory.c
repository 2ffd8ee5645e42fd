#include "speedups.h"

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

/* One call of a mem_* batch function: the model's parameters (args[1]), its state list
 * (the last argument: k ints, loaded into s) and its elements (args[0], as a fast
 * sequence). mem_open checks the argument count and reads params and state; the caller
 * reads its own arguments, then mem_items takes the elements; mem_close releases them
 * and, when the batch went through, stores the state back. */
typedef struct {
    MemParams p;
    int64_t s[10];
    PyObject *seq;
    PyObject **items;
    Py_ssize_t count;
} MemBatch;

static int mem_open(MemBatch *b, PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want,
                    const char *name, Py_ssize_t k) {
    b->seq = NULL;
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments", name, want);
        return -1;
    }
    return mem_params(args[1], &b->p) < 0 || mem_load(args[want - 1], b->s, k) < 0 ? -1 : 0;
}

static int mem_items(MemBatch *b, PyObject *items, const char *what) {
    b->seq = PySequence_Fast(items, what);
    if (b->seq == NULL)
        return -1;
    b->count = PySequence_Fast_GET_SIZE(b->seq);
    b->items = PySequence_Fast_ITEMS(b->seq);
    return 0;
}

static PyObject *mem_close(MemBatch *b, int ok, PyObject *st, Py_ssize_t k) {
    Py_XDECREF(b->seq);
    if (!ok || mem_store(st, b->s, k) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* mem_set(members, params, lp_max, hist, st): st = [elements, largest, all_int, width,
 * lp_size, ht]; hist (a dict length -> count, or None) takes the member lengths instead
 * of ht (Valkey 8). */
PyObject *sp_mem_set(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    MemBatch b;
    int64_t lp_max, *s = b.s;
    PyObject *hist = args[3];
    if (mem_open(&b, args, nargs, 5, "mem_set", 6) < 0 || mem_int_arg(args[2], &lp_max) < 0)
        return NULL;
    if (hist != Py_None && !PyDict_Check(hist)) {
        PyErr_SetString(PyExc_TypeError, "hist must be a dict or None");
        return NULL;
    }
    if (mem_items(&b, args[0], "members must be a sequence") < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < b.count; i++) {
        const unsigned char *m;
        Py_ssize_t n;
        if (mem_bytes(b.items[i], &m, &n) < 0) goto fail;
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
            s[5] += b.p.dict_entry + mem_sds(&b.p, (uint64_t)n);
        }
    }
    return mem_close(&b, 1, args[4], 6);
fail:
    return mem_close(&b, 0, args[4], 6);
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
PyObject *sp_mem_zset(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    MemBatch b;
    int64_t lp_max, *s = b.s;
    int ziplist, shortest;
    if (mem_open(&b, args, nargs, 6, "mem_zset", 5) < 0 || mem_int_arg(args[2], &lp_max) < 0
        || (ziplist = PyObject_IsTrue(args[3])) < 0 || (shortest = PyObject_IsTrue(args[4])) < 0
        || mem_items(&b, args[0], "members must be a sequence") < 0)
        return NULL;
    MemBlob lp = {s[2], s[3]};
    for (Py_ssize_t i = 0; i < b.count; i++) {
        PyObject *pair = b.items[i];
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
        s[4] += mem_sds(&b.p, (uint64_t)n) + b.p.dict_entry;
    }
    s[2] = lp.size;
    s[3] = lp.prev;
    return mem_close(&b, 1, args[5], 5);
fail:
    return mem_close(&b, 0, args[5], 5);
}

/* mem_hash(fields, params, lp_max, ziplist, mstr, st): fields are (field, value,
 * expire_ms or None) triples; st = [elements, largest, ttl, lp_size, lp_prev, ht]; mstr:
 * fields are 7.4 "mstr"s, else sds. */
PyObject *sp_mem_hash(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    MemBatch b;
    int64_t lp_max, *s = b.s;
    int ziplist, mstr;
    if (mem_open(&b, args, nargs, 6, "mem_hash", 6) < 0 || mem_int_arg(args[2], &lp_max) < 0
        || (ziplist = PyObject_IsTrue(args[3])) < 0 || (mstr = PyObject_IsTrue(args[4])) < 0
        || mem_items(&b, args[0], "fields must be a sequence") < 0)
        return NULL;
    MemBlob lp = {s[3], s[4]};
    for (Py_ssize_t i = 0; i < b.count; i++) {
        PyObject *t = b.items[i];
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
            field = mem_alloc(&b.p, (uint64_t)(hdr + lf + 1 + (has_exp ? 18 : 0)));
        } else {
            field = mem_sds(&b.p, (uint64_t)lf);
        }
        s[5] += b.p.dict_entry + field + mem_sds(&b.p, (uint64_t)lv);
    }
    s[3] = lp.size;
    s[4] = lp.prev;
    return mem_close(&b, 1, args[5], 6);
fail:
    return mem_close(&b, 0, args[5], 6);
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

PyObject *sp_mem_list(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs) {
    MemBatch b;
    int64_t *s = b.s, cfg[6];
    const MemParams *p = &b.p;
    int close_first;
    if (mem_open(&b, args, nargs, 5, "mem_list", 10) < 0
        || (close_first = PyObject_IsTrue(args[3])) < 0)
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
    if (mem_items(&b, args[0], "items must be a sequence") < 0)
        return NULL;
    if (close_first)
        mem_list_close(s, p, node_struct, rounded);
    MemBlob whole = {s[2], s[4]}, node = {s[6], s[7]};
    for (Py_ssize_t i = 0; i < b.count; i++) {
        const unsigned char *e;
        Py_ssize_t n;
        if (mem_bytes(b.items[i], &e, &n) < 0) goto fail;
        s[0] += 1;
        if (n > s[1]) s[1] = n;
        if (s[3] < 0xFFFF) {
            mem_blob_add(&whole, ziplist, e, n);
            s[3] += 1;
        }
        if (n >= plain_max) {
            s[6] = node.size;
            s[7] = node.prev;
            mem_list_close(s, p, node_struct, rounded);
            s[8] += 1;
            s[9] += node_struct + mem_alloc(p, (uint64_t)n);
            continue;
        }
        if (!s[5]) {
            s[5] = 1;
            node.size = empty;
            node.prev = 0;
        } else if (!by_offset && node.size + n + 8 > node_max) {
            s[6] = node.size;
            s[7] = node.prev;
            mem_list_close(s, p, node_struct, rounded);
            s[5] = 1;
            node.size = empty;
            node.prev = 0;
        }
        mem_blob_add(&node, ziplist, e, n);
    }
    s[2] = whole.size;
    s[4] = whole.prev;
    if (s[5]) {
        s[6] = node.size;
        s[7] = node.prev;
    }
    return mem_close(&b, 1, args[4], 10);
fail:
    return mem_close(&b, 0, args[4], 10);
}

/* mem_lp_sum(items) -> the listpack bytes of these elements (entries only). */
PyObject *sp_mem_lp_sum(PyObject *Py_UNUSED(self), PyObject *arg) {
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
PyObject *sp_mem_int(PyObject *Py_UNUSED(self), PyObject *arg) {
    const unsigned char *s;
    Py_ssize_t n;
    int64_t v;
    if (mem_bytes(arg, &s, &n) < 0)
        return NULL;
    return PyBool_FromLong(canonical(s, n, 20, &v));
}
