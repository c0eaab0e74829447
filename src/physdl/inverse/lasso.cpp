#include "physdl/inverse/lasso.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "physdl/nn/blas.hpp"

namespace physdl::inverse {

namespace {

using physdl::nn::gemm;

inline double soft(double z, double t, bool positive) {
  if (positive) return z > t ? z - t : 0.0;
  return z > t ? z - t : (z < -t ? z + t : 0.0);
}

inline double dual_corr(double c, bool positive) { return positive ? c : std::fabs(c); }

// True when the solve should return now (see Interrupt); no control block: never.
inline bool stop_now(Interrupt* ctl) { return ctl != nullptr && ctl->poll(); }

// Eight independent partial sums, so the loop pipelines and vectorises without -ffast-math.
inline double dot(const double* a, const double* b, long n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  long i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  double t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
  for (; i < n; ++i) t += a[i] * b[i];
  return t;
}

inline void axpy(double a, const double* x, double* y, long n) {
  for (long i = 0; i < n; ++i) y[i] += a * x[i];
}

// c = X^T r  (xt: p x n row-major)
inline void xt_times(const double* xt, const double* r, long n, long p, double* c) {
  gemm<double>(false, false, p, 1, n, 1.0, xt, n, r, 1, 0.0, c, 1);
}

// out = X b  (X = xt^T, n x p)
inline void x_times(const double* xt, const double* b, long n, long p, double* out) {
  gemm<double>(true, false, n, 1, p, 1.0, xt, n, b, 1, 0.0, out, 1);
}

// C = op(A) op(B) (C: m x nn, inner dimension k) in blocks of rows of C of about 2^26 multiply-adds
// (at least 32 rows, so that each block stays an efficient product), polling ctl between blocks;
// false when stopped (C then partly written).
bool gemm_rows(bool ta, bool tb, long m, long nn, long k, const double* a, long lda, const double* b, long ldb,
               double* c, long ldc, Interrupt* ctl) {
  const double per_row = std::max(1.0, double(nn) * double(k));
  const long rows = std::max<long>(32, long(double(1L << 26) / per_row));
  for (long i0 = 0; i0 < m; i0 += rows) {
    const long mm = std::min(rows, m - i0);
    gemm<double>(ta, tb, mm, nn, k, 1.0, ta ? a + i0 : a + i0 * lda, lda, b, ldb, 0.0, c + i0 * ldc, ldc);
    if (stop_now(ctl)) return false;
  }
  return true;
}

// Unscaled duality gap from the sufficient statistics rr = ||r||^2, ry = r.y, l1 = ||b||_1 and
// cmax = the dual norm of c = X^T r (Fercoq et al. 2015, with theta = r / max(lam, cmax)).
inline double gap_from(double rr, double ry, double l1, double cmax, double lam) {
  const double s = std::max(lam, cmax);
  const double primal = 0.5 * rr + lam * l1;
  const double t = lam / s;
  const double dual = t * ry - 0.5 * t * t * rr;
  return primal - dual;
}

struct Problem {
  const double* xt;
  const double* y;
  long n, p;
  bool positive;
  bool gram;                 // covariance updates with cached Gram rows
  std::vector<double> norms2, norms, xty;
  double yy = 0.0;
  std::vector<double> cache;  // cached Gram rows (p each), slot per feature
  std::vector<long> slot;
  long used = 0;
  Interrupt* ctl = nullptr;  // polled between blocks of the Gram-row products

  Problem(const double* xt_, const double* y_, long n_, long p_, bool pos) : xt(xt_), y(y_), n(n_), p(p_), positive(pos) {
    norms2.resize(p);
    norms.resize(p);
    for (long j = 0; j < p; ++j) {
      norms2[j] = dot(xt + j * n, xt + j * n, n);
      norms[j] = std::sqrt(norms2[j]);
    }
    xty.resize(p);
    xt_times(xt, y, n, p, xty.data());
    yy = dot(y, y, n);
    // Gram rows are worth caching when the features are few enough to hold them all (<= 256 MB) and
    // n >= p (a Gram row costs n p once, an update with it p instead of n; measured 10x faster at 5000x500).
    gram = (double(p) * double(p) * 8.0 <= 256.0 * 1024 * 1024) && (n >= p);
    if (gram) slot.assign(p, -1);
  }

  // Make sure the Gram rows of the features in `idx` are cached.  Missing rows are computed by one
  // gemm, together with the uncached features of largest |score| (the likeliest to enter next), so
  // that the batch grows geometrically and X is read O(log p) times over a path.
  void ensure_rows(const std::vector<long>& idx, const double* score = nullptr) {
    std::vector<long> need;
    for (long j : idx)
      if (slot[j] < 0) {
        need.push_back(j);
        slot[j] = -2;  // mark (avoids duplicates)
      }
    if (need.empty()) return;
    if (score != nullptr) {
      const long want = std::min(p - used, std::max<long>(long(need.size()), std::max<long>(16, used / 2)));
      std::vector<long> cand;
      for (long j = 0; j < p; ++j)
        if (slot[j] == -1) cand.push_back(j);
      const long extra = std::min<long>(long(cand.size()), want - long(need.size()));
      if (extra > 0) {
        std::partial_sort(cand.begin(), cand.begin() + extra, cand.end(),
                          [&](long a, long b2) { return std::fabs(score[a]) > std::fabs(score[b2]); });
        need.insert(need.end(), cand.begin(), cand.begin() + extra);
      }
    }
    const long k = long(need.size());
    std::vector<double> xs(size_t(k) * n);
    for (long a = 0; a < k; ++a) std::copy(xt + need[a] * n, xt + need[a] * n + n, xs.begin() + a * n);
    if (cache.size() < size_t(used + k) * p) cache.resize(size_t(std::max(used + k, std::min(p, 2 * (used + k)))) * p);
    if (!gemm_rows(false, true, k, p, n, xs.data(), n, xt, n, cache.data() + size_t(used) * p, p, ctl)) return;
    for (long a = 0; a < k; ++a) slot[need[a]] = used + a;
    used += k;
  }
  const double* row(long j) const { return cache.data() + size_t(slot[j]) * p; }

