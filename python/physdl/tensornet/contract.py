"""Einsum-style contraction of tensor networks, planned once and executed in C++ (book ch. 11.2).

A network is a list of tensors with labelled legs; equal labels are summed over (a label on three or
more tensors is a hyperedge, as the index ``t`` of eq. 11.12).  :class:`Expression` takes the
contraction order from opt_einsum (or cotengra's hyper-optimiser), turns every pairwise step into a
batched matrix product of two operands in (batch, rows, cols) form, and runs the whole sequence in
one call of the compiled core (BLAS ``?gemm`` through SciPy's pointers).  The same structure
contracts a leading batch of inputs in one call (:meth:`Expression.batched`), with OpenMP across
samples, and slices one-hot physical legs by index (:class:`Sliced`) instead of multiplying by
one-hot vectors.  The per-sample steps are planned once per call: small products (up to
``small_gemm_threshold`` multiply-adds) run in kernels with their sizes fixed at compile time, compiled
for AVX2 + FMA and chosen at run time when the CPU has them (the environment variable
``PHYSDL_TENSORNET_ISA=default`` forces the baseline set; the two may differ in the last bit).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Hashable, Sequence

import numpy as np

from .. import _backend
from .._validate import check_choice

__all__ = ["Expression", "contract", "contract_expression", "Batched", "Sliced", "parse_subscripts"]

_SUPPORTED = ("cpp", "numba", "cuda")
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64), np.dtype(np.complex128))


def parse_subscripts(subscripts: str, n_operands: int | None = None):
    """Split ``"ab,bc->ac"`` into input label tuples and the output tuple (numpy's implicit rule).

    Examples
    --------
    >>> parse_subscripts("ij,jk->ik")
    ([('i', 'j'), ('j', 'k')], ('i', 'k'))
    >>> parse_subscripts("ij,jk")
    ([('i', 'j'), ('j', 'k')], ('i', 'k'))
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"subscripts must be a str, got {type(subscripts).__name__}")
    s = subscripts.replace(" ", "")
    if "." in s:
        raise ValueError("subscripts: ellipsis ('...') is not supported; name every index")
    if s.count("->") > 1:
        raise ValueError(f"subscripts must contain at most one '->', got {subscripts!r}")
    lhs, arrow, rhs = s.partition("->")
    inputs = [tuple(t) for t in lhs.split(",")]
    for t in inputs:
        for c in t:
            if not c.isalpha():
                raise ValueError(f"subscripts: index labels must be letters, got {c!r} in {subscripts!r}")
    if arrow:
        output = tuple(rhs)
        for c in output:
            if not c.isalpha():
                raise ValueError(f"subscripts: output label {c!r} is not a letter")
    else:
        counts: dict[str, int] = {}
        for t in inputs:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        output = tuple(sorted(c for c, n in counts.items() if n == 1))
    if n_operands is not None and len(inputs) != n_operands:
        raise ValueError(f"subscripts name {len(inputs)} operands but {n_operands} were given")
    return inputs, output


def _check_network(inputs, output, shapes):
    """Label sizes; raises naming the operand on a rank mismatch or an index with two sizes."""
    if len(inputs) != len(shapes):
        raise ValueError(f"the network has {len(inputs)} tensors but {len(shapes)} shapes/operands were given")
    size: dict[Hashable, int] = {}
    where: dict[Hashable, int] = {}
    for i, (labels, shape) in enumerate(zip(inputs, shapes)):
        if len(labels) != len(shape):
            raise ValueError(f"operand {i} has {len(shape)} axes (shape {tuple(shape)}) but its subscripts "
                             f"name {len(labels)} indices {tuple(labels)}")
        for lab, d in zip(labels, shape):
            d = int(d)
            if lab in size and size[lab] != d:
                raise ValueError(f"index {lab!r} has size {size[lab]} in operand {where[lab]} but size {d} in "
                                 f"operand {i}")
            size.setdefault(lab, d)
            where.setdefault(lab, i)
    seen = set()
    for lab in output:
        if lab not in size:
            raise ValueError(f"output index {lab!r} appears in no operand")
        if lab in seen:
            raise ValueError(f"output index {lab!r} is repeated")
        seen.add(lab)
    return size


