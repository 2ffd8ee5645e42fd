#include "speedups.h"

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

PyObject *sp_maker(PyObject *Py_UNUSED(self), PyObject *cls) {
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

int sp_make_init(void) {
    return PyType_Ready(&MakerType);
}
