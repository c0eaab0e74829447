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
    """Batched execution as one larger network with a sample hyperedge (slices materialised).

    The path of that network is chosen once for the whole batch; it then runs over blocks of samples of
    bounded duration (Ctrl-C is seen between them), each block on the same plan with the sample axes
    resized, so that every sample's result is that of one call whatever the cut (the per-element
    arithmetic of the gather and of the small products does not depend on the number of samples).
    Slices are materialised one block at a time.
    """
    from .. import _pieces

    inputs, shapes = [], []
    for (kind, a, axes, idx), labels in zip(items, expr.inputs):
        inputs.append(((_SAMPLE,) if kind != "p" else ()) + tuple(labels))
        if kind == "s":
            shapes.append((n_samples,) + tuple(d for j, d in enumerate(a.shape) if j not in axes))
        else:
            shapes.append(tuple(a.shape))
    plan = _sample_expression(expr, inputs, shapes)._plan

    def block(s, k):
        arrays = []
        for kind, a, axes, idx in items:
            if kind == "s":
                moved = np.moveaxis(a, axes, list(range(len(axes))))
                a = moved[tuple(idx[s:s + k, j] for j in range(len(axes)))]
            elif kind == "b":
                a = a[s:s + k]
            arrays.append(a)
        return (execute(plan if k == n_samples else _resized(plan, k), arrays),)

    key = ("tensornet.batched.numba", id(expr), tuple(k for k, _, _, _ in items))
    return _pieces.joined(key, n_samples, block)[0]


def _resized(plan, k):
    """``plan`` with the sample hyperedge of size ``k`` (operand specs name axes, not sizes)."""
    n, shapes, steps, final, labels = plan
    shapes = [[k if lab == _SAMPLE else d for lab, d in zip(ls, sh)] for ls, sh in zip(labels, shapes)]
    return n, shapes, steps, final, labels


def _sample_expression(expr, inputs, shapes):
    """The network with a sample hyperedge for these shapes, cached on ``expr``."""
    from .contract import Expression

    key = (tuple(len(l) for l in inputs), tuple(tuple(s) for s in shapes))
    cache = expr._sample_expr
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        cache[key] = Expression(inputs, *shapes, output=(_SAMPLE,) + tuple(expr.output), backend="numba")
    return cache[key]