@dataclass(frozen=True)
class Batched:
    """An operand with a leading sample axis: sample ``s`` uses ``array[s]``."""

    array: Any


@dataclass(frozen=True)
class Sliced:
    """A shared tensor whose ``axes`` are fixed per sample by ``index[s, j]`` (a one-hot leg, sliced).

    The operand seen by the network is ``tensor`` with the ``axes`` removed; sample ``s`` uses
    ``tensor[..., index[s, 0], ..., index[s, 1], ...]``, never a one-hot vector.
    """

    tensor: Any
    axes: tuple
    index: Any


def _layout_score(labels, groups):
    """2 when the slot's axes (in memory order) are exactly ``groups`` concatenated (read in place, not
    transposed), 1 when each group is in memory order but the groups are permuted (in place, transposed),
    0 otherwise (gathered); repeated labels (diagonals) score 0."""
    if len(set(labels)) != len(labels):
        return 0
    flat = [l for g in groups for l in g]
    order = [l for l in labels if l in set(flat)]
    if order == flat:
        return 2
    pos = {l: i for i, l in enumerate(labels)}
    for g in groups:
        if [pos[l] for l in g] != sorted(pos[l] for l in g):
            return 0
        if g and max(pos[l] for l in g) - min(pos[l] for l in g) != len(g) - 1:
            return 0
    return 1


def _pair_step(ia, ib, slot_labels, needed):
    """Operand specs of the step contracting slots ``ia`` (as a) and ``ib`` (as b), the result's labels
    (batch + rows of a + cols of b) and the layout score of the two operands."""
    la, lb = slot_labels[ia], slot_labels[ib]
    ua, ub = list(dict.fromkeys(la)), list(dict.fromkeys(lb))
    sa, sb = set(ua), set(ub)
    batch = [l for l in ua if l in sb and l in needed]
    k = [l for l in ua if l in sb and l not in needed]
    m = [l for l in ua if l not in sb and l in needed]
    nn = [l for l in ub if l not in sa and l in needed]
    suma = [l for l in ua if l not in sb and l not in needed]
    sumb = [l for l in ub if l not in sa and l not in needed]
    a = _operand_spec(ia, la, batch, m, k, suma)
    b = _operand_spec(ib, lb, batch, k, nn, sumb)
    score = _layout_score([l for l in la if l not in suma], [batch, m, k]) + \
        _layout_score([l for l in lb if l not in sumb], [batch, k, nn])
    return a, b, tuple(batch + m + nn), score


def _operand_spec(slot, labels, batch, rows, cols, sums):
    def axes(lab):
        return [i for i, l in enumerate(labels) if l == lab]

    return (slot, [axes(l) for l in batch], [axes(l) for l in rows], [axes(l) for l in cols],
            [axes(l) for l in sums])