  // Residual mode (p > n): the Gram matrix of the features that have been in a working set (the
  // "universe" U), grown by one product per new batch, X_new [X_U X_new]^T (n |U| per feature), so
  // that the inner coordinate descent runs on correlations (k per update) instead of the residual
  // (2n per update).  U is capped so that its rows and G_UU take at most 256 MB together (and at
  // 4096 features); beyond the cap the inner loop keeps the residual.
  long max_universe() const {
    long m = std::min<long>(p, 4096);
    while (m > 0 && double(m) * double(n + m) * 8.0 > 256.0 * 1024 * 1024) m /= 2;
    return m;
  }
  std::vector<long> uslot;
  std::vector<double> xu, guu;  // rows of X_U (|U| x n); G_UU (ucap x ucap, row-major)
  long nu = 0, ucap = 0;
  bool universe_full = false;

  // True when G_UU holds every feature of ws afterwards.
  bool ensure_universe(const std::vector<long>& ws) {
    if (gram || universe_full) return false;
    if (uslot.empty()) uslot.assign(p, -1);
    std::vector<long> need;
    for (long j : ws)
      if (uslot[j] < 0) need.push_back(j);
    if (need.empty()) return true;
    const long k = long(need.size()), m = nu + k;
    if (m > max_universe()) {
      universe_full = true;
      return false;
    }
    if (m > ucap) {  // grow the storage geometrically, keeping G_UU's rows
      const long cap = std::min(max_universe(), std::max(m, 2 * ucap));
      std::vector<double> g(size_t(cap) * cap);
      for (long a = 0; a < nu; ++a) std::copy(guu.begin() + a * ucap, guu.begin() + a * ucap + nu, g.begin() + a * cap);
      guu.swap(g);
      ucap = cap;
      xu.resize(size_t(cap) * n);
    }
    for (long a = 0; a < k; ++a) {
      std::copy(xt + need[a] * n, xt + need[a] * n + n, xu.begin() + (nu + a) * n);
      uslot[need[a]] = nu + a;
    }
    // rows nu..m-1 of G_UU: X_new X_U'^T, then mirrored into the old rows' new columns
    gemm<double>(false, true, k, m, n, 1.0, xu.data() + size_t(nu) * n, n, xu.data(), n, 0.0,
                 guu.data() + size_t(nu) * ucap, ucap);
    for (long a = nu; a < m; ++a)
      for (long q = 0; q < nu; ++q) guu[size_t(q) * ucap + a] = guu[size_t(a) * ucap + q];
    nu = m;
    return true;
  }
  double ug(long i, long j) const { return guu[size_t(uslot[i]) * ucap + uslot[j]]; }
};

// Solve k x k system (small, dense) by Gaussian elimination with partial pivoting; false when singular.
bool small_solve(std::vector<double> a, std::vector<double>& x, long k) {
  for (long col = 0; col < k; ++col) {
    long piv = col;
    for (long i = col + 1; i < k; ++i)
      if (std::fabs(a[i * k + col]) > std::fabs(a[piv * k + col])) piv = i;
    if (!(std::fabs(a[piv * k + col]) > 0.0)) return false;
    if (piv != col) {
      for (long q = 0; q < k; ++q) std::swap(a[col * k + q], a[piv * k + q]);
      std::swap(x[col], x[piv]);
    }
    for (long i = col + 1; i < k; ++i) {
      const double f = a[i * k + col] / a[col * k + col];
      for (long q = col; q < k; ++q) a[i * k + q] -= f * a[col * k + q];
      x[i] -= f * x[col];
    }
  }
  for (long i = k - 1; i >= 0; --i) {
    double t = x[i];
    for (long q = i + 1; q < k; ++q) t -= a[i * k + q] * x[q];
    x[i] = t / a[i * k + i];
  }
  for (long i = 0; i < k; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

// Cyclic coordinate descent on the working set ws until its duality gap is <= 0.3 tol_abs, with
// Anderson extrapolation of every K epochs (Bertrand & Massias 2021), accepted when it lowers the
// objective.  Gram mode keeps the correlations cw = X_W^T r through the compact Gram block G_WW;
// residual mode keeps r.  Returns the updated epoch count.
long cd_inner(Problem& P, const std::vector<long>& ws, const std::vector<double>& c, std::vector<double>& r,
              double* b, double lam, double tol_abs, long epochs, long max_iter, Interrupt* ctl) {
  const long n = P.n, k = long(ws.size());
  const bool pos = P.positive;
  const bool universe = P.ensure_universe(ws);  // residual mode with G_WW at hand
  const bool gram = P.gram || universe;
  constexpr long K = 5;
  std::vector<double> gww, cw(k), bw(k), xty(k), nrm2(k);
  for (long a = 0; a < k; ++a) {
    cw[a] = c[ws[a]];
    bw[a] = b[ws[a]];
    xty[a] = P.xty[ws[a]];
    nrm2[a] = P.norms2[ws[a]];
  }
  if (gram) {
    gww.resize(size_t(k) * k);
    for (long a = 0; a < k; ++a) {
      if (universe) {
        for (long q = 0; q < k; ++q) gww[a * k + q] = P.ug(ws[a], ws[q]);
      } else {
        const double* g = P.row(ws[a]);
        for (long q = 0; q < k; ++q) gww[a * k + q] = g[ws[q]];
      }
    }
  }
  // objective pieces on the working set
  auto stats = [&](const std::vector<double>& bv, const std::vector<double>& cv, const std::vector<double>& rv,
                   double& rr, double& ry, double& l1) {
    double bx = 0.0, bc = 0.0;
    l1 = 0.0;
    for (long a = 0; a < k; ++a) {
      l1 += std::fabs(bv[a]);
      bx += bv[a] * xty[a];
      bc += bv[a] * cv[a];
    }
    if (gram) {
      ry = P.yy - bx;
      rr = std::max(0.0, P.yy - bx - bc);
    } else {
      rr = dot(rv.data(), rv.data(), n);
      ry = P.yy - bx;
    }
  };
  auto refresh_cw = [&](const std::vector<double>& rv, std::vector<double>& cv) {
    for (long a = 0; a < k; ++a) cv[a] = dot(P.xt + ws[a] * n, rv.data(), n);
  };
  std::vector<double> hist(size_t(K + 1) * k), bacc(k), cacc(k), racc, d(k);
  if (!gram) racc.resize(n);
  long nhist = 0;
  for (long ep = 0; epochs < max_iter; ++ep) {
    for (long a = 0; a < k; ++a) {
      const double old = bw[a];
      const double cj = gram ? cw[a] : dot(P.xt + ws[a] * n, r.data(), n);
      const double nb = soft(cj + nrm2[a] * old, lam, pos) / nrm2[a];
      const double dd = nb - old;
      if (dd != 0.0) {
        bw[a] = nb;
        if (gram) axpy(-dd, &gww[a * k], cw.data(), k);
        else axpy(-dd, P.xt + ws[a] * n, r.data(), n);
      }
    }
    ++epochs;
    if (stop_now(ctl)) break;
    const bool check = gram || (nhist + 1) % (K + 1) == 0;
    if (check && !gram) refresh_cw(r, cw);
    // Anderson extrapolation over the last K+1 iterates
    std::copy(bw.begin(), bw.end(), hist.begin() + (nhist % (K + 1)) * k);
    ++nhist;
    if (nhist % (K + 1) == 0) {
      std::vector<double> uu(K * K), z(K, 1.0);
      for (long i = 0; i < K; ++i)
        for (long j2 = 0; j2 < K; ++j2) {
          double sacc = 0.0;
          const double* ai = &hist[(i + 1) * k];
          const double* ai0 = &hist[i * k];
          const double* aj = &hist[(j2 + 1) * k];
          const double* aj0 = &hist[j2 * k];
          for (long a = 0; a < k; ++a) sacc += (ai[a] - ai0[a]) * (aj[a] - aj0[a]);
          uu[i * K + j2] = sacc;
        }
      double tr = 0.0;
      for (long i = 0; i < K; ++i) tr += uu[i * K + i];
      if (tr > 0.0) {
        for (long i = 0; i < K; ++i) uu[i * K + i] += 1e-10 * tr;
        if (small_solve(uu, z, K)) {
          double zs = 0.0;
          for (double e : z) zs += e;
          if (zs != 0.0 && std::isfinite(zs)) {
            for (long a = 0; a < k; ++a) {
              double sacc = 0.0;
              for (long i = 0; i < K; ++i) sacc += z[i] / zs * hist[(i + 1) * k + a];
              bacc[a] = (pos && sacc < 0.0) ? 0.0 : sacc;
              d[a] = bacc[a] - bw[a];
            }
            // correlations / residual at the extrapolated point
            if (gram) {
              std::copy(cw.begin(), cw.end(), cacc.begin());
              for (long a = 0; a < k; ++a)
                if (d[a] != 0.0) axpy(-d[a], &gww[a * k], cacc.data(), k);
            } else {
              std::copy(r.begin(), r.end(), racc.begin());
              for (long a = 0; a < k; ++a)
                if (d[a] != 0.0) axpy(-d[a], P.xt + ws[a] * n, racc.data(), n);
            }
            double rr0, ry0, l10, rr1, ry1, l11;
            stats(bw, cw, r, rr0, ry0, l10);
            stats(bacc, cacc, racc, rr1, ry1, l11);
            if (0.5 * rr1 + lam * l11 < 0.5 * rr0 + lam * l10) {
              bw.swap(bacc);
              if (gram) cw.swap(cacc);
              else {
                r.swap(racc);
                refresh_cw(r, cw);
              }
            }
          }
        }
      }
    }
    if (!check) continue;
    // duality gap of the working-set problem
    double rr, ry, l1, cm = 0.0;
    stats(bw, cw, r, rr, ry, l1);
    for (long a = 0; a < k; ++a) cm = std::max(cm, dual_corr(cw[a], pos));
    if (gap_from(rr, ry, l1, cm, lam) <= 0.3 * tol_abs) break;
  }
  for (long a = 0; a < k; ++a) b[ws[a]] = bw[a];
  return epochs;
}

// Working-set coordinate descent at one alpha (both modes).
LassoInfo cd_solve(Problem& P, double alpha, double* b, double tol, long max_iter, double alpha_prev,
                   Interrupt* ctl) {
  const long n = P.n, p = P.p;
  const bool pos = P.positive;
  const double lam = alpha * double(n);
  const double lam_prev = alpha_prev > 0 ? alpha_prev * double(n) : -1.0;
  const double tol_abs = tol * P.yy;
  LassoInfo info;
  std::vector<double> r, c(p);
  std::vector<char> screened(p, 0);
  std::vector<long> ws, nz;
  if (!P.gram) r.resize(n);
  for (long j = 0; j < p; ++j)
    if (pos && b[j] < 0) b[j] = 0.0;
  bool first = true;
  long epochs = 0;
  for (;;) {
    // exact state: residual / correlations from b
    nz.clear();
    double l1 = 0.0, bxty = 0.0;
    for (long j = 0; j < p; ++j)
      if (b[j] != 0.0) {
        nz.push_back(j);
        l1 += std::fabs(b[j]);
        bxty += b[j] * P.xty[j];
      }
    double rr, ry;
    if (P.gram) {
      P.ensure_rows(nz);
      if (ctl != nullptr && ctl->stopped) break;
      std::copy(P.xty.begin(), P.xty.end(), c.begin());
      for (long j : nz) axpy(-b[j], P.row(j), c.data(), p);
      double bc = 0.0;
      for (long j : nz) bc += b[j] * c[j];
      ry = P.yy - bxty;
      rr = std::max(0.0, P.yy - bxty - bc);
    } else {
      std::copy(P.y, P.y + n, r.begin());
      for (long j : nz) axpy(-b[j], P.xt + j * n, r.data(), n);
      xt_times(P.xt, r.data(), n, p, c.data());
      rr = dot(r.data(), r.data(), n);
      ry = dot(r.data(), P.y, n);
    }
    double cmax = 0.0;
    for (long j = 0; j < p; ++j) cmax = std::max(cmax, dual_corr(c[j], pos));
    const double gap = gap_from(rr, ry, l1, cmax, lam);
    info.gap = gap / double(n);
    ++epochs;
    if (gap <= tol_abs || epochs >= max_iter || stop_now(ctl)) break;

    // gap-safe screening: features that are zero at every solution
    const double s = std::max(lam, cmax);
    const double radius = std::sqrt(2.0 * std::max(gap, 0.0)) / lam;
    for (long j = 0; j < p; ++j) {
      if (screened[j]) continue;
      if (dual_corr(c[j], pos) / s + radius * P.norms[j] < 1.0) {
        screened[j] = 1;
        b[j] = 0.0;  // its correction of r / c is applied by the next exact recomputation
      }
    }
    // working set: the non-zeros, the KKT violators and (first pass of a path step) the strong rule
    ws.clear();
    const double strong = (first && lam_prev > 0) ? 2.0 * lam - lam_prev : lam;
    for (long j = 0; j < p; ++j) {
      if (screened[j] || P.norms2[j] == 0.0) continue;
      if (b[j] != 0.0 || dual_corr(c[j], pos) > std::min(strong, lam)) {
        ws.push_back(j);
      }
    }
    first = false;
    // screening may have zeroed some coefficients: refresh r / c before the inner loop
    {
      bool changed = false;
      for (long j : nz)
        if (b[j] == 0.0) changed = true;
      if (changed) continue;
    }
    if (ws.empty()) continue;
    if (P.gram) P.ensure_rows(ws, c.data());
    if (ctl != nullptr && ctl->stopped) break;
    epochs = cd_inner(P, ws, c, r, b, lam, tol_abs, epochs, max_iter, ctl);
    if (ctl != nullptr && ctl->stopped) break;
  }
  info.n_iter = epochs;
  info.stopped = ctl != nullptr && ctl->stopped;
  return info;
}

// Power iteration for ||X||_2^2 (largest eigenvalue of X^T X).
double top_eigenvalue(const double* xt, long n, long p, Interrupt* ctl) {
  std::vector<double> v(p), xv(n), w(p);
  for (long j = 0; j < p; ++j) v[j] = 1.0 + 0.01 * double(j % 7);
  double lam = 0.0;
  for (int it = 0; it < 300; ++it) {
    const double nv = std::sqrt(dot(v.data(), v.data(), p));
    if (nv == 0.0) return 0.0;
    for (auto& e : v) e /= nv;
    x_times(xt, v.data(), n, p, xv.data());
    xt_times(xt, xv.data(), n, p, w.data());
    const double nl = dot(v.data(), w.data(), p);
    v.swap(w);
    if (stop_now(ctl)) return nl;
    if (it > 5 && std::fabs(nl - lam) <= 1e-10 * nl) {
      lam = nl;
      break;
    }
    lam = nl;
  }
  return lam;
}

// Gap at b, computing r and c from scratch.
double full_gap(const double* xt, const double* y, long n, long p, double alpha, const double* b, bool pos,
                std::vector<double>& r, std::vector<double>& c) {
  x_times(xt, b, n, p, r.data());
  for (long i = 0; i < n; ++i) r[i] = y[i] - r[i];
  xt_times(xt, r.data(), n, p, c.data());
  return lasso_gap(c.data(), r.data(), y, b, n, p, alpha, pos);
}

// In-place Cholesky (lower, row-major d x d); returns false when not positive definite.
// Polls ctl after every column (returns false when stopped).
bool cholesky(std::vector<double>& a, long d, Interrupt* ctl) {
  for (long j = 0; j < d; ++j) {
    if (stop_now(ctl)) return false;
    double s = a[j * d + j];
    for (long q = 0; q < j; ++q) s -= a[j * d + q] * a[j * d + q];
    if (!(s > 0.0)) return false;
    const double ljj = std::sqrt(s);
    a[j * d + j] = ljj;
    for (long i = j + 1; i < d; ++i) {
      double t = a[i * d + j];
      const double* li = &a[i * d];
      const double* lj = &a[j * d];
      for (long q = 0; q < j; ++q) t -= li[q] * lj[q];
      a[i * d + j] = t / ljj;
    }
  }
  return true;
}

void cho_solve(const std::vector<double>& l, long d, double* x) {
  for (long i = 0; i < d; ++i) {
    double t = x[i];
    for (long q = 0; q < i; ++q) t -= l[i * d + q] * x[q];
    x[i] = t / l[i * d + i];
  }
  for (long i = d - 1; i >= 0; --i) {
    double t = x[i];
    for (long q = i + 1; q < d; ++q) t -= l[q * d + i] * x[q];
    x[i] = t / l[i * d + i];
  }
}

}  // namespace

double lasso_gap(const double* c, const double* r, const double* y, const double* b, long n, long p, double alpha,
                 bool positive) {
  double l1 = 0.0, cmax = 0.0;
  for (long j = 0; j < p; ++j) {
    l1 += std::fabs(b[j]);
    cmax = std::max(cmax, dual_corr(c[j], positive));
  }
  const double lam = alpha * double(n);
  return gap_from(dot(r, r, n), dot(r, y, n), l1, cmax, lam) / double(n);
}

LassoInfo lasso_cd(const double* xt, const double* y, long n, long p, double alpha, double* beta, double tol,
                   long max_iter, bool positive, double alpha_prev, Interrupt* ctl) {
  Problem P(xt, y, n, p, positive);
  P.ctl = ctl;
  return cd_solve(P, alpha, beta, tol, max_iter, alpha_prev, ctl);
}

void lasso_path_cd(const double* xt, const double* y, long n, long p, const double* alphas, long n_alphas,
                   double* coefs, double* gaps, long* n_iter, double tol, long max_iter, bool positive,
                   Interrupt* ctl) {
  Problem P(xt, y, n, p, positive);
  P.ctl = ctl;
  std::vector<double> b(p, 0.0);
  double cmax = 0.0;
  for (long j = 0; j < p; ++j) cmax = std::max(cmax, dual_corr(P.xty[j], positive));
  double prev = cmax / double(n);
  for (long k = 0; k < n_alphas; ++k) {
    const LassoInfo info = cd_solve(P, alphas[k], b.data(), tol, max_iter, prev, ctl);
    if (info.stopped) return;
    std::copy(b.begin(), b.end(), coefs + k * p);
    gaps[k] = info.gap;
    n_iter[k] = info.n_iter;
    prev = alphas[k];
  }
}

LassoInfo lasso_fista(const double* xt, const double* y, long n, long p, double alpha, double* beta, double tol,
                      long max_iter, bool positive, double lipschitz, Interrupt* ctl) {
  LassoInfo info;
  double L = lipschitz > 0 ? lipschitz : 1.01 * top_eigenvalue(xt, n, p, ctl) / double(n);
  if (ctl != nullptr && ctl->stopped) {
    info.stopped = true;
    return info;
  }
  std::vector<double> r(n), c(p), z(beta, beta + p), bn(p);
  for (long j = 0; j < p; ++j)
    if (positive && beta[j] < 0) beta[j] = z[j] = 0.0;
  const double tol_abs = tol * dot(y, y, n) / double(n);
  if (L <= 0.0) {  // X = 0: the solution is 0
    std::fill(beta, beta + p, 0.0);
    info.gap = full_gap(xt, y, n, p, alpha, beta, positive, r, c);
    return info;
  }
  double t = 1.0;
  long it = 0;
  info.gap = full_gap(xt, y, n, p, alpha, beta, positive, r, c);
  while (info.gap > tol_abs && it < max_iter) {
    // gradient step at z: grad = -X^T (y - X z) / n
    x_times(xt, z.data(), n, p, r.data());
    for (long i = 0; i < n; ++i) r[i] = y[i] - r[i];
    xt_times(xt, r.data(), n, p, c.data());
    double restart = 0.0;
    for (long j = 0; j < p; ++j) {
      bn[j] = soft(z[j] + c[j] / (double(n) * L), alpha / L, positive);
      restart += (z[j] - bn[j]) * (bn[j] - beta[j]);
    }
    const double tn = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t));
    if (restart > 0.0) {  // O'Donoghue & Candes gradient restart
      t = 1.0;
      std::copy(bn.begin(), bn.end(), z.begin());
    } else {
      const double m = (t - 1.0) / tn;
      for (long j = 0; j < p; ++j) z[j] = bn[j] + m * (bn[j] - beta[j]);
      t = tn;
    }
    std::copy(bn.begin(), bn.end(), beta);
    ++it;
    if (it % 10 == 0 || it == max_iter) info.gap = full_gap(xt, y, n, p, alpha, beta, positive, r, c);
    if (stop_now(ctl)) break;
  }
  info.n_iter = it;
  info.stopped = ctl != nullptr && ctl->stopped;
  return info;
}

LassoInfo lasso_admm(const double* xt, const double* y, long n, long p, double alpha, double* beta, double tol,
                     long max_iter, bool positive, double rho, Interrupt* ctl) {
  LassoInfo info;
  std::vector<double> r(n), c(p);
  if (rho <= 0.0) {
    double s = 0.0;
    for (long j = 0; j < p; ++j) s += dot(xt + j * n, xt + j * n, n);
    rho = s / double(p) / double(n);
    if (rho <= 0.0) rho = 1.0;
  }
  const bool primal_form = p <= n;
  const long d = primal_form ? p : n;
  std::vector<double> m(size_t(d) * d);
  if (primal_form) gemm_rows(false, true, p, p, n, xt, n, xt, n, m.data(), p, ctl);  // X^T X
  else gemm_rows(true, false, n, n, p, xt, n, xt, n, m.data(), n, ctl);              // X X^T
  if (ctl != nullptr && ctl->stopped) {
    info.stopped = true;
    return info;
  }
  for (long i = 0; i < d; ++i) m[i * d + i] += double(n) * rho;
  cholesky(m, d, ctl);  // positive definite: a Gram matrix plus n rho I
  if (ctl != nullptr && ctl->stopped) {
    info.stopped = true;
    return info;
  }
  std::vector<double> xty(p), z(beta, beta + p), u(p, 0.0), q(p), w(n), bb(p);
  xt_times(xt, y, n, p, xty.data());
  for (long j = 0; j < p; ++j)
    if (positive && z[j] < 0) z[j] = 0.0;
  const double tol_abs = tol * dot(y, y, n) / double(n);
  long it = 0;
  std::copy(z.begin(), z.end(), beta);
  info.gap = full_gap(xt, y, n, p, alpha, beta, positive, r, c);
  while (info.gap > tol_abs && it < max_iter) {
    // b-step: (X^T X + n rho I) b = X^T y + n rho (z - u)
    for (long j = 0; j < p; ++j) q[j] = xty[j] + double(n) * rho * (z[j] - u[j]);
    if (primal_form) {
      std::copy(q.begin(), q.end(), bb.begin());
      cho_solve(m, d, bb.data());
    } else {  // Woodbury: b = (q - X^T (X X^T + n rho I)^{-1} X q) / (n rho)
      x_times(xt, q.data(), n, p, w.data());
      cho_solve(m, d, w.data());
      xt_times(xt, w.data(), n, p, bb.data());
      for (long j = 0; j < p; ++j) bb[j] = (q[j] - bb[j]) / (double(n) * rho);
    }
    for (long j = 0; j < p; ++j) {
      z[j] = soft(bb[j] + u[j], alpha / rho, positive);
      u[j] += bb[j] - z[j];
    }
    ++it;
    if (it % 10 == 0 || it == max_iter) {
      std::copy(z.begin(), z.end(), beta);
      info.gap = full_gap(xt, y, n, p, alpha, beta, positive, r, c);
    }
    if (stop_now(ctl)) break;
  }
  std::copy(z.begin(), z.end(), beta);
  info.n_iter = it;
  info.stopped = ctl != nullptr && ctl->stopped;
  return info;
}

namespace {

// Coordinate descent on a Gram matrix G (p x p, row-major, symmetric) with q = G b kept up to date,
// so that c = X^T r = xty - q and ||r||^2 = yty - 2 b.xty + b.q: every quantity of the gap is O(p)
// and a changed coordinate costs one O(p) axpy.  Passes alternate between the full set (the KKT
// check over every feature) and the active set (coordinates that have been non-zero).
struct GramCD {
  const double* g;
  const double* xty;
  double yty;
  long p;
  bool positive;
  std::vector<double> b, q;
  std::vector<long> active;
  std::vector<char> in_active;

