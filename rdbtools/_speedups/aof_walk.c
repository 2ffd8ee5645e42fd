#include "speedups.h"

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

/* A new Batch(db, ts) as *batch (the previous one stays in batches), appended to
 * batches, with the MULTI offset it starts under appended to multis. */
static int aw_open(PyObject **batch, PyObject *db, PyObject *ts, PyObject *batches,
                   PyObject *multis, Py_ssize_t multi_at) {
    PyObject *b = aw_new_batch(db, ts);
    if (b == NULL)
        return -1;
    Py_XSETREF(*batch, b);
    if (PyList_Append(batches, b) < 0)
        return -1;
    return append_steal(multis, PyLong_FromSsize_t(multi_at));
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
PyObject *sp_aof_cum(PyObject *Py_UNUSED(self), PyObject *lines) {
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
PyObject *sp_aof_walk_full(PyObject *Py_UNUSED(self), PyObject *const *a, Py_ssize_t nargs) {
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
    if (aw_open(&batch, db, ts, batches, multis, multi_at) < 0)
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
                if (aw_close(batch, end) < 0
                        || aw_open(&batch, db, ts, batches, multis, multi_at) < 0)
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
                        if (aw_close(batch, end) < 0
                                || aw_open(&batch, db, ts, batches, multis, multi_at) < 0)
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
