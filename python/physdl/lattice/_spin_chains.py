"""Pieces shared by the energy-based-model applications (hopfield, boltzmann, slmc).

Private to the engine layer: applications import these instead of importing each other.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_int

# Largest number of units enumerated state by state (2**24 states).
MAX_ENUMERATED = 24


def all_states(n: int, values=(-1, 1), dtype=np.int8) -> np.ndarray:
    """All ``2**n`` configurations of ``n`` two-valued units, shape ``(2**n, n)``.

    Row ``k`` holds the binary digits of ``k`` (unit 0 is the most significant), mapped to
    ``values[0]`` for 0 and ``values[1]`` for 1.

    Examples
    --------
    >>> all_states(2).tolist()
    [[-1, -1], [-1, 1], [1, -1], [1, 1]]
    """
    n = check_int(n, "n", minimum=1, maximum=MAX_ENUMERATED)
    k = np.arange(1 << n, dtype=np.int64)
    bits = (k[:, None] >> np.arange(n - 1, -1, -1, dtype=np.int64)) & 1
    lo, hi = values
    return np.where(bits == 1, hi, lo).astype(dtype)

