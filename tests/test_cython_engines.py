"""The engines of the C API (physdl/capi.pxd, version >= 2) called from a Cython extension compiled
here against the installed physdl, compared bit for bit with the Python API on the same inputs.

One extension for the whole module (built once, in a temporary folder outside the source tree), so
the compile time in CI stays one Cython build."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import physdl
import physdl.nn as pnn

PYX = textwrap.dedent(r'''
    # cython: language_level=3, boundscheck=False, wraparound=False
    from libc.stdint cimport int64_t
    import numpy as np
    from physdl.capi cimport (physdl_capi, physdl_nn_handle, import_capi, nn_handle, nn_handle_ptr, PHYSDL_OK)

    cdef const physdl_capi* api = import_capi()

    def version():
        return api.version

    def nn_sizes(model, optimizer=None):
        cap = nn_handle(model, optimizer)
        cdef int item = 0, has_opt = 0
        cdef int64_t nin = 0, nout = 0, nlab = 0, npar = 0
        rc = api.nn_sizes(nn_handle_ptr(cap), &item, &nin, &nout, &nlab, &npar, &has_opt)
        return rc, item, nin, nout, nlab, npar, has_opt

    def nn_forward64(model, double[::1] x, int64_t n, double[::1] out, x_len=None, out_len=None):
        cap = nn_handle(model)
        cdef physdl_nn_handle* h = nn_handle_ptr(cap)
        cdef size_t xl = x.shape[0] if x_len is None else x_len
        cdef size_t ol = out.shape[0] if out_len is None else out_len
        cdef int rc
        with nogil:
            rc = api.nn_forward_f64(h, &x[0], xl, n, &out[0], ol)
        return rc

    def nn_forward32(model, float[::1] x, int64_t n, float[::1] out):
        cap = nn_handle(model)
        cdef physdl_nn_handle* h = nn_handle_ptr(cap)
        cdef int rc
        with nogil:
            rc = api.nn_forward_f32(h, &x[0], x.shape[0], n, &out[0], out.shape[0])
        return rc

    def nn_train64(model, optimizer, double[::1] X, double[::1] Y, int64_t n_total, int64_t batch, int loss,
                   double[::1] losses):
        """Minibatches [s*batch, (s+1)*batch) of X (targets Y) in turn, all in one nogil loop."""
        cap = nn_handle(model, optimizer)
        cdef physdl_nn_handle* h = nn_handle_ptr(cap)
        cdef int64_t nin = 0, nout = 0, s, nb = n_total // batch
        cdef int rc = api.nn_sizes(h, NULL, &nin, &nout, NULL, NULL, NULL)
        with nogil:
            for s in range(nb):
                rc = api.nn_train_step_f64(h, &X[s * batch * nin], batch * nin, batch, loss,
                                           &Y[s * batch * nout], batch * nout, NULL, 0, &losses[s])
                if rc != PHYSDL_OK:
                    break
        return rc

    def nn_train32_labels(model, optimizer, float[::1] X, int64_t[::1] lab, int64_t n_total, int64_t batch,
                          int loss, double[::1] losses):
        cap = nn_handle(model, optimizer)
        cdef physdl_nn_handle* h = nn_handle_ptr(cap)
        cdef int64_t nin = 0, nlab = 0, s, nb = n_total // batch
        cdef int rc = api.nn_sizes(h, NULL, &nin, NULL, &nlab, NULL, NULL)
        with nogil:
            for s in range(nb):
                rc = api.nn_train_step_f32(h, &X[s * batch * nin], batch * nin, batch, loss, NULL, 0,
                                           &lab[s * batch * nlab], batch * nlab, &losses[s])
                if rc != PHYSDL_OK:
                    break
        return rc

    def nn_train_step64_raw(model, optimizer, double[::1] X, int64_t n, int loss, double[::1] Y, y_len=None):
        cap = nn_handle(model, optimizer)
        cdef size_t yl = Y.shape[0] if y_len is None else y_len
        cdef double L = 0
        rc = api.nn_train_step_f64(nn_handle_ptr(cap), &X[0], X.shape[0], n, loss, &Y[0], yl, NULL, 0, &L)
        return rc

    def nn_wrong_dtype(model):
        cap = nn_handle(model)
        cdef float x[4]
        cdef float y[4]
        return api.nn_forward_f32(nn_handle_ptr(cap), x, 4, 1, y, 4)

    def nn_null():
        cdef double x[1]
        return api.nn_forward_f64(NULL, x, 1, 1, x, 1), api.nn_sizes(NULL, NULL, NULL, NULL, NULL, NULL, NULL)
''')

SETUP = textwrap.dedent('''
    import physdl
    from Cython.Build import cythonize
    from setuptools import Extension, setup
    ext = Extension("cy_engines", ["cy_engines.pyx"], include_dirs=[physdl.get_include()])
    setup(ext_modules=cythonize([ext], include_path=[physdl.get_pxd_include()], quiet=True))
''')


@pytest.fixture(scope="module")
def cy(tmp_path_factory):
    pytest.importorskip("Cython", reason="Cython is needed to build the extension (pip install physdl[test])")
    pytest.importorskip("setuptools", reason="setuptools is needed to build the extension")
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("needs a C compiler")
    tmp = tmp_path_factory.mktemp("cython_engines")
    (tmp / "cy_engines.pyx").write_text(PYX)
    (tmp / "setup.py").write_text(SETUP)
    run = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    so = next(tmp.glob("cy_engines*.so"), None) or next(tmp.glob("cy_engines*.pyd"))
    spec = importlib.util.spec_from_file_location("cy_engines", so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


OK, NULL, SHORT, SIZE, ENUM, VALUE, TYPE = 0, -1, -2, -3, -4, -5, -7
MSE, CE = 0, 3


def test_table_version(cy):
    assert cy.version() == physdl._core._capi_version >= 2


def _mlp(seed=4, dtype="float64"):
    return pnn.Sequential([pnn.Dense(6, 16), pnn.Tanh(), pnn.Dense(16, 3)], input_shape=(6,), seed=seed,
                          dtype=dtype, backend="cpp")


def test_nn_forward_equals_predict(cy):
    rng = np.random.default_rng(1)
    m = _mlp()
    X = rng.normal(size=(37, 6))
    out = np.empty(37 * 3)
    assert cy.nn_forward64(m, X.ravel(), 37, out) == OK
    assert np.array_equal(out.reshape(37, 3), m.predict(X))
    assert cy.nn_sizes(m) == (OK, 8, 6, 3, 1, m.n_params, 0)
    # float32 convolutional model
    c = pnn.Sequential([pnn.Conv2d(1, 3, 3, padding=1, padding_mode="circular"), pnn.ReLU(), pnn.Flatten(),
                        pnn.Dense(3 * 6 * 6, 4), pnn.Softmax()], input_shape=(1, 6, 6), seed=2, backend="cpp")
    Xc = rng.normal(size=(9, 1, 6, 6)).astype(np.float32)
    oc = np.empty(9 * 4, np.float32)
    assert cy.nn_forward32(c, Xc.ravel(), 9, oc) == OK
    assert np.array_equal(oc.reshape(9, 4), c.predict(Xc))


@pytest.mark.parametrize("opt", [lambda: pnn.Adam(lr=3e-3), lambda: pnn.SGD(lr=0.05, momentum=0.9, nesterov=True,
                                                                            clip_norm=1.0)])
def test_nn_train_loop_equals_train_step(cy, opt):
    """A nogil loop of training steps on caller buffers = the same steps through Sequential.train_step."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 6))
    Y = np.sin(X[:, :3]) + 0.1 * X[:, 3:]
    a, b = _mlp(), _mlp()
    oa, ob = opt(), opt()
    batch = 16
    losses = np.empty(80 // batch)
    assert cy.nn_train64(a, oa, X.ravel(), Y.ravel(), 80, batch, MSE, losses) == OK
    ref = [b.train_step(X[s:s + batch], Y[s:s + batch], "mse", ob) for s in range(0, 80, batch)]
    assert np.array_equal(losses, ref)
    assert np.array_equal(a.params, b.params) and not np.array_equal(a.params, _mlp().params)
    assert oa.steps == ob.steps == 80 // batch
    # the state stays the optimizer's: a Python step after the Cython ones continues the same trajectory
    assert a.train_step(X[:batch], Y[:batch], "mse", oa) == b.train_step(X[:batch], Y[:batch], "mse", ob)
    assert np.array_equal(a.params, b.params)


def test_nn_train_labels_float32(cy):
    rng = np.random.default_rng(3)
    mk = lambda: pnn.Sequential([pnn.Dense(5, 12), pnn.ReLU(), pnn.Dense(12, 4)], input_shape=(5,), seed=7,  # noqa: E731
                                backend="cpp")
    a, b = mk(), mk()
    oa, ob = pnn.Adam(lr=1e-2), pnn.Adam(lr=1e-2)
    X = rng.normal(size=(60, 5)).astype(np.float32)
    lab = rng.integers(0, 4, size=60).astype(np.int64)
    lab[5] = -100  # ignored, as in the Python API
    losses = np.empty(6)
    assert cy.nn_train32_labels(a, oa, X.ravel(), lab, 60, 10, CE, losses) == OK
    ref = [b.train_step(X[s:s + 10], lab[s:s + 10], "softmax_cross_entropy", ob) for s in range(0, 60, 10)]
    assert np.array_equal(losses, ref)
    assert np.array_equal(a.params, b.params)


def test_nn_bad_use(cy):
    m = _mlp()
    X = np.zeros(12)
    out = np.zeros(6)
    before = m.params.copy()
    assert cy.nn_forward64(m, X, 2, out, x_len=11) == SHORT
    assert cy.nn_forward64(m, X, 2, out, out_len=5) == SHORT
    assert cy.nn_forward64(m, X, 0, out) == SIZE
    assert cy.nn_forward64(m, X, 2**62, out) == SIZE  # n * input_size overflows
    assert cy.nn_wrong_dtype(m) == TYPE
    assert cy.nn_null() == (NULL, NULL)
    Xn = X.copy()
    Xn[3] = np.nan
    assert cy.nn_forward64(m, Xn, 2, out) == VALUE
    opt = pnn.SGD(lr=0.1)
    Y = np.zeros(6)
    assert cy.nn_train_step64_raw(m, None, X, 2, MSE, Y) == NULL  # no optimizer in the handle
    assert cy.nn_train_step64_raw(m, opt, X, 2, 7, Y) == ENUM
    assert cy.nn_train_step64_raw(m, opt, X, 2, MSE, Y, y_len=5) == SHORT
    Yn = Y.copy()
    Yn[0] = np.inf
    assert cy.nn_train_step64_raw(m, opt, X, 2, MSE, Yn) == VALUE
    assert np.array_equal(m.params, before)  # nothing was updated by the refused calls
    with pytest.raises(ValueError, match="backend"):
        cy.nn_sizes(pnn.Sequential([pnn.Dense(2, 2)], input_shape=(2,), backend="numba"))
    with pytest.raises(RuntimeError, match="not built"):
        cy.nn_sizes(pnn.Sequential([pnn.Conv2d(1, 1, 3)], backend="cpp"))  # shape unknown yet
    with pytest.raises(ValueError, match="another model"):
        cy.nn_sizes(_mlp(), opt)  # opt holds m's state