  GramCD(const double* g_, const double* xty_, double yty_, long p_, bool pos)
      : g(g_), xty(xty_), yty(yty_), p(p_), positive(pos), b(p_, 0.0), q(p_, 0.0), in_active(p_, 0) {}

  // b = b0 (q = G b0, the non-zeros active)
  void start(const double* b0) {
    std::fill(q.begin(), q.end(), 0.0);
    active.clear();
    std::fill(in_active.begin(), in_active.end(), 0);
    for (long j = 0; j < p; ++j) {
      b[j] = b0[j];
      if (positive && b[j] < 0.0) b[j] = 0.0;
      if (b[j] != 0.0) {
        axpy(b[j], g + j * p, q.data(), p);
        in_active[j] = 1;
        active.push_back(j);
      }
    }
  }

  double gap(double lam) const {
    double bx = 0.0, bq = 0.0, l1 = 0.0, cmax = 0.0;
    for (long j = 0; j < p; ++j) {
      bx += b[j] * xty[j];
      bq += b[j] * q[j];
      l1 += std::fabs(b[j]);
      cmax = std::max(cmax, dual_corr(xty[j] - q[j], positive));
    }
    const double rr = std::max(yty - 2.0 * bx + bq, 0.0);
    return gap_from(rr, yty - bx, l1, cmax, lam);
  }

