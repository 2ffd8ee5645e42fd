/* The method table of rdbtools._speedups (one entry per function of _speedups.pyi) and
 * its init; the functions are in the file of their area (speedups.h). */
#include "speedups.h"

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

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "rdbtools._speedups",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    if (sp_decode_init() < 0 || sp_make_init() < 0)
        return NULL;
    return PyModule_Create(&module);
}
