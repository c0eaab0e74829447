"""Ctrl-C inside the LASSO solvers: seen within 1 s, raised as KeyboardInterrupt, nothing left half done.

Each case runs one long solve (tolerance far below reach, so it would run for minutes) in a
subprocess, sends SIGINT, and measures the time to the KeyboardInterrupt.  The C++ solvers poll
Python's signals every 2 ms between passes; the Numba twins run in pieces of about 20 ms.  The
child then checks that its warm-start array is untouched and that a fresh solve after the
interrupt equals the one computed here, in the parent.
"""

import textwrap
import zlib

import numpy as np
import pytest

from physdl import inverse

from .sigint import CHILD_PRELUDE, sigint_reaction

CHILD = CHILD_PRELUDE + textwrap.dedent("""
    import numpy as np
    from physdl import inverse
    kind, backend, n, p = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, p))
    X = X + 1.9 * np.roll(X, 1, axis=1)
    y = X[:, :10] @ np.linspace(-1.0, 1.0, 10) + 0.3 * rng.standard_normal(n)
    amax = np.abs(X.T @ y).max() / n
    start = np.full(p, 0.01)
    keep = start.copy()

    def call(max_iter, tol=1e-300):
        if kind in ("cd", "fista", "admm"):
            return inverse.lasso(X, y, 1e-4 * amax, solver=kind, tol=tol, max_iter=max_iter, coef_init=start,
                                 rho=0.01 if kind == "admm" else None, backend=backend)
        if kind == "path":
            return inverse.lasso_path(X, y, n_alphas=50, eps=1e-5, tol=tol, max_iter=max_iter, backend=backend)
        return inverse.lasso_cv(X, y, n_alphas=30, eps=1e-5, cv=3, tol=tol, max_iter=max_iter, backend=backend)

    call(3)  # compile / warm up outside the timed part

    def work():
        while True:  # one call lasts far longer than the test; the loop only guards against an early stop
            call(10**12)

    def after():
        small = inverse.lasso(X[:20, :8], y[:20], 0.01 * amax, tol=1e-10, backend=backend)
        return small.coef.tolist()

    interrupted(work, unchanged=lambda: bool(np.array_equal(start, keep)), after=after)
""")

CASES = [(kind, be) for kind in ("cd", "fista", "admm", "path", "gram", "cv", "cvgram") for be in ("cpp", "numba")]
SIZES = {"cd": (300, 600), "fista": (300, 600), "admm": (600, 400), "path": (300, 600), "gram": (2000, 300),
         "cv": (300, 600), "cvgram": (2000, 200)}  # cvgram: training parts of >= 2p rows (the Gram route)
CHILD_KIND = {"gram": "path", "cvgram": "cv"}


@pytest.mark.parametrize("kind,backend", CASES)
def test_lasso_sigint_reaction(kind, backend):
    n, p = SIZES[kind]
    delay = float(np.random.default_rng(zlib.crc32(f"{kind}/{backend}".encode())).uniform(0.3, 0.8))
    reaction, res = sigint_reaction(CHILD, CHILD_KIND.get(kind, kind), backend, n, p, delay=delay)
    assert reaction < 1.0, f"SIGINT seen after {reaction:.2f} s"
    assert res["unchanged"]
    # the process is usable after the interrupt: a fresh solve equals one made here
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, p))
    X = X + 1.9 * np.roll(X, 1, axis=1)
    y = X[:, :10] @ np.linspace(-1.0, 1.0, 10) + 0.3 * rng.standard_normal(n)
    amax = np.abs(X.T @ y).max() / n
    here = inverse.lasso(X[:20, :8], y[:20], 0.01 * amax, tol=1e-10, backend=backend)
    np.testing.assert_array_equal(np.array(res["after"]), here.coef)


BIG_ADMM = CHILD_PRELUDE + textwrap.dedent("""
    import numpy as np
    from physdl import inverse
    n, p = int(sys.argv[1]), int(sys.argv[2])
    small = np.random.default_rng(1).standard_normal((30, 20))
    inverse.lasso(small, small[:, 0], 0.01, solver="admm", rho=0.1, backend="numba", max_iter=5)  # compile
    X = np.random.default_rng(2).standard_normal((n, p))
    y = X[:, :5].sum(axis=1)
    start = np.zeros(p)

    def work():
        inverse.lasso(X, y, 0.01, solver="admm", rho=0.01, tol=1e-300, max_iter=10**12, coef_init=start,
                      backend="numba")

    interrupted(work, unchanged=lambda: bool(not start.any()))
""")


def test_numba_admm_gram_sees_sigint():
    """The Numba ADMM's X^T X (8000 x 2500: seconds of BLAS work) is built in blocks of rows, run in
    pieces: a SIGINT sent during it is seen within a second."""
    reaction, res = sigint_reaction(BIG_ADMM, 8000, 2500, delay=1.5)
    assert reaction < 1.0, f"SIGINT seen after {reaction:.2f} s"
    assert res["unchanged"]