  double update(long j, double lam) {
    const double gjj = g[j * p + j];
    if (gjj <= 0.0) return 0.0;
    const double old = b[j];
    const double nb = soft(xty[j] - q[j] + gjj * old, lam, positive) / gjj;
    const double d = nb - old;
    if (d != 0.0) {
      b[j] = nb;
      axpy(d, g + j * p, q.data(), p);  // G is symmetric: row j = column j
      if (!in_active[j]) {
        in_active[j] = 1;
        active.push_back(j);
      }
    }
    return std::fabs(d) * std::sqrt(gjj);
  }

  // Solve at lam (unscaled, n alpha) until the gap is <= tol_abs or max_iter passes; `it` receives the
  // passes and the return value the final gap.  Returns early (stopped set in ctl) when interrupted.
  double solve(double lam, double tol_abs, long max_iter, Interrupt* ctl, long& it) {
    it = 0;
    double gp = gap(lam);
    while (gp > tol_abs && it < max_iter) {
      for (long j = 0; j < p; ++j) update(j, lam);
      ++it;
      if (stop_now(ctl)) return gp;
      for (long inner = 0; inner < 1000 && it < max_iter; ++inner) {
        double dmax = 0.0, bmax = 0.0;
        for (long j : active) {
          dmax = std::max(dmax, update(j, lam));
          bmax = std::max(bmax, std::fabs(b[j]) * std::sqrt(std::max(g[j * p + j], 0.0)));
        }
        ++it;
        if (stop_now(ctl)) return gp;
        if (dmax <= 1e-3 * std::max(bmax, 1e-300) || gap(lam) <= tol_abs) break;
      }
      gp = gap(lam);
    }
    return gp;
  }
};

// out (p x p, row-major, full) = Z^T Z for Z (m x p, row-major), computed on and below the diagonal
// by blocks of rows of out (each one gemm over the columns up to the block's end, about half of a
// full product's work) and mirrored.  Rows of Z are taken in chunks, accumulated, so that one gemm
// stays below ~2^27 multiply-adds between two polls.  False when stopped (out then partial).
bool gram_of_rows(const double* z, long m, long p, double* out, Interrupt* ctl) {
  const long bs = std::max<long>(64, (p + 7) / 8);
  const double per_row = 0.5 * double(p) * double(p) / double((p + bs - 1) / bs) + 1.0;
  const long chunk = std::max<long>(256, long(double(1L << 27) / per_row));
  if (m == 0) std::fill(out, out + p * p, 0.0);
  for (long r0 = 0; r0 < m; r0 += chunk) {
    const long mr = std::min(chunk, m - r0);
    const double beta = r0 == 0 ? 0.0 : 1.0;
    for (long i0 = 0; i0 < p; i0 += bs) {
      const long i1 = std::min(p, i0 + bs);
      gemm<double>(true, false, i1 - i0, i1, mr, 1.0, z + r0 * p + i0, p, z + r0 * p, p, beta, out + i0 * p, p);
      if (stop_now(ctl)) return false;
    }
  }
  for (long i = 0; i < p; ++i)
    for (long j = i + 1; j < p; ++j) out[i * p + j] = out[j * p + i];
  return true;
}

}  // namespace

void lasso_path_gram(const double* gram, const double* xty, double yty, long n, long p, const double* alphas,
                     long n_alphas, double* coefs, double* gaps, long* n_iter, double tol, long max_iter,
                     bool positive, Interrupt* ctl) {
  GramCD cd(gram, xty, yty, p, positive);
  const double tol_abs = tol * yty;
  for (long k = 0; k < n_alphas; ++k) {
    long it = 0;
    const double gap = cd.solve(alphas[k] * double(n), tol_abs, max_iter, ctl, it);
    if (ctl != nullptr && ctl->stopped) return;
    std::copy(cd.b.begin(), cd.b.end(), coefs + k * p);
    gaps[k] = gap / double(n);
    n_iter[k] = it;
  }
}

LassoCVInfo lasso_cv_gram(const double* x, const double* y, long n, long p, const long* bounds, long n_folds,
                          const double* alphas, long n_alphas, bool fit_intercept, double tol, long max_iter,
                          bool positive, double* mse, double* coef, Interrupt* ctl) {
  LassoCVInfo info;
  const auto pp = size_t(p) * size_t(p);
  // Shift by the means of all the data (with an intercept; the slopes do not change), so that the
  // rank-one corrections below of the folds' own means are small and cancel nothing.
  std::vector<double> mu(p, 0.0);
  double ymu = 0.0;
  if (fit_intercept) {
    for (long i = 0; i < n; ++i) {
      axpy(1.0, x + i * p, mu.data(), p);
      ymu += y[i];
    }
    for (auto& e : mu) e /= double(n);
    ymu /= double(n);
  }
  long maxf = 0;
  for (long f = 0; f < n_folds; ++f) maxf = std::max(maxf, bounds[f + 1] - bounds[f]);
  // per fold (held-out part, shifted): T_f = Z_f^T Z_f, c_f = Z_f^T y_f, s_f = column sums, sy_f, yy_f
  const bool keep = double(n_folds + 2) * double(pp) * 8.0 <= double(1L << 30);
  std::vector<double> tf(keep ? pp * size_t(n_folds) : pp), gall(pp, 0.0), gtr(pp);
  std::vector<double> cf(size_t(n_folds) * p), sf(size_t(n_folds) * p, 0.0), syf(n_folds, 0.0), yyf(n_folds, 0.0);
  std::vector<double> zf(size_t(maxf) * p), yf(maxf);
  auto fold_block = [&](long f) {  // Z_f, y_f into zf, yf
    const long r0 = bounds[f], m = bounds[f + 1] - r0;
    for (long i = 0; i < m; ++i) {
      const double* xi = x + (r0 + i) * p;
      double* zi = zf.data() + i * p;
      for (long j = 0; j < p; ++j) zi[j] = xi[j] - mu[j];
      yf[i] = y[r0 + i] - ymu;
    }
    return m;
  };
  auto stopped = [&]() {
    info.stopped = true;
    return info;
  };
  for (long f = 0; f < n_folds; ++f) {
    const long m = fold_block(f);
    double* t = keep ? tf.data() + pp * size_t(f) : tf.data();
    if (!gram_of_rows(zf.data(), m, p, t, ctl)) return stopped();
    for (size_t e = 0; e < pp; ++e) gall[e] += t[e];
    gemm<double>(true, false, p, 1, m, 1.0, zf.data(), p, yf.data(), 1, 0.0, cf.data() + f * p, 1);
    for (long i = 0; i < m; ++i) {
      axpy(1.0, zf.data() + i * p, sf.data() + f * p, p);
      syf[f] += yf[i];
      yyf[f] += yf[i] * yf[i];
    }
  }
  std::vector<double> sall(p, 0.0), call(p, 0.0);
  double syall = 0.0, yyall = 0.0;
  for (long f = 0; f < n_folds; ++f) {
    axpy(1.0, sf.data() + f * p, sall.data(), p);
    axpy(1.0, cf.data() + f * p, call.data(), p);
    syall += syf[f];
    yyall += yyf[f];
  }
  std::fill(mse, mse + n_alphas * n_folds, 0.0);
  std::vector<double> mean(size_t(n_alphas) * p, 0.0), xty(p), s(p), tb(p);
  for (long f = 0; f < n_folds; ++f) {
    const long mte = bounds[f + 1] - bounds[f], mtr = n - mte;
    const double* t = tf.data() + (keep ? pp * size_t(f) : 0);
    if (!keep) {
      fold_block(f);
      if (!gram_of_rows(zf.data(), mte, p, tf.data(), ctl)) return stopped();
    }
    // the training part, centred by its own means: Z^T Z - T_f - s s^T / m_tr, ...
    for (long j = 0; j < p; ++j) s[j] = sall[j] - sf[f * p + j];
    const double sy = syall - syf[f];
    double yty = yyall - yyf[f];
    for (long j = 0; j < p; ++j) xty[j] = call[j] - cf[f * p + j];
    for (size_t e = 0; e < pp; ++e) gtr[e] = gall[e] - t[e];
    if (fit_intercept) {
      for (long i = 0; i < p; ++i) axpy(-s[i] / double(mtr), s.data(), gtr.data() + i * p, p);
      axpy(-sy / double(mtr), s.data(), xty.data(), p);
      yty -= sy * sy / double(mtr);
    }
    yty = std::max(yty, 0.0);
    GramCD cd(gtr.data(), xty.data(), yty, p, positive);
    const double tol_abs = tol * yty;
    const double* c = cf.data() + f * p;
    const double* sfp = sf.data() + f * p;
    for (long k = 0; k < n_alphas; ++k) {
      long it = 0;
      cd.solve(alphas[k] * double(mtr), tol_abs, max_iter, ctl, it);
      if (ctl != nullptr && ctl->stopped) return stopped();
      // held-out error ||y_f - b0 - Z_f b||^2 from the fold's sums: b0 = (sy - s.b) / m_tr
      std::fill(tb.begin(), tb.end(), 0.0);
      double bc = 0.0, bs = 0.0, sb = 0.0;
      for (long j : cd.active)
        if (cd.b[j] != 0.0) axpy(cd.b[j], t + j * p, tb.data(), p);
      double btb = 0.0;
      for (long j : cd.active) {
        const double bj = cd.b[j];
        btb += bj * tb[j];
        bc += bj * c[j];
        bs += bj * sfp[j];
        sb += bj * s[j];
      }
      const double b0 = fit_intercept ? (sy - sb) / double(mtr) : 0.0;
      const double e2 = yyf[f] - 2.0 * b0 * syf[f] + double(mte) * b0 * b0 - 2.0 * bc + 2.0 * b0 * bs + btb;
      mse[k * n_folds + f] = std::max(e2, 0.0) / double(mte);
      axpy(1.0 / double(n_folds), cd.b.data(), mean.data() + k * p, p);
    }
  }
  // the alpha of least mean error (the first), refitted on all the data from the folds' mean solution
  long best = 0;
  double least = 0.0;
  for (long k = 0; k < n_alphas; ++k) {
    double sacc = 0.0;
    for (long f = 0; f < n_folds; ++f) sacc += mse[k * n_folds + f];
    const double v = sacc / double(n_folds);
    if (k == 0 || v < least) {
      least = v;
      best = k;
    }
  }
  std::copy(gall.begin(), gall.end(), gtr.begin());
  std::copy(call.begin(), call.end(), xty.begin());
  double yty = yyall;
  if (fit_intercept) {
    for (long i = 0; i < p; ++i) axpy(-sall[i] / double(n), sall.data(), gtr.data() + i * p, p);
    axpy(-syall / double(n), sall.data(), xty.data(), p);
    yty -= syall * syall / double(n);
  }
  yty = std::max(yty, 0.0);
  GramCD cd(gtr.data(), xty.data(), yty, p, positive);
  cd.start(mean.data() + best * p);
  long it = 0;
  const double gap = cd.solve(alphas[best] * double(n), tol * yty, max_iter, ctl, it);
  if (ctl != nullptr && ctl->stopped) return stopped();
  std::copy(cd.b.begin(), cd.b.end(), coef);
  info.best = best;
  info.gap = gap / double(n);
  info.n_iter = it;
  return info;
}

}  // namespace physdl::inverse
