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
    from libc.stdint cimport int8_t, int32_t, int64_t, uint64_t
    from libc.stdlib cimport malloc, free
    import numpy as np
    from physdl.capi cimport (physdl_capi, physdl_nn_handle, physdl_tn_program, physdl_graph, import_capi, nn_handle,
                              nn_handle_ptr, tn_handle, tn_handle_ptr, PHYSDL_OK)

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

    def rbm_gibbs64(double[::1] W, double[::1] b, double[::1] c, int64_t nv, int64_t nh, int pm, double[::1] v,
                    double[::1] h, int64_t m, int64_t k, uint64_t seed, uint64_t stream0, uint64_t t0, W_len=None):
        cdef size_t wl = W.shape[0] if W_len is None else W_len
        cdef int rc
        with nogil:
            rc = api.rbm_gibbs_f64(&W[0], wl, &b[0], b.shape[0], &c[0], c.shape[0], nv, nh, pm, &v[0], v.shape[0],
                                   &h[0], h.shape[0], m, k, seed, stream0, t0)
        return rc

    def rbm_gibbs32(float[::1] W, float[::1] b, float[::1] c, int64_t nv, int64_t nh, int pm, float[::1] v,
                    float[::1] h, int64_t m, int64_t k, uint64_t seed, uint64_t stream0, uint64_t t0):
        cdef int rc
        with nogil:
            rc = api.rbm_gibbs_f32(&W[0], W.shape[0], &b[0], b.shape[0], &c[0], c.shape[0], nv, nh, pm, &v[0],
                                   v.shape[0], &h[0], h.shape[0], m, k, seed, stream0, t0)
        return rc

    def hopfield(double[::1] W, int64_t n, int8_t[::1] S, int64_t m, int64_t max_sweeps, int tie_keep, uint64_t seed,
                 uint64_t stream0, double[::1] es, int64_t[::1] sw, int64_t[::1] fl, es_len=None):
        cdef size_t el = es.shape[0] if es_len is None else es_len
        cdef int rc
        with nogil:
            rc = api.hopfield_async(&W[0], W.shape[0], n, &S[0], S.shape[0], m, max_sweeps, tie_keep, seed, stream0,
                                    &es[0], el, &sw[0], sw.shape[0], &fl[0], fl.shape[0])
        return rc

    def lasso(int solver, double[::1] xt, double[::1] y, int64_t n, int64_t p, double alpha, double[::1] beta,
              double tol, int64_t max_iter, int positive, double param):
        cdef int64_t it = 0
        cdef double gap = 0
        cdef int rc
        with nogil:
            rc = api.lasso_solve(solver, &xt[0], xt.shape[0], &y[0], y.shape[0], n, p, alpha, &beta[0],
                                 beta.shape[0], tol, max_iter, positive, param, &it, &gap)
        return rc, it, gap

    def lasso_stop(int solver, double[::1] xt, double[::1] y, int64_t n, int64_t p, double alpha, double[::1] beta,
                   double tol, int64_t max_iter, int positive, double param, int32_t[::1] flag, it=-7, gap=-7.0):
        """lasso_solve_stop with the stop flag flag[0] (another thread may set it meanwhile); flag of
        length 0: NULL.  n_iter / gap start at the given sentinels."""
        cdef int64_t it_ = it
        cdef double gap_ = gap
        cdef const volatile int* stop = NULL
        if flag.shape[0] > 0:
            stop = <const volatile int*> &flag[0]
        cdef int rc
        with nogil:
            rc = api.lasso_solve_stop(solver, &xt[0], xt.shape[0], &y[0], y.shape[0], n, p, alpha, &beta[0],
                                      beta.shape[0], tol, max_iter, positive, param, &it_, &gap_, stop)
        return rc, it_, gap_

    def vmc_eloc(double[::1] params, int n, int m, uint64_t[::1] flips, int64_t[::1] offsets, uint64_t[::1] zmasks,
                 double[::1] cre, double[::1] cim, uint64_t sign_mask, uint64_t[::1] states, double[::1] out):
        cdef int rc
        with nogil:
            rc = api.vmc_local_energy(&params[0], params.shape[0], n, m, flips.shape[0], &flips[0], &offsets[0],
                                      zmasks.shape[0], &zmasks[0], &cre[0], &cim[0], sign_mask, &states[0],
                                      states.shape[0], states.shape[0], &out[0], out.shape[0])
        return rc

    def tn_run(expr, list operands, short_at=-1, int n_pass=-1):
        """operands: C-contiguous float64 arrays; short_at >= 0 passes that operand's length as 1 too few."""
        cap = tn_handle(expr)
        cdef const physdl_tn_program* h = tn_handle_ptr(cap)
        cdef int ni = 0, i, rc
        cdef int64_t nout = 0, size = 0
        api.tn_sizes(h, &ni, &nout)
        if ni != len(operands):
            return -100, None
        cdef const double** ptrs = <const double**> malloc(max(ni, 1) * sizeof(double*))
        cdef size_t* lens = <size_t*> malloc(max(ni, 1) * sizeof(size_t))
        cdef double[::1] a
        keep = []
        for i in range(ni):
            a = operands[i].reshape(-1)
            keep.append(a)
            ptrs[i] = &a[0]
            api.tn_input_size(h, i, &size)
            lens[i] = a.shape[0] - (1 if i == short_at else 0)
        out = np.empty(nout)
        cdef double[::1] o = out
        with nogil:
            rc = api.tn_execute_f64(h, ptrs, lens, ni if n_pass < 0 else n_pass, &o[0], o.shape[0])
        free(ptrs)
        free(lens)
        return rc, out

    def graph_run(int kind, int32_t[::1] nbr, int z, int uniform, double J0, double h0, double[::1] Jb,
                  double[::1] hs, int32_t[::1] order, int64_t[::1] off, int8_t[::1] spins, int update, double beta,
                  uint64_t seed, uint64_t chain, uint64_t counter0, int64_t per, int64_t nsweeps, int64_t every):
        """kind 0: Metropolis / heat bath, 1: Wolff, 2: Swendsen-Wang; one sweep per call in a nogil loop."""
        cdef physdl_graph g
        g.n = spins.shape[0]
        g.z = z
        g.nbr = &nbr[0]
        g.uniform = uniform
        g.J0 = J0
        g.h0 = h0
        g.J = &Jb[0] if Jb.shape[0] else NULL
        g.h = &hs[0] if hs.shape[0] else NULL
        g.order = &order[0]
        g.col_off = &off[0]
        g.ncol = off.shape[0] - 1
        cdef uint64_t table[130]
        cdef size_t ntab = 2 * (z + 1)
        cdef uint64_t p_add = 0, nxt = counter0
        cdef int rc = 0, i
        for i in range(130):
            table[i] = 0
        if uniform:
            rc = api.graph_table(update, z, beta, J0, h0, table, 130, &ntab) if kind == 0 else api.cluster_p_add(beta, J0, &p_add)
            if rc != PHYSDL_OK:
                return rc, None, None, None, None
        E = np.zeros(nsweeps // every if every else 0)
        M = np.zeros(E.shape[0], np.int64)
        F = np.zeros(nsweeps, np.int64)
        cdef double[::1] e = E
        cdef int64_t[::1] m = M
        cdef int64_t[::1] f = F
        cdef int64_t t, k = 0
        with nogil:
            for t in range(nsweeps):
                if kind == 0:
                    rc = api.graph_sweeps(&g, &spins[0], spins.shape[0], update, beta, table, ntab, seed, chain,
                                          counter0 + t, 1, 1 if (every and (t + 1) % every == 0) else 0, &e[k], 1, &m[k], 1)
                elif kind == 1:
                    rc = api.graph_wolff_sweeps(&g, &spins[0], spins.shape[0], beta, p_add, seed, chain, nxt, per, 1,
                                                1 if (every and (t + 1) % every == 0) else 0, &e[k], 1, &m[k], 1,
                                                &f[t], 1, &nxt)
                else:
                    rc = api.graph_sw_sweeps(&g, &spins[0], spins.shape[0], beta, p_add, seed, chain, counter0 + t,
                                             1, 1 if (every and (t + 1) % every == 0) else 0, &e[k], 1, &m[k], 1)
                if rc != PHYSDL_OK:
                    break
                if every and (t + 1) % every == 0:
                    k += 1
        cdef double e0 = 0
        cdef int64_t m0 = 0
        if rc == PHYSDL_OK:
            rc = api.graph_measure(&g, &spins[0], spins.shape[0], &e0, &m0)
        return rc, E, M, F, (nxt, e0, m0)

    def graph_bad(int what):
        cdef int32_t nbr[8]
        cdef int32_t order[4]
        cdef int64_t off[3]
        cdef int8_t s[4]
        cdef uint64_t table[6]
        cdef double e
        cdef int64_t m
        cdef int i
        for i in range(4):
            nbr[2 * i] = (i + 1) % 4
            nbr[2 * i + 1] = (i + 3) % 4
            order[i] = (0, 2, 1, 3)[i]
            s[i] = 1
        off[0] = 0
        off[1] = 2
        off[2] = 4
        for i in range(6):
            table[i] = 0
        cdef physdl_graph g
        g.n = 4
        g.z = 2
        g.nbr = nbr
        g.uniform = 1
        g.J0 = 1.0
        g.h0 = 0.0
        g.J = NULL
        g.h = NULL
        g.order = order
        g.col_off = off
        g.ncol = 2
        if what == 0:
            return api.graph_sweeps(&g, s, 4, 0, 0.5, table, 6, 1, 0, 0, 2, 0, NULL, 0, NULL, 0)
        if what == 1:
            nbr[3] = 4  # outside [0, n)
        elif what == 2:
            off[2] = 3  # does not end at n
        elif what == 3:
            s[1] = 0
        elif what == 4:
            return api.graph_sweeps(&g, s, 3, 0, 0.5, table, 6, 1, 0, 0, 2, 0, NULL, 0, NULL, 0)
        elif what == 5:
            return api.graph_sweeps(&g, s, 4, 0, 0.5, table, 5, 1, 0, 0, 2, 0, NULL, 0, NULL, 0)
        elif what == 6:
            g.uniform = 0  # J, h missing
        elif what == 7:
            return api.graph_sweeps(&g, s, 4, 0, 0.5, table, 6, 1, 0, (1 << 38), 1 << 37, 0, NULL, 0, NULL, 0)
        elif what == 8:  # no clusters per sweep
            return api.graph_wolff_sweeps(&g, s, 4, 0.5, 1, 1, 0, 0, 0, 2, 0, NULL, 0, NULL, 0, NULL, 1, NULL)
        elif what == 10:  # no flipped-count buffer
            return api.graph_wolff_sweeps(&g, s, 4, 0.5, 1, 1, 0, 0, 1, 2, 0, NULL, 0, NULL, 0, NULL, 1, NULL)
        elif what == 11:  # a flipped-count buffer of one sweep for two
            return api.graph_wolff_sweeps(&g, s, 4, 0.5, 1, 1, 0, 0, 1, 2, 0, NULL, 0, NULL, 0, &m, 1, NULL)
        elif what == 9:
            return api.graph_measure(&g, s, 4, NULL, &m)
        return api.graph_sweeps(&g, s, 4, 0, 0.5, table, 6, 1, 0, 0, 2, 0, NULL, 0, NULL, 0)

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


OK, NULL, SHORT, SIZE, ENUM, VALUE, TYPE, STOPPED = 0, -1, -2, -3, -4, -5, -7, -8
MSE, CE = 0, 3


def test_table_version(cy):
    assert cy.version() == physdl._core._capi_version >= 5


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


# ---------------------------------------------------------------------------------------- version 3
@pytest.mark.parametrize("units", ["binary", "spin"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rbm_gibbs_equals_python(cy, units, dtype):
    import physdl.boltzmann as pb

    rbm = pb.RBM(7, 5, units=units, dtype=dtype, seed=11, init_std=0.5)
    rbm.b[:] = np.linspace(-0.3, 0.4, 7)
    rbm.c[:] = np.linspace(0.2, -0.1, 5)
    rbm.gibbs(rbm.random_visible(3), k=2)  # the step counter is not at 0
    v0 = rbm.random_visible(9)
    t0 = rbm._t
    vr, hr = rbm.gibbs(v0, k=4)
    v, h = v0.astype(dtype).ravel().copy(), np.empty(9 * 5, dtype)
    f = cy.rbm_gibbs64 if dtype == np.float64 else cy.rbm_gibbs32
    assert f(rbm.W.ravel(), rbm.b, rbm.c, 7, 5, int(units == "spin"), v, h, 9, 4, rbm.seed,
             pb._stream(pb._SAMPLE), t0) == OK
    assert np.array_equal(v.reshape(9, 7), vr) and np.array_equal(h.reshape(9, 5), hr)
    assert not np.array_equal(vr, v0)


def test_rbm_gibbs_bad_use(cy):
    W, b, c = np.zeros(6), np.zeros(3), np.zeros(2)
    v, h = np.zeros(3), np.zeros(2)
    assert cy.rbm_gibbs64(W, b, c, 3, 2, 0, v, h, 1, 1, 0, 0, 0, W_len=5) == SHORT
    assert cy.rbm_gibbs64(W, b, c, 3, 2, 0, v, h, 2, 1, 0, 0, 0) == SHORT  # v holds one chain
    assert cy.rbm_gibbs64(W, b, c, 3, 2, 2, v, h, 1, 1, 0, 0, 0) == ENUM
    assert cy.rbm_gibbs64(W, b, c, 3, 2, 0, v, h, 1, -1, 0, 0, 0) == SIZE
    W[0] = np.nan
    assert cy.rbm_gibbs64(W, b, c, 3, 2, 0, v, h, 1, 1, 0, 0, 0) == VALUE


@pytest.mark.parametrize("tie", ["minus", "keep"])
def test_hopfield_equals_python(cy, tie):
    from physdl.hopfield import Hopfield
    from physdl.random.streams import stream

    rng = np.random.default_rng(5)
    N, m, sweeps = 40, 6, 30
    pats = np.where(rng.random((3, N)) < 0.5, 1, -1)
    J = pats.T @ pats / N
    np.fill_diagonal(J, 0)
    net = Hopfield(J, tie=tie)  # float couplings (from_patterns would run the integer kernel)
    S0 = np.where(rng.random((m, N)) < 0.5, 1, -1).astype(np.int8)
    res = net.run(S0.copy(), max_sweeps=sweeps, seed=9, backend="cpp")
    S = S0.ravel().copy()
    es, sw, fl = np.empty(m * (sweeps + 1)), np.empty(m, np.int64), np.empty(m, np.int64)
    assert cy.hopfield(net.J.ravel(), N, S, m, sweeps, int(tie == "keep"), 9, stream("hopfield", 0), es, sw, fl) == OK
    assert np.array_equal(S.reshape(m, N), res.states)
    assert np.array_equal(es.reshape(m, -1), res.energy)
    assert np.array_equal(sw, res.sweeps) and np.array_equal(fl, res.flips) and fl.sum() > 0


def test_hopfield_bad_use(cy):
    W = np.zeros(16)
    S = np.ones(8, np.int8)
    es, sw, fl = np.zeros(2 * 3), np.zeros(2, np.int64), np.zeros(2, np.int64)
    assert cy.hopfield(W, 4, S, 2, 2, 0, 0, 0, es, sw, fl) == OK
    assert cy.hopfield(W, 4, S, 2, 2, 0, 0, 0, es, sw, fl, es_len=5) == SHORT
    assert cy.hopfield(W, 4, S, 3, 2, 0, 0, 0, es, sw, fl) == SHORT
    assert cy.hopfield(W, 4, S, 2, 0, 0, 0, 0, es, sw, fl) == SIZE
    assert cy.hopfield(W, 4, S, 2, 2, 3, 0, 0, es, sw, fl) == ENUM
    S[3] = 0
    assert cy.hopfield(W, 4, S, 2, 2, 0, 0, 0, es, sw, fl) == VALUE


@pytest.mark.parametrize("solver,code", [("cd", 0), ("admm", 2)])
@pytest.mark.parametrize("positive", [False, True])
def test_lasso_equals_python(cy, solver, code, positive):
    from physdl.inverse import lasso

    rng = np.random.default_rng(8)
    n, p = 40, 25
    X = rng.normal(size=(n, p))
    y = X[:, :4] @ np.array([1.5, -2.0, 0.7, 0.3]) + 0.05 * rng.normal(size=n)
    r = lasso(X, y, 0.05, solver=solver, positive=positive, tol=1e-10, backend="cpp")
    beta = np.zeros(p)
    rc, it, gap = cy.lasso(code, np.ascontiguousarray(X.T).ravel(), y, n, p, 0.05, beta, 1e-10, 100_000,
                           int(positive), -1.0)
    assert rc == OK
    assert np.array_equal(beta, r.coef) and (it, gap) == (r.n_iter, r.gap)
    assert np.count_nonzero(beta) >= 3


def test_lasso_bad_use(cy):
    xt, y, b = np.zeros(6), np.zeros(3), np.zeros(2)
    assert cy.lasso(3, xt, y, 3, 2, 0.1, b, 1e-6, 10, 0, -1.0)[0] == ENUM
    assert cy.lasso(0, xt, y, 3, 3, 0.1, b, 1e-6, 10, 0, -1.0)[0] == SHORT
    assert cy.lasso(0, xt, y, 3, 2, 0.0, b, 1e-6, 10, 0, -1.0)[0] == VALUE
    assert cy.lasso(0, xt, y, 3, 2, 0.1, b, 1e-6, 0, 0, -1.0)[0] == SIZE


def _lasso_long(n=300, p=600, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X = X + 1.9 * np.roll(X, 1, axis=1)
    y = X[:, :10] @ np.linspace(-1.0, 1.0, 10) + 0.3 * rng.standard_normal(n)
    return X, y, 1e-4 * np.abs(X.T @ y).max() / n


@pytest.mark.parametrize("solver,code", [("cd", 0), ("fista", 1), ("admm", 2)])
def test_lasso_stop_flag_clear_or_null_equals_lasso_solve(cy, solver, code):
    """Version 5: with the flag at 0 (or NULL) the solve is lasso_solve's, bit for bit."""
    rng = np.random.default_rng(8)
    n, p = 40, 25
    X = rng.normal(size=(n, p))
    y = X[:, :4] @ np.array([1.5, -2.0, 0.7, 0.3]) + 0.05 * rng.normal(size=n)
    xt = np.ascontiguousarray(X.T).ravel()
    ref = np.zeros(p)
    rc0, it0, gap0 = cy.lasso(code, xt, y, n, p, 0.05, ref, 1e-10, 100_000, 0, -1.0)
    assert rc0 == OK
    for flag in (np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32)):
        beta = np.zeros(p)
        rc, it, gap = cy.lasso_stop(code, xt, y, n, p, 0.05, beta, 1e-10, 100_000, 0, -1.0, flag)
        assert rc == OK and (it, gap) == (it0, gap0)
        assert np.array_equal(beta, ref)


@pytest.mark.parametrize("code", [0, 1, 2])
def test_lasso_stop_flag_set_before_the_call(cy, code):
    X, y, alpha = _lasso_long(60, 80)
    beta = np.full(80, 0.01)
    keep = beta.copy()
    rc, it, gap = cy.lasso_stop(code, np.ascontiguousarray(X.T).ravel(), y, 60, 80, alpha, beta, 1e-8, 1000, 0,
                                -1.0, np.ones(1, dtype=np.int32))
    assert rc == STOPPED and (it, gap) == (-7, -7.0)
    assert np.array_equal(beta, keep)


@pytest.mark.parametrize("code", [0, 1, 2])
def test_lasso_stop_flag_set_by_another_thread(cy, code):
    """A thread sets the flag 0.3 s into a solve that would run for minutes: the call returns
    PHYSDL_STOPPED within a second, with the caller's beta, n_iter and gap untouched; the same solve
    with a bounded iteration count then runs to its end as before."""
    import threading
    import time

    n, p = (600, 400) if code == 2 else (300, 600)
    X, y, alpha = _lasso_long(n, p)
    xt = np.ascontiguousarray(X.T).ravel()
    beta = np.full(p, 0.01)
    keep = beta.copy()
    flag = np.zeros(1, dtype=np.int32)
    param = 0.01 if code == 2 else -1.0
    timer = threading.Timer(0.3, lambda: flag.__setitem__(0, 1))
    t0 = time.perf_counter()
    timer.start()
    rc, it, gap = cy.lasso_stop(code, xt, y, n, p, alpha, beta, 0.0, 10**12, 0, param, flag)
    took = time.perf_counter() - t0
    timer.join()
    assert rc == STOPPED, (rc, it, gap)
    assert (it, gap) == (-7, -7.0)
    assert np.array_equal(beta, keep)
    assert 0.3 <= took < 1.3, took
    # the buffers are as good as new: a bounded solve from them equals lasso_solve's
    ref = keep.copy()
    rc0, it0, gap0 = cy.lasso(code, xt, y, n, p, alpha, ref, 0.0, 3, 0, param)
    flag[0] = 0
    rc, it, gap = cy.lasso_stop(code, xt, y, n, p, alpha, beta, 0.0, 3, 0, param, flag)
    assert rc == rc0 == OK and (it, gap) == (it0, gap0)
    assert np.array_equal(beta, ref) and not np.array_equal(beta, keep)


def test_vmc_local_energy_equals_python(cy):
    from physdl.geometry import Lattice
    from physdl.quantum import heisenberg, transverse_field_ising
    from physdl.quantum.vmc import RBM, local_energy, marshall_mask

    rng = np.random.default_rng(4)
    lat = Lattice("chain", 10)
    for H, mask in ((heisenberg(lat), marshall_mask(lat)), (transverse_field_ising(lat, h=0.7), 0)):
        psi = RBM(10, alpha=2, seed=3, scale=0.3, sign_mask=mask)
        states = rng.integers(0, 2**10, size=50, dtype=np.uint64)
        ref = local_energy(H, psi, states, backend="cpp")
        fl, off, zm, cre, cim = H.numba_args()
        out = np.empty(50)
        assert cy.vmc_eloc(np.ascontiguousarray(psi.params), psi.n, psi.m, np.ascontiguousarray(fl, np.uint64),
                           np.ascontiguousarray(off, np.int64), np.ascontiguousarray(zm, np.uint64), cre, cim,
                           psi.sign_mask, states, out) == OK
        assert np.array_equal(out, ref)
    bad = states.copy()
    bad[0] = 2**10  # a bit beyond the last site
    assert cy.vmc_eloc(np.ascontiguousarray(psi.params), psi.n, psi.m, np.ascontiguousarray(fl, np.uint64),
                       np.ascontiguousarray(off, np.int64), np.ascontiguousarray(zm, np.uint64), cre, cim, 0, bad,
                       out) == VALUE
    assert cy.vmc_eloc(np.ascontiguousarray(psi.params[:-1]), psi.n, psi.m, np.ascontiguousarray(fl, np.uint64),
                       np.ascontiguousarray(off, np.int64), np.ascontiguousarray(zm, np.uint64), cre, cim, 0, states,
                       out) == SHORT
    cim2 = cim.copy()
    cim2[0] = 0.5  # complex operators are refused, as by local_energy
    assert cy.vmc_eloc(np.ascontiguousarray(psi.params), psi.n, psi.m, np.ascontiguousarray(fl, np.uint64),
                       np.ascontiguousarray(off, np.int64), np.ascontiguousarray(zm, np.uint64), cre, cim2, 0, states,
                       out) == VALUE


def test_tensornet_expression_equals_python(cy):
    from physdl.tensornet import contract_expression

    rng = np.random.default_rng(6)
    shapes = [(4, 5, 6), (6, 7), (7, 5, 3), (3, 3)]
    ops = [rng.normal(size=s) for s in shapes]
    for sub in ("abc,cd,dbe,ee->a", "abc,cd,dbe,ef->af"):
        expr = contract_expression(sub, *shapes, backend="cpp")
        rc, out = cy.tn_run(expr, ops)
        assert rc == OK
        ref = expr(*ops)
        assert np.array_equal(out.reshape(ref.shape), ref)
        assert np.allclose(out.reshape(ref.shape), np.einsum(sub, *ops))
    assert cy.tn_run(expr, ops, short_at=2)[0] == SHORT
    assert cy.tn_run(expr, ops, n_pass=3)[0] == SIZE
    with pytest.raises(ValueError, match="zero-sized"):
        cy.tn_run(contract_expression("ab,bc->ac", (2, 0), (0, 3)), [np.zeros((2, 0)), np.zeros((0, 3))])


# ---------------------------------------------------------------------------------------- version 4
def _graph_args(sim):
    m = sim.model
    cluster = sim.update in ("wolff", "swendsen_wang")
    if cluster:
        order, off = np.arange(m.n_sites, dtype=np.int32), np.array([0, m.n_sites], np.int64)
    else:
        order, off = m.colouring(sim.sweep)
    uniform = int(np.ndim(m.J) == 0 and np.ndim(m.h) == 0 and type(m).__name__ == "Ising")
    Jb = np.zeros(0) if uniform else np.ascontiguousarray(m.bond_couplings(), np.float64)
    hs = np.zeros(0) if uniform else np.ascontiguousarray(m.fields(), np.float64)
    return (np.ascontiguousarray(m.neighbours(), np.int32).ravel(), m.z, uniform,
            float(m.J) if uniform else 0.0, float(m.h) if uniform else 0.0, Jb, hs,
            np.ascontiguousarray(order, np.int32), np.ascontiguousarray(off, np.int64))


@pytest.mark.parametrize("model,update,sweep", [
    (lambda: __import__("physdl.lattice", fromlist=["Ising"]).Ising((6, 6), geometry="triangular", h=0.2),
     "metropolis", None),
    (lambda: __import__("physdl.lattice", fromlist=["Ising"]).Ising((4, 4, 4), h=-0.1), "heat_bath", None),
    (lambda: __import__("physdl.lattice", fromlist=["Ising"]).Ising((9,)), "metropolis", "sequential"),
    (lambda: __import__("physdl.lattice", fromlist=["EdwardsAnderson"]).EdwardsAnderson((8, 8), seed=4),
     "metropolis", None),
    (lambda: __import__("physdl.lattice", fromlist=["Ising"]).Ising((6, 6), geometry="triangular"), "wolff", None),
    (lambda: __import__("physdl.lattice", fromlist=["Ising"]).Ising((4, 4, 4)), "swendsen_wang", None),
    (lambda: __import__("physdl.lattice", fromlist=["Ising"]).Ising(
        (8, 8), J=np.random.default_rng(1).uniform(0.5, 1.5, (8, 8, 2))), "swendsen_wang", None),
    (lambda: __import__("physdl.lattice", fromlist=["Ising"]).Ising(
        (8, 8), J=np.random.default_rng(2).uniform(0.5, 1.5, (8, 8, 2))), "wolff", None),
])
def test_graph_sweeps_equal_simulation(cy, model, update, sweep):
    """One sweep per C call in a nogil loop = Simulation(storage="byte").run(n) on other geometries."""
    from physdl.lattice import Simulation

    mdl = model()
    kw = dict(clusters_per_sweep=3) if update == "wolff" else {}
    if sweep:
        kw["sweep"] = sweep
    sim = Simulation(mdl, 0.35, update=update, storage="byte", seed=7, chain=3, backend="cpp", **kw)
    s = sim.spins.ravel().copy()
    args = _graph_args(sim)
    assert bool(args[2]) == sim._uniform
    kind = {"metropolis": 0, "heat_bath": 0, "wolff": 1, "swendsen_wang": 2}[update]
    code = 1 if update == "heat_bath" else 0
    n, every = 6, 2
    rc, E, M, F, (nxt, e, m) = cy.graph_run(kind, *args, s, code, 0.35, 7, 3,
                                            sim.cluster if kind == 1 else sim.sweeps_done, 3, n, every)
    assert rc == OK
    res = sim.run(n, measure_every=every)
    N = mdl.n_sites
    assert np.array_equal(s, sim.spins.ravel()) and not np.array_equal(s, Simulation(
        mdl, 0.35, update=update, storage="byte", seed=7, chain=3, backend="cpp", **kw).spins.ravel())
    assert np.array_equal(E / N, res.energy_series) and np.array_equal(M / N, res.magnetization_series)
    assert (e, m) == sim.measure()
    if kind == 1:
        assert nxt == sim.cluster == 3 * n


def test_graph_bad_use(cy):
    assert cy.graph_bad(0) == OK
    assert cy.graph_bad(1) == VALUE and cy.graph_bad(2) == VALUE and cy.graph_bad(3) == VALUE
    assert cy.graph_bad(4) == SHORT and cy.graph_bad(5) == SHORT
    assert cy.graph_bad(6) == NULL and cy.graph_bad(7) == SIZE
    assert cy.graph_bad(8) == SIZE  # Wolff needs clusters_per_sweep >= 1
    assert cy.graph_bad(9) == NULL and cy.graph_bad(10) == NULL and cy.graph_bad(11) == SHORT
