/*
 * rdbtools._speedups: C twins of the hot pure-Python paths. Each public function gives
 * the result of the Python function named beside it (the reference, and the fallback
 * when this module is not built); tests/test_speedups.py holds the two to that. On a
 * structural problem a decoder raises ValueError with a message, which the Python caller
 * turns into CorruptInput.
 *
 * One extension built from one file per area, sharing this header:
 *   rdb_decode.c  listpack / ziplist blobs, rdb-strings, zset pairs, string key records
 *   lzf.c         LZF decompression to an exact length
 *   rdb_encode.c  lengths, rdb-strings, listpack / ziplist builders, key records
 *   make.c        maker(): fast constructors of the frozen slotted event classes
 *   memory.c      the memory estimator's per-batch element costs
 *   resp.c        one RESP command
 *   aof_walk.c    the fast path of the AOF RESP parser
 *   module.c      the method table and module init
 * Helpers more than one area uses are here, `static inline` where they are on a hot
 * path so each file inlines them as the single file did. A new area is a new file that
 * includes this header, declares its entries below (SP_INTERNAL), and is listed in
 * module.c's table and in setup.py's SOURCES; a start-up step goes beside
 * sp_decode_init.
 */
#ifndef RDBTOOLS_SPEEDUPS_H
#define RDBTOOLS_SPEEDUPS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

/* Names shared between the files stay inside the shared object. */
#if defined(__GNUC__)
#define SP_INTERNAL __attribute__((visibility("hidden")))
#else
#define SP_INTERNAL
#endif

/* ------------------------------------------------------------------ shared helpers */

/* The size of a listpack entry's backlen for an n-byte entry (FORMAT.md 4.B). */
static inline int backlen_size(uint64_t n) {
    if (n <= 127) return 1;
    if (n < 16383) return 2;
    if (n < 2097151) return 3;
    if (n < 268435455) return 4;
    return 5;
}

/* PyList_Append that takes the item's reference (NULL: a failed creation, -1). */
static inline int append_steal(PyObject *list, PyObject *item) {
    if (item == NULL)
        return -1;
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc;
}

/* Redis string2ll as canonical_int_py: optional '-', ASCII digits without a leading zero
 * (except "0"), not "-0", int64, at most max_len bytes. Returns 1 and sets *out. */
static inline int canonical(const unsigned char *s, Py_ssize_t n, Py_ssize_t max_len,
                            int64_t *out) {
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

/* The decimal digits of v >= 0 into out (no NUL); returns their number. */
static inline Py_ssize_t dec_len(Py_ssize_t v, char *out) {
    char tmp[24];
    Py_ssize_t n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (Py_ssize_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

/* Set ValueError to the formatted message, drop `list` (may be NULL); returns NULL. */
SP_INTERNAL PyObject *corrupt(PyObject *list, const char *fmt, ...);

/* ------------------------------------------------------------------ start-up */

SP_INTERNAL int sp_decode_init(void); /* rdb_decode.c: the small integers' text */
SP_INTERNAL int sp_make_init(void);   /* make.c: the Maker type */

/* ------------------------------------------------------------------ module functions
 * The entries of module.c's method table, by file; their Python signatures and twins
 * are in rdbtools/_speedups.pyi. */

/* rdb_decode.c */
SP_INTERNAL PyObject *sp_listpack(PyObject *self, PyObject *args);
SP_INTERNAL PyObject *sp_listpack_count(PyObject *self, PyObject *args);
SP_INTERNAL PyObject *sp_listpack_slice(PyObject *self, PyObject *args);
SP_INTERNAL PyObject *sp_ziplist(PyObject *self, PyObject *args);
SP_INTERNAL PyObject *sp_ziplist_count(PyObject *self, PyObject *args);
SP_INTERNAL PyObject *sp_ziplist_slice(PyObject *self, PyObject *args);
SP_INTERNAL PyObject *sp_strings(PyObject *self, PyObject *args);
SP_INTERNAL PyObject *sp_zset2(PyObject *self, PyObject *args);
SP_INTERNAL PyObject *sp_string_keys(PyObject *self, PyObject *args);

/* lzf.c */
SP_INTERNAL PyObject *sp_lzf(PyObject *self, PyObject *args);

/* make.c */
SP_INTERNAL PyObject *sp_maker(PyObject *self, PyObject *cls);

/* rdb_encode.c */
SP_INTERNAL PyObject *sp_enc_len(PyObject *self, PyObject *arg);
SP_INTERNAL PyObject *sp_enc_lens(PyObject *self, PyObject *arg);
SP_INTERNAL PyObject *sp_enc_string(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
SP_INTERNAL PyObject *sp_enc_strings(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
SP_INTERNAL PyObject *sp_canonical_int(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
SP_INTERNAL PyObject *sp_lp_entry(PyObject *self, PyObject *arg);
SP_INTERNAL PyObject *sp_lp_entries(PyObject *self, PyObject *arg);
SP_INTERNAL PyObject *sp_listpack_of(PyObject *self, PyObject *arg);
SP_INTERNAL PyObject *sp_ziplist_of(PyObject *self, PyObject *arg);
SP_INTERNAL PyObject *sp_lp_fill(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
SP_INTERNAL PyObject *sp_key_record(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

/* memory.c */
SP_INTERNAL PyObject *sp_mem_set(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
SP_INTERNAL PyObject *sp_mem_zset(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
SP_INTERNAL PyObject *sp_mem_hash(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
SP_INTERNAL PyObject *sp_mem_list(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
SP_INTERNAL PyObject *sp_mem_lp_sum(PyObject *self, PyObject *arg);
SP_INTERNAL PyObject *sp_mem_int(PyObject *self, PyObject *arg);

/* resp.c */
SP_INTERNAL PyObject *sp_resp(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

/* aof_walk.c */
SP_INTERNAL PyObject *sp_aof_cum(PyObject *self, PyObject *lines);
SP_INTERNAL PyObject *sp_aof_walk_full(PyObject *self, PyObject *const *a, Py_ssize_t nargs);

#endif