class Expression:
    """A contraction planned once from shapes and executed many times.

    Parameters
    ----------
    subscripts : str or sequence of label sequences
        ``"ab,bc->ac"`` (letters), or a list with one sequence of hashable labels (for example
        integers, so networks with hundreds of indices work) per tensor; then ``output`` gives the
        output labels (default: labels that appear once, sorted).
    *shapes : tuple of int
        The shape of every tensor.
    output : sequence, optional
        Output labels when ``subscripts`` is a list.
    optimize : str, list or opt_einsum PathOptimizer
        ``"greedy"`` (default), ``"optimal"``, ``"auto"``... (opt_einsum's names), ``"cotengra"``
        (cotengra's hyper-optimiser, when installed), an optimiser object, or an explicit path.
    backend : {None, "cpp", "numba"}
        Executor; ``None`` uses the default backend.

    Examples
    --------
    >>> import numpy as np
    >>> from physdl.tensornet import Expression
    >>> expr = Expression("ab,bc,ca->", (3, 4), (4, 5), (5, 3))
    >>> a, b, c = np.ones((3, 4)), np.ones((4, 5)), np.ones((5, 3))
    >>> float(expr(a, b, c))
    60.0
    """

    def __init__(self, subscripts, *shapes, output=None, optimize="greedy", backend=None):
        if isinstance(subscripts, str):
            if output is not None:
                raise ValueError("output is given in the subscripts string ('->'); do not pass output=")
            inputs, out = parse_subscripts(subscripts, len(shapes))
        else:
            if not isinstance(subscripts, (list, tuple)):
                raise TypeError("subscripts must be a str or a list of label sequences")
            inputs = [tuple(t) for t in subscripts]
            if output is None:
                counts: dict = {}
                for t in inputs:
                    for c in t:
                        counts[c] = counts.get(c, 0) + 1
                try:
                    out = tuple(sorted(c for c, n in counts.items() if n == 1))
                except TypeError:
                    out = tuple(c for c, n in counts.items() if n == 1)
            else:
                out = tuple(output)
        shapes = [tuple(int(d) for d in s) for s in shapes]
        for i, s in enumerate(shapes):
            if any(d < 0 for d in s):
                raise ValueError(f"shape of operand {i} has a negative dimension: {s}")
        self.inputs, self.output = inputs, out
        self.shapes = shapes
        self.size = _check_network(inputs, out, shapes)
        self.out_shape = tuple(self.size[l] for l in out)
        self.backend = _backend.resolve(backend, _SUPPORTED)
        self._empty = any(d == 0 for s in shapes for d in s)
        self.path = self._find_path(optimize)
        self._plan = self._make_plan()
        self._programs: dict = {}
        self._flop_split: dict = {}  # operand kinds -> multiply-adds of shared and per-sample steps
        self._sample_expr: dict = {}  # the Numba twin's networks with a sample hyperedge (tensornet._numba)

    # ------------------------------------------------------------------ planning
    def _find_path(self, optimize):
        import opt_einsum

        n = len(self.inputs)
        if n == 1:
            return [(0,)]
        if isinstance(optimize, (list, tuple)) and all(isinstance(p, (list, tuple)) for p in optimize):
            return [tuple(p) for p in optimize]
        if optimize == "cotengra":
            try:
                import cotengra
            except ImportError as exc:
                raise ImportError("optimize='cotengra' needs cotengra installed (pip install cotengra)") from exc
            optimize = cotengra.HyperOptimizer(max_repeats=32, progbar=False, methods=["greedy"])
        ids: dict = {}
        for t in self.inputs:
            for c in t:
                ids.setdefault(c, len(ids))
        sym = {c: opt_einsum.get_symbol(i) for c, i in ids.items()}
        eq = ",".join("".join(sym[c] for c in t) for t in self.inputs) + "->" + "".join(sym[c] for c in self.output)
        shapes = [tuple(max(d, 1) for d in s) for s in self.shapes]
        path, _ = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=optimize)
        return [tuple(p) for p in path]

    def _make_plan(self):
        n = len(self.inputs)
        slot_labels = [tuple(t) for t in self.inputs]
        slot_shapes = [list(s) for s in self.shapes]
        live = list(range(n))
        steps = []
        outset = set(self.output)
        for pos in self.path:
            pos = sorted(pos)
            if len(pos) == 1:
                continue
            if len(pos) != 2:
                raise ValueError(f"path step {pos} contracts more than two tensors")
            ia, ib = live[pos[0]], live[pos[1]]
            for p in reversed(pos):
                live.pop(p)
            needed = set(outset)
            for s in live:
                needed.update(slot_labels[s])
            # both operand orders; the one whose operands are read in place in memory order (rows of a
            # and b contiguous) makes the executor's products cheapest; ties keep the path's order
            first = _pair_step(ia, ib, slot_labels, needed)
            second = _pair_step(ib, ia, slot_labels, needed)
            a, b, new, score = second if second[3] > first[3] else first
            slot_labels.append(new)
            slot_shapes.append([self.size[l] for l in new])
            steps.append((a, b))
            live.append(len(slot_labels) - 1)
        if len(live) != 1:
            raise ValueError("the contraction path does not reduce the network to one tensor")
        last = live[0]
        ll = slot_labels[last]
        sums = [l for l in dict.fromkeys(ll) if l not in outset]
        final = _operand_spec(last, ll, [], list(self.output), [], sums)
        if len(ll) > 64 or any(len(s) > 64 for s in slot_labels):
            raise ValueError("an intermediate tensor of rank above 64 (the core's limit); try another optimize=")
        return n, slot_shapes, steps, final, slot_labels

    @property
    def flops(self) -> float:
        """Multiply-adds of one contraction along the chosen path."""
        _, shapes, steps, _, _ = self._plan
        f = 0.0
        for a, b in steps:
            sa, sb = shapes[a[0]], shapes[b[0]]
            size = lambda sh, g: float(np.prod([sh[l[0]] for l in g])) if g else 1.0  # noqa: E731
            f += size(sa, a[1]) * size(sa, a[2]) * size(sa, a[3]) * size(sb, b[3])
        return f

    def _program(self):
        if "p" not in self._programs:
            from ..tensornet import _blas

            core = _backend.module("cpp").tensornet
            _blas.ensure_blas(core)
            n, shapes, steps, final, _ = self._plan
            self._programs["p"] = core.Program(n, shapes, steps, final)
        return self._programs["p"]

    def _cuda(self, inputs, n_samples, dt):
        mod = _backend.module("cuda").tensornet
        ok, reason = mod.cublas_available()
        if not ok:
            raise RuntimeError(f"backend='cuda' needs cuBLAS: {reason}; or use backend='cpp'")
        n, shapes, steps, final, _ = self._plan
        return mod.execute(n, shapes, steps, final, inputs, n_samples, dt.name)

    def __repr__(self):
        subs = ",".join("".join(map(str, t)) if all(isinstance(c, str) for c in t) else str(list(t))
                        for t in self.inputs)
        if len(subs) > 80:
            subs = f"{len(self.inputs)} tensors"
        return (f"Expression({subs} -> {len(self.output)} open indices, {len(self.path)} steps, "
                f"{self.flops:.3g} multiply-adds, backend={self.backend!r})")

    # ------------------------------------------------------------------ execution
    def _dtype(self, arrays):
        dt = np.result_type(*arrays) if arrays else np.dtype(np.float64)
        if dt.kind in "biu":
            dt = np.dtype(np.float64)
        elif dt == np.float16:
            dt = np.dtype(np.float32)
        if dt not in _DTYPES:
            raise TypeError(f"operands must be float32, float64, complex64 or complex128 (got {dt})")
        return dt

    def _check_operand(self, i, x, lead=0, shape=None):
        x = np.asarray(x)
        if x.dtype == object or x.dtype.kind not in "biufc":
            raise TypeError(f"operand {i} must be a numeric array, got dtype {x.dtype}")
        want = self.shapes[i] if shape is None else shape
        if tuple(x.shape[lead:]) != tuple(want):
            raise ValueError(f"operand {i} has shape {x.shape[lead:]} but the expression was built for {want}")
        if x.dtype.kind in "fc" and not np.all(np.isfinite(x)):
            raise ValueError(f"operand {i} contains NaN or inf")
        return x

    def __call__(self, *operands, backend=None):
        """Contract one network; returns an array of the output shape (a 0-d array for a scalar)."""
        if len(operands) != len(self.inputs):
            raise ValueError(f"the expression takes {len(self.inputs)} operands, got {len(operands)}")
        arrs = [self._check_operand(i, x) for i, x in enumerate(operands)]
        dt = self._dtype(arrs)
        if self._empty:
            return np.zeros(self.out_shape, dt)
        arrs = [a.astype(dt, copy=False) for a in arrs]
        be = self.backend if backend is None else _backend.resolve(backend, _SUPPORTED)
        if be == "numba":
            from . import _numba

            return _numba.execute(self._plan, arrs)
        if be == "cuda":
            return self._cuda([(a, False, [], None) for a in arrs], 1, dt).reshape(self.out_shape)
        out = self._program().execute([(a, False, [], None) for a in arrs], 1, dt.name, False)
        return out.reshape(self.out_shape)

    def batched(self, *operands, backend=None):
        """Contract the same network for every sample of a batch, in one call.

        Each operand is a plain array (shared by all samples), :class:`Batched` (a leading sample
        axis) or :class:`Sliced` (a shared tensor with per-sample indices into some of its axes).
        Returns an array of shape ``(n_samples,) + out_shape``.

        Examples
        --------
        >>> import numpy as np
        >>> from physdl.tensornet import Expression, Batched, Sliced
        >>> A = np.arange(8.0).reshape(2, 2, 2)          # (left, physical, right)
        >>> expr = Expression("ab,bc->ac", (2, 2), (2, 2))
        >>> s = np.array([[0, 1], [1, 1]])               # two configurations of two sites
        >>> out = expr.batched(Sliced(A, (1,), s[:, :1]), Sliced(A, (1,), s[:, 1:]))
        >>> np.allclose(out[0], A[:, 0, :] @ A[:, 1, :])
        True
        """
        if len(operands) != len(self.inputs):
            raise ValueError(f"the expression takes {len(self.inputs)} operands, got {len(operands)}")
        n_samples = None
        items = []
        for i, x in enumerate(operands):
            if isinstance(x, Batched):
                a = self._check_operand(i, x.array, lead=1)
                if a.ndim != len(self.shapes[i]) + 1:
                    raise ValueError(f"operand {i} (Batched) needs a leading sample axis")
                ns = a.shape[0]
                items.append(("b", a, [], None))
            elif isinstance(x, Sliced):
                t = np.asarray(x.tensor)
                axes = tuple(int(v) for v in (x.axes if isinstance(x.axes, (tuple, list)) else (x.axes,)))
                if len(set(axes)) != len(axes) or any(not 0 <= v < t.ndim for v in axes):
                    raise ValueError(f"operand {i} (Sliced): axes {axes} must be distinct axes of a "
                                     f"{t.ndim}-d tensor")
                rest = tuple(d for j, d in enumerate(t.shape) if j not in axes)
                idx = np.asarray(x.index)
                if idx.ndim == 1 and len(axes) == 1:
                    idx = idx[:, None]
                if idx.ndim != 2 or idx.shape[1] != len(axes) or idx.dtype.kind not in "iu":
                    raise ValueError(f"operand {i} (Sliced): index must be an integer array of shape "
                                     f"(n_samples, {len(axes)}), got {idx.shape} {idx.dtype}")
                idx = np.ascontiguousarray(idx, dtype=np.int64)
                if idx.size:
                    # one pass per operand: as unsigned, a negative index is larger than any bound
                    top = idx.view(np.uint64).max(axis=0)
                    for j, ax in enumerate(axes):
                        if top[j] >= t.shape[ax]:
                            raise ValueError(f"operand {i} (Sliced): index column {j} outside 0..{t.shape[ax] - 1}")
                if tuple(rest) != tuple(self.shapes[i]):
                    raise ValueError(f"operand {i} (Sliced) leaves shape {rest} but the expression was built "
                                     f"for {self.shapes[i]}")
                if t.dtype.kind in "fc" and not np.all(np.isfinite(t)):
                    raise ValueError(f"operand {i} contains NaN or inf")
                ns = idx.shape[0]
                items.append(("s", t, list(axes), idx))
            else:
                a = self._check_operand(i, x)
                items.append(("p", a, [], None))
                continue
            if n_samples is None:
                n_samples = ns
            elif ns != n_samples:
                raise ValueError(f"operand {i} has {ns} samples but an earlier operand has {n_samples}")
        if n_samples is None:
            raise ValueError("batched() needs at least one Batched or Sliced operand")
        dt = self._dtype([it[1] for it in items])
        if self._empty:
            return np.zeros((n_samples,) + self.out_shape, dt)
        items = [(k, a.astype(dt, copy=False), ax, idx) for k, a, ax, idx in items]
        be = self.backend if backend is None else _backend.resolve(backend, _SUPPORTED)
        if be == "numba":
            from . import _numba

            return _numba.execute_batched(self, items, n_samples)
        if be == "cuda":
            return self._cuda([(a, k == "b", ax, idx) for k, a, ax, idx in items], n_samples,
                              dt).reshape((n_samples,) + self.out_shape)
        return self._batched_cpp(items, n_samples, dt).reshape((n_samples,) + self.out_shape)

    def _batched_cpp(self, items, n_samples, dt):
        """The C++ batched execution over blocks of samples of bounded duration, so that Ctrl-C is seen
        between them.  Every sample's result depends on its own inputs only (the steps on shared inputs
        give the same values in every call), so the joined result equals one call bit for bit.

        The steps on shared inputs are redone in every block: blocks are at least as large as keeps that
        repetition below 2% of the per-sample work.  A single long step (one huge product of shared
        tensors, or one sample's huge product) cannot be cut and delays Ctrl-C by its duration.
        """
        from .. import _pieces

        prog = self._program()
        ins = [(a, k == "b", ax, idx) for k, a, ax, idx in items]
        kinds = tuple(k for k, _, _, _ in items)
        if kinds not in self._flop_split:
            self._flop_split[kinds] = self._split_flops(kinds)
        shared_f, sample_f = self._flop_split[kinds]
        least = int(min(n_samples, np.ceil(50.0 * shared_f / max(sample_f, 1.0))))

        def call(s, k):
            sub = [(a[s:s + k] if b else a, b, ax, None if idx is None else idx[s:s + k]) for a, b, ax, idx in ins]
            return (prog.execute(sub, k, dt.name, True),)

        key = ("tensornet.batched", id(self), kinds, dt.name)
        return _pieces.joined(key, n_samples, call, max(1, least), cpp=True)[0]

    def _split_flops(self, kinds):
        """Multiply-adds of the steps on shared inputs only (run once per call) and of the others (per
        sample), for operands of ``kinds`` ("p" shared, "b"/"s" per sample)."""
        n, shapes, steps, _, _ = self._plan
        shared = [k == "p" for k in kinds]
        size = lambda sh, g: float(np.prod([sh[l[0]] for l in g])) if g else 1.0  # noqa: E731
        sf = pf = 0.0
        for a, b in steps:
            sa, sb = shapes[a[0]], shapes[b[0]]
            f = size(sa, a[1]) * size(sa, a[2]) * size(sa, a[3]) * size(sb, b[3])
            both = shared[a[0]] and shared[b[0]]
            shared.append(both)
            if both:
                sf += f
            else:
                pf += f
        return sf, pf


