"""Small data sets for the book's demos: the LSTM sorting task of the chapter 4 column."""

from __future__ import annotations

import numpy as np

from .._validate import check_int, check_seed
from ..random import Generator
from ..random import streams as _streams

__all__ = ["sorting_task", "encode_sorting"]


def encode_sorting(seqs, max_len: int = 4, bits: int = 3):
    """Encode integer sequences for the sorting task (book lines 1866-1913, footnote 12).

    Each sequence of length ``k <= max_len`` becomes ``2 * max_len`` time steps: ``max_len - k``
    padding steps, the ``k`` values in binary (``bits`` inputs), then ``max_len`` query steps at
    whose last ``k`` the network must emit the sorted values.

    Parameters
    ----------
    seqs : sequence of sequences of int in [0, 2**bits)
    max_len, bits : int

    Returns
    -------
    X : float32 array (n, 2*max_len, bits + 2)
        Features: the bits, a padding flag, a query flag.
    y : int64 array (n, 2*max_len)
        Sorted values at the answer steps, -100 (ignored) elsewhere.
    """
    max_len = check_int(max_len, "max_len", minimum=1, maximum=4096)
    bits = check_int(bits, "bits", minimum=1, maximum=16)
    n = len(seqs)
    X = np.zeros((n, 2 * max_len, bits + 2), np.float32)
    y = np.full((n, 2 * max_len), -100, np.int64)
    weights = 1 << np.arange(bits)
    for i, s in enumerate(seqs):
        raw = np.asarray(s)
        if raw.dtype.kind not in "iu" or raw.ndim != 1:
            raise TypeError(f"seqs[{i}] must be a 1-d sequence of integers, got {raw.dtype} of shape {raw.shape}")
        s = raw.astype(np.int64)
        k = s.size
        if k < 1 or k > max_len or s.min() < 0 or s.max() >= 2**bits:
            raise ValueError(f"seqs[{i}] must hold 1..{max_len} integers in [0, {2**bits}), got {s.tolist()}")
        off = max_len - k
        X[i, :off, bits] = 1.0
        X[i, off:max_len, :bits] = (s[:, None] & weights) > 0
        X[i, max_len:, bits + 1] = 1.0
        y[i, max_len + off:] = np.sort(s)
    return X, y


def sorting_task(n_train: int = 800, n_test: int = 500, max_len: int = 4, bits: int = 3, seed: int = 2021):
    """Training sequences of length 1..max_len and unseen test sequences of length max_len.

    Returns
    -------
    (X_train, y_train), (X_test, y_test), as from :func:`encode_sorting`; no test sequence occurs
    in the training set.
    """
    n_train = check_int(n_train, "n_train", minimum=1, maximum=10**7)
    n_test = check_int(n_test, "n_test", minimum=1, maximum=10**7)
    max_len = check_int(max_len, "max_len", minimum=1, maximum=4096)
    bits = check_int(bits, "bits", minimum=1, maximum=16)
    if n_test > (2**bits) ** max_len // 2:
        raise ValueError("n_test is too large for the number of distinct sequences")
    g = Generator(check_seed(seed), stream=_streams.stream("nn.sorting_data"))
    lens = 1 + g.integers(max_len, n_train)
    vals = g.integers(2**bits, (n_train, max_len))
    train = [tuple(vals[i, : lens[i]].tolist()) for i in range(n_train)]
    seen = set(train)
    test: list[tuple] = []
    while len(test) < n_test:
        for row in g.integers(2**bits, (4 * n_test, max_len)):
            t = tuple(row.tolist())
            if t not in seen:
                seen.add(t)
                test.append(t)
                if len(test) == n_test:
                    break
    return encode_sorting(train, max_len, bits), encode_sorting(test, max_len, bits)
