"""Numba twins of the contraction executor's kernels: the strided gather (permute, diagonal, sum)
and the batched small matrix product, driven step by step from the same plan as the C++ core."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def gather(src, osz, ostr, ssz, sstr, dst):
    """dst[o] = sum over s of src[sum_d o_d ostr_d + sum_e s_e sstr_e] (src, dst flat)."""
    no, ns = osz.size, ssz.size
    ntot = 1
    for d in range(no):
        ntot *= osz[d]
    nsum = 1
    for e in range(ns):
        nsum *= ssz[e]
    for flat in range(ntot):
        rem = flat
        off = 0
        for d in range(no - 1, -1, -1):
            i = rem % osz[d]
            rem //= osz[d]
            off += i * ostr[d]
        acc = src[off] * 0
        for sflat in range(nsum):
            r2 = sflat
            o2 = off
            for e in range(ns - 1, -1, -1):
                j = r2 % ssz[e]
                r2 //= ssz[e]
                o2 += j * sstr[e]
            acc += src[o2]
        dst[flat] = acc


@numba.njit(cache=True)
def batched_matmul(a, b, c):
    """c[p] = a[p] @ b[p] for every batch entry p (a: nb,m,k; b: nb,k,n; c: nb,m,n)."""
    nb, m, k = a.shape
    n = b.shape[2]
    for p in range(nb):
        for i in range(m):
            for j in range(n):
                c[p, i, j] = 0
            for q in range(k):
                aiq = a[p, i, q]
                for j in range(n):
                    c[p, i, j] += aiq * b[p, q, j]


def _prepare(x, op, as_shape):
    slot, batch, rows, cols, sums = op
    x = np.ascontiguousarray(x)
    est = np.array(x.strides, dtype=np.int64) // x.itemsize if x.ndim else np.zeros(0, np.int64)

    def dims(groups):
        sz = np.array([x.shape[l[0]] for l in groups], dtype=np.int64)
        st = np.array([int(sum(est[a] for a in l)) for l in groups], dtype=np.int64)
        return sz, st

    osz, ostr = dims(list(batch) + list(rows) + list(cols))
    ssz, sstr = dims(list(sums))
    dst = np.empty(int(np.prod(osz)) if osz.size else 1, x.dtype)
    gather(x.reshape(-1), osz, ostr, ssz, sstr, dst)
    if as_shape is None:
        return dst
    nb = int(np.prod(osz[: len(batch)])) if batch else 1
    r = int(np.prod(osz[len(batch): len(batch) + len(rows)])) if rows else 1
    c = int(np.prod(osz[len(batch) + len(rows):])) if cols else 1
    return dst.reshape(nb, r, c)


def execute(plan, arrays):
    """Run a plan (from ``Expression``) on one set of operands."""
    n, shapes, steps, final, _ = plan
    slots = list(arrays)
    for a_op, b_op in steps:
        A = _prepare(slots[a_op[0]], a_op, True)
        B = _prepare(slots[b_op[0]], b_op, True)
        C = np.empty((A.shape[0], A.shape[1], B.shape[2]), A.dtype)
        batched_matmul(A, B, C)
        slots.append(C.reshape(shapes[len(slots)]))
    out = _prepare(slots[final[0]], final, None)
    return out.reshape([shapes[final[0]][l[0]] for l in final[2]])


_SAMPLE = ("physdl.tensornet", "sample")


def execute_batched(expr, items, n_samples):
    """Batched execution as one larger network with a sample hyperedge (slices materialised)."""
    from .contract import Expression

    arrays, inputs = [], []
    for (kind, a, axes, idx), labels in zip(items, expr.inputs):
        if kind == "s":
            moved = np.moveaxis(a, axes, list(range(len(axes))))
            a = moved[tuple(idx[:, j] for j in range(len(axes)))]
            kind = "b"
        arrays.append(a)
        inputs.append(((_SAMPLE,) if kind == "b" else ()) + tuple(labels))
    key = tuple(len(l) for l in inputs)
    if expr._sample_expr is None or expr._sample_expr[0] != key:
        big = Expression(inputs, *[x.shape for x in arrays], output=(_SAMPLE,) + tuple(expr.output),
                         backend="numba")
        expr._sample_expr = (key, big)
    return execute(expr._sample_expr[1]._plan, arrays)