_CACHE: "OrderedDict[tuple, Expression]" = OrderedDict()


def contract_expression(subscripts, *shapes, output=None, optimize="greedy", backend=None) -> Expression:
    """Build (or fetch from a small cache) the :class:`Expression` for these shapes."""
    key = None
    if isinstance(optimize, str) and optimize != "cotengra":
        try:
            key = (subscripts if isinstance(subscripts, str) else tuple(tuple(t) for t in subscripts),
                   tuple(tuple(s) for s in shapes), None if output is None else tuple(output), optimize,
                   _backend.resolve(backend, _SUPPORTED))
            hash(key)
        except TypeError:
            key = None
    if key is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    expr = Expression(subscripts, *shapes, output=output, optimize=optimize, backend=backend)
    if key is not None:
        _CACHE[key] = expr
        if len(_CACHE) > 256:
            _CACHE.popitem(last=False)
    return expr


def contract(subscripts, *operands, optimize="greedy", backend=None):
    """Contract a tensor network: ``contract("ab,bc->ac", A, B)`` or the interleaved form.

    The interleaved form ``contract(A, [0, 1], B, [1, 2], [0, 2])`` takes any hashable labels
    (integers included), so networks with hundreds of indices work.  The plan is cached per
    subscripts and shapes; see :class:`Expression` for the arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from physdl.tensornet import contract
    >>> A = np.arange(6.0).reshape(2, 3); B = np.arange(12.0).reshape(3, 4)
    >>> np.allclose(contract("ij,jk->ik", A, B), A @ B)
    True
    >>> np.allclose(contract(A, [0, 1], B, [1, 2], [0, 2]), A @ B)
    True
    """
    if isinstance(subscripts, str):
        ops = operands
        inputs, output = subscripts, None
    else:
        items = (subscripts,) + operands
        if len(items) % 2 == 1:
            *pairs, output = items
            output = tuple(output)
        else:
            pairs, output = items, None
        ops = pairs[0::2]
        inputs = [tuple(l) for l in pairs[1::2]]
        for i, (x, l) in enumerate(zip(ops, inputs)):
            if isinstance(x, (list, tuple)) and not isinstance(l, (list, tuple)):
                raise TypeError(f"interleaved form: operand {i} and its labels are out of order")
    ops = [np.asarray(x) for x in ops]
    expr = contract_expression(inputs, *[x.shape for x in ops], output=output, optimize=optimize, backend=backend)
    return expr(*ops)
