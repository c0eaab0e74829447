// Bindings of physdl::inverse (LASSO solvers and the sparse-modelling ADMM).  Sizes are checked here;
// the public API in physdl.inverse validates values.
#include <string>

#include "common.hpp"
#include "physdl/inverse/lasso.hpp"
#include "physdl/inverse/spm.hpp"

namespace physdl::bindings {

namespace {

namespace inv = physdl::inverse;

void need(bool ok, const std::string& what) {
  if (!ok) throw py::value_error(what);
}

// xt is X^T (p x n, C order); returns (n, p)
std::pair<long, long> dims(const carray<double>& xt, const carray<double>& y) {
  need(xt.ndim() == 2, "xt must be 2-dimensional (p x n)");
  need(y.ndim() == 1, "y must be 1-dimensional");
  const long p = long(xt.shape(0)), n = long(xt.shape(1));
  need(long(y.shape(0)) == n, "y has " + std::to_string(y.shape(0)) + " entries, X has " + std::to_string(n) + " rows");
  need(n > 0 && p > 0, "X must not be empty");
  return {n, p};
}

inv::Interrupt make_interrupt() {
  inv::Interrupt c;
  c.stop = poll_signals;
  return c;
}

}  // namespace

void register_inverse(py::module_& root) {
  auto m = root.def_submodule("inverse", "LASSO solvers and sparse-modelling ADMM (physdl.inverse)");

  m.def("lasso_path_cd", [](carray<double> xt, carray<double> y, carray<double> alphas, double tol, long max_iter,
                            bool positive) {
    auto [n, p] = dims(xt, y);
    need(alphas.ndim() == 1, "alphas must be 1-dimensional");
    const long k = long(alphas.shape(0));
    carray<double> coefs({k, p});
    carray<double> gaps({k});
    py::array_t<long> iters({k});
    double* c = coefs.mutable_data();
    double* g = gaps.mutable_data();
    long* it = iters.mutable_data();
    inv::Interrupt ctl = make_interrupt();
    {
      py::gil_scoped_release nogil;
      inv::lasso_path_cd(xt.data(), y.data(), n, p, alphas.data(), k, c, g, it, tol, max_iter, positive, &ctl);
    }
    if (ctl.stopped) throw py::error_already_set();
    return py::make_tuple(coefs, gaps, iters);
  }, py::arg("xt"), py::arg("y"), py::arg("alphas"), py::arg("tol"), py::arg("max_iter"), py::arg("positive"),
     "Coordinate-descent LASSO path (warm starts, working sets, gap-safe screening).");

  m.def("lasso_path_gram", [](carray<double> gram, carray<double> xty, double yty, long n, carray<double> alphas,
                              double tol, long max_iter, bool positive) {
    need(gram.ndim() == 2 && gram.shape(0) == gram.shape(1), "gram must be a square matrix");
    const long p = long(gram.shape(0));
    need(xty.ndim() == 1 && long(xty.shape(0)) == p, "xty must have length p = " + std::to_string(p));
    need(alphas.ndim() == 1, "alphas must be 1-dimensional");
    need(n > 0, "n must be > 0");
    const long k = long(alphas.shape(0));
    carray<double> coefs({k, p});
    carray<double> gaps({k});
    py::array_t<long> iters({k});
    double* c = coefs.mutable_data();
    double* g = gaps.mutable_data();
    long* it = iters.mutable_data();
    inv::Interrupt ctl = make_interrupt();
    {
      py::gil_scoped_release nogil;
      inv::lasso_path_gram(gram.data(), xty.data(), yty, n, p, alphas.data(), k, c, g, it, tol, max_iter, positive,
                           &ctl);
    }
    if (ctl.stopped) throw py::error_already_set();
    return py::make_tuple(coefs, gaps, iters);
  }, py::arg("gram"), py::arg("xty"), py::arg("yty"), py::arg("n"), py::arg("alphas"), py::arg("tol"),
     py::arg("max_iter"), py::arg("positive"),
     "Coordinate-descent LASSO path on the Gram matrix X^T X (n >> p).");

  m.def("lasso_cv_gram", [](carray<double> x, carray<double> y, py::array_t<long, py::array::c_style> bounds,
                            carray<double> alphas, bool fit_intercept, double tol, long max_iter, bool positive) {
    need(x.ndim() == 2, "x must be 2-dimensional (n x p)");
    need(y.ndim() == 1, "y must be 1-dimensional");
    const long n = long(x.shape(0)), p = long(x.shape(1));
    need(n > 0 && p > 0, "X must not be empty");
    need(long(y.shape(0)) == n,
         "y has " + std::to_string(y.shape(0)) + " entries, X has " + std::to_string(n) + " rows");
    need(bounds.ndim() == 1 && bounds.shape(0) >= 3, "bounds must be 1-dimensional with at least 3 entries");
    const long nf = long(bounds.shape(0)) - 1;
    const long* bd = bounds.data();
    need(bd[0] == 0 && bd[nf] == n, "bounds must run from 0 to n");
    for (long f = 0; f < nf; ++f)
      need(bd[f + 1] > bd[f] && bd[f + 1] - bd[f] < n, "bounds must increase, each fold non-empty and not all rows");
    need(alphas.ndim() == 1 && alphas.shape(0) > 0, "alphas must be 1-dimensional and non-empty");
    const long k = long(alphas.shape(0));
    carray<double> mse({k, nf});
    carray<double> coef({p});
    double* pm = mse.mutable_data();
    double* pc = coef.mutable_data();
    inv::LassoCVInfo info;
    inv::Interrupt ctl = make_interrupt();
    {
      py::gil_scoped_release nogil;
      info = inv::lasso_cv_gram(x.data(), y.data(), n, p, bd, nf, alphas.data(), k, fit_intercept, tol, max_iter,
                                positive, pm, pc, &ctl);
    }
    if (ctl.stopped) throw py::error_already_set();
    return py::make_tuple(mse, coef, info.best, info.gap, info.n_iter);
  }, py::arg("x"), py::arg("y"), py::arg("bounds"), py::arg("alphas"), py::arg("fit_intercept"), py::arg("tol"),
     py::arg("max_iter"), py::arg("positive"),
     "LassoCV on the held-out blocks' Gram matrices (folds: rows bounds[f] .. bounds[f+1]-1); returns\n"
     "(mse (n_alphas x n_folds), refitted coef, index of the chosen alpha, refit gap, refit passes).");

  m.def("lasso_solve", [](const std::string& solver, carray<double> xt, carray<double> y, double alpha,
                          carray<double> beta, double tol, long max_iter, bool positive, double param) {
    auto [n, p] = dims(xt, y);
    need(beta.ndim() == 1 && long(beta.shape(0)) == p, "beta must have length p = " + std::to_string(p));
    double* b = mutable_data(beta, "beta");
    inv::LassoInfo info;
    need(solver == "cd" || solver == "fista" || solver == "admm", "solver must be 'cd', 'fista' or 'admm'");
    inv::Interrupt ctl = make_interrupt();
    {
      py::gil_scoped_release nogil;
      if (solver == "cd")
        info = inv::lasso_cd(xt.data(), y.data(), n, p, alpha, b, tol, max_iter, positive, param, &ctl);
      else if (solver == "fista")
        info = inv::lasso_fista(xt.data(), y.data(), n, p, alpha, b, tol, max_iter, positive, param, &ctl);
      else info = inv::lasso_admm(xt.data(), y.data(), n, p, alpha, b, tol, max_iter, positive, param, &ctl);
    }
    if (ctl.stopped) throw py::error_already_set();
    return py::make_tuple(info.n_iter, info.gap);
  }, py::arg("solver"), py::arg("xt"), py::arg("y"), py::arg("alpha"), py::arg("beta"), py::arg("tol"),
     py::arg("max_iter"), py::arg("positive"), py::arg("param"),
     "One LASSO fit in place on beta; returns (n_iter, gap).  Python's signals are polled every 2 ms;\n"
     "a raised KeyboardInterrupt leaves beta partly updated (callers pass a private copy).");

  m.def("spm_admm", [](carray<double> v, carray<double> s, carray<double> g, carray<double> a, double lam,
                       carray<double> params, carray<double> x, carray<double> z1, carray<double> u1,
                       carray<double> z2, carray<double> u2, double tol, long max_iter) {
    need(v.ndim() == 2, "v must be 2-dimensional (m x l)");
    const long mm = long(v.shape(0)), l = long(v.shape(1));
    for (auto* arr : {&s, &g, &a, &x, &z1, &u1})
      need(arr->ndim() == 1 && long(arr->shape(0)) == l, "IR-basis vectors must have length l = " + std::to_string(l));
    for (auto* arr : {&z2, &u2})
      need(arr->ndim() == 1 && long(arr->shape(0)) == mm, "frequency vectors must have length m = " + std::to_string(mm));
    need(params.ndim() == 1 && long(params.shape(0)) == inv::kSpmParams,
         "params must have length " + std::to_string(inv::kSpmParams) + " (mu, mu', iterations)");
    double* pp = mutable_data(params, "params");
    double* px = mutable_data(x, "x");
    double* pz1 = mutable_data(z1, "z1");
    double* pu1 = mutable_data(u1, "u1");
    double* pz2 = mutable_data(z2, "z2");
    double* pu2 = mutable_data(u2, "u2");
    py::gil_scoped_release nogil;
    return inv::spm_admm(v.data(), s.data(), g.data(), a.data(), mm, l, lam, pp, px, pz1, pu1, pz2, pu2, tol,
                         max_iter);
  }, py::arg("v"), py::arg("s"), py::arg("g"), py::arg("a"), py::arg("lam"), py::arg("params"), py::arg("x"),
     py::arg("z1"), py::arg("u1"), py::arg("z2"), py::arg("u2"), py::arg("tol"), py::arg("max_iter"),
     "Sparse-modelling ADMM in the SVD basis with residual-balanced penalties params = [mu, mu', iterations];\n"
     "state and params updated in place; returns the iteration count of this call.");
}

}  // namespace physdl::bindings
