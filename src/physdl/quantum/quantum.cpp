#include "physdl/quantum/quantum.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "physdl/random/philox.hpp"

namespace physdl::quantum {

namespace {

inline int popcount(std::uint64_t x) { return __builtin_popcountll(x); }

struct Binomials {
  std::uint64_t c[65][65];
  Binomials() {
    for (int n = 0; n <= 64; ++n) {
      c[n][0] = 1;
      for (int k = 1; k <= 64; ++k) c[n][k] = (n == 0) ? 0 : c[n - 1][k - 1] + c[n - 1][k];
    }
  }
};
const Binomials& binoms() {
  static const Binomials b;
  return b;
}

inline std::int64_t rank_one(std::uint64_t s, int n, int n_up, const Binomials& B) {
  if (n < 64 && (s >> n) != 0) return -1;
  if (n_up < 0) return std::int64_t(s);
  if (popcount(s) != n_up) return -1;
  std::uint64_t r = 0;
  int k = 0;
  while (s) {
    const int pos = __builtin_ctzll(s);
    ++k;
    r += B.c[pos][k];
    s &= s - 1;
  }
  return std::int64_t(r);
}

// Sum of the group's terms on state s.
inline void group_value(const PauliOperator& op, long g, std::uint64_t s, double& re, double& im) {
  re = 0.0;
  im = 0.0;
  const std::uint64_t down = ~s;
  for (long t = op.offsets[g]; t < op.offsets[g + 1]; ++t) {
    const double sg = (popcount(op.zmasks[t] & down) & 1) ? -1.0 : 1.0;
    re += sg * op.coef_re[t];
    im += sg * op.coef_im[t];
  }
}

inline double spin(std::uint64_t s, int i) { return ((s >> i) & 1u) ? 1.0 : -1.0; }

}  // namespace

std::uint64_t binomial(int n, int k) {
  if (n < 0 || k < 0 || n > 64 || k > 64) return 0;
  return binoms().c[n][k];
}

std::vector<std::uint64_t> sector_states(int n, int n_up) {
  std::vector<std::uint64_t> out;
  if (n_up < 0) {
    const std::uint64_t dim = std::uint64_t(1) << n;
    out.resize(dim);
    for (std::uint64_t s = 0; s < dim; ++s) out[s] = s;
    return out;
  }
  const std::uint64_t dim = binomial(n, n_up);
  out.reserve(dim);
  if (n_up == 0) {
    out.push_back(0);
    return out;
  }
  std::uint64_t s = (n_up == 64) ? ~std::uint64_t(0) : ((std::uint64_t(1) << n_up) - 1);
  for (std::uint64_t i = 0; i < dim; ++i) {
    out.push_back(s);
    if (i + 1 == dim) break;
    const std::uint64_t c = s & (~s + 1);  // Gosper's hack: next state with the same popcount
    const std::uint64_t r = s + c;
    s = (((r ^ s) >> 2) / c) | r;
  }
  return out;
}

void rank_states(const std::uint64_t* states, long count, int n, int n_up, std::int64_t* ranks) {
  const auto& B = binoms();
#pragma omp parallel for schedule(static)
  for (long i = 0; i < count; ++i) ranks[i] = rank_one(states[i], n, n_up, B);
}

void connected(const PauliOperator& op, const std::uint64_t* states, long count, std::uint64_t* conn,
               double* mel_re, double* mel_im, std::int64_t* counts) {
  const long G = op.n_groups();
#pragma omp parallel for schedule(static)
  for (long b = 0; b < count; ++b) {
    const std::uint64_t s = states[b];
    long k = 0;
    for (long g = 0; g < G; ++g) {
      double re, im;
      group_value(op, g, s, re, im);
      if (re == 0.0 && im == 0.0) continue;
      conn[b * G + k] = s ^ op.flips[g];
      mel_re[b * G + k] = re;
      mel_im[b * G + k] = im;
      ++k;
    }
    counts[b] = k;
  }
}

long csr_count(const PauliOperator& op, const std::uint64_t* basis, long dim, int n_up, std::int64_t* row_nnz) {
  const long G = op.n_groups();
  const auto& B = binoms();
  const int n = op.n_sites;
  long dropped = 0;
#pragma omp parallel for schedule(static) reduction(+ : dropped)
  for (long r = 0; r < dim; ++r) {
    const std::uint64_t s = basis[r];
    long k = 0;
    for (long g = 0; g < G; ++g) {
      double re, im;
      group_value(op, g, s, re, im);
      if (re == 0.0 && im == 0.0) continue;
      if (rank_one(s ^ op.flips[g], n, n_up, B) < 0) {
        ++dropped;
        continue;
      }
      ++k;
    }
    row_nnz[r] = k;
  }
  return dropped;
}

void csr_fill(const PauliOperator& op, const std::uint64_t* basis, long dim, int n_up, const std::int64_t* indptr,
              std::int32_t* indices, double* data_re, double* data_im) {
  const long G = op.n_groups();
  const auto& B = binoms();
  const int n = op.n_sites;
#pragma omp parallel
  {
    std::vector<std::pair<std::int64_t, long>> row(std::size_t(G > 0 ? G : 1));
    std::vector<double> vre(std::size_t(G > 0 ? G : 1)), vim(std::size_t(G > 0 ? G : 1));
#pragma omp for schedule(static)
    for (long r = 0; r < dim; ++r) {
      const std::uint64_t s = basis[r];
      long k = 0;
      for (long g = 0; g < G; ++g) {
        double re, im;
        group_value(op, g, s, re, im);
        if (re == 0.0 && im == 0.0) continue;
        const std::int64_t c = rank_one(s ^ op.flips[g], n, n_up, B);
        if (c < 0) continue;
        row[k] = {c, k};
        vre[k] = re;
        vim[k] = im;
        ++k;
      }
      std::sort(row.begin(), row.begin() + k);
      const std::int64_t o = indptr[r];
      for (long q = 0; q < k; ++q) {
        indices[o + q] = std::int32_t(row[q].first);
        data_re[o + q] = vre[row[q].second];
        data_im[o + q] = vim[row[q].second];
      }
    }
  }
}

// ------------------------------------------------------------------ RBM
namespace {

// Per-call tables in site-major layout (row i holds the m hidden units): W^T, exp(2 W^T), exp(-2 W^T).
struct Tables {
  std::vector<double> wt, ep, em;
  Tables(const RBM& r) : wt(std::size_t(r.n) * r.m), ep(wt.size()), em(wt.size()) {
    for (int j = 0; j < r.m; ++j)
      for (int i = 0; i < r.n; ++i) {
        const double w = r.w[long(j) * r.n + i];
        wt[std::size_t(i) * r.m + j] = w;
        ep[std::size_t(i) * r.m + j] = std::exp(2.0 * w);
        em[std::size_t(i) * r.m + j] = std::exp(-2.0 * w);
      }
  }
};

inline void theta_of(const RBM& r, const Tables& tb, std::uint64_t s, double* th) {
  for (int h = 0; h < r.m; ++h) th[h] = r.b[h];
  for (int i = 0; i < r.n; ++i) {
    const double* wi = tb.wt.data() + std::size_t(i) * r.m;
    if ((s >> i) & 1u)
      for (int h = 0; h < r.m; ++h) th[h] += wi[h];
    else
      for (int h = 0; h < r.m; ++h) th[h] -= wi[h];
  }
}

// |psi(s ^ flip) / psi(s)| for an RBM with hidden sums theta and T = tanh(theta), using
// cosh(theta - d) / cosh(theta) = (e^d (1 - T) + e^-d (1 + T)) / 2 with e^{+-d} from the tables.
inline double flip_ratio(const RBM& r, const Tables& tb, std::uint64_t s, std::uint64_t flip, const double* T,
                         double* ep, double* em) {
  double da = 0.0;
  bool first = true;
  for (std::uint64_t x = flip; x; x &= x - 1) {
    const int i = __builtin_ctzll(x);
    const bool up = (s >> i) & 1u;
    da += up ? r.a[i] : -r.a[i];
    const double* p = (up ? tb.ep : tb.em).data() + std::size_t(i) * r.m;
    const double* q = (up ? tb.em : tb.ep).data() + std::size_t(i) * r.m;
    if (first) {
      for (int h = 0; h < r.m; ++h) {
        ep[h] = p[h];
        em[h] = q[h];
      }
      first = false;
    } else {
      for (int h = 0; h < r.m; ++h) {
        ep[h] *= p[h];
        em[h] *= q[h];
      }
    }
  }
  double ratio = std::exp(-2.0 * da);
  for (int h = 0; h < r.m; ++h) ratio *= 0.5 * (ep[h] * (1.0 - T[h]) + em[h] * (1.0 + T[h]));
  return ratio;
}

// theta of the complex RBM straight from W (hidden unit by hidden unit: the same sums, in the same order,
// as theta_of's site-major ones).
inline void thetac_of(const RBMc& r, std::uint64_t s, cplx* th) {
  for (int h = 0; h < r.m; ++h) {
    cplx v = r.b[h];
    const cplx* wh = r.w + long(h) * r.n;
    for (int i = 0; i < r.n; ++i) v += ((s >> i) & 1u) ? wh[i] : -wh[i];
    th[h] = v;
  }
}

// psi(s ^ f) / psi(s) of the complex RBM for any flip mask, d computed on the fly (into d, length m).
inline cplx cflip_ratio(const RBMc& r, std::uint64_t s, std::uint64_t f, const cplx* T, cplx* d) {
  cplx da = 0.0;
  for (int h = 0; h < r.m; ++h) d[h] = 0.0;
  for (std::uint64_t x = f; x; x &= x - 1) {
    const int i = __builtin_ctzll(x);
    const double sg = ((s >> i) & 1u) ? -2.0 : 2.0;
    da += sg * r.a[i];
    for (int h = 0; h < r.m; ++h) d[h] += sg * r.w[long(h) * r.n + i];
  }
  cplx p = std::exp(da);
  for (int h = 0; h < r.m; ++h) p *= std::cosh(d[h]) + T[h] * std::sinh(d[h]);
  return p;
}

// What the kernels below need of an RBM, for real (double) and complex parameters.  The shared code is
// written once over Net<S>; what differs is here:
//   theta(s, th)      the hidden sums (real: site-major from W^T; complex: from W)
//   ratio(s, f, T, x) psi(s ^ f) / psi(s) for a flip mask without move tables (real: |ratio| from the
//                     exp(+-2W) tables, scratch x of 2m; complex: d on the fly, scratch x of m)
//   mel(re, im)       <s|H|s ^ f> from the group value <s ^ f|H|s> (real operators only for the real RBM)
//   prob(r)           the acceptance |ratio|^2
//   kRows             per pattern of the move tables: cosh d, sinh d, d (and, real, tanh d)
//   advance(row, ...) theta += d after an accepted move, and tanh theta (real: by the addition formula)
template <class S>
struct Net;

template <>
struct Net<double> {
  using Rbm = RBM;
  static constexpr int kRows = 4;
  const RBM& r;
  const Tables tb;
  explicit Net(const RBM& rbm) : r(rbm), tb(rbm) {}
  void theta(std::uint64_t s, double* th) const { theta_of(r, tb, s, th); }
  double ratio(std::uint64_t s, std::uint64_t f, const double* T, double* x) const {
    return flip_ratio(r, tb, s, f, T, x, x + (r.m > 0 ? r.m : 1));
  }
  static double mel(double re, double) { return re; }
  static double prob(double ratio) { return ratio * ratio; }
  // tanh(theta + d) by the addition formula (T + tanh d) / (1 + T tanh d) (rounding drift ~1e-16 a move),
  // the exact tanh once |T| is within 1e-6 of 1 (the formula loses theta there).
  static void advance(const double* row, int m, double* th, double* T) {
    const double* d = row + 2 * m;
    const double* td = d + m;
    bool edge = false;
    for (int h = 0; h < m; ++h) {
      th[h] += d[h];
      edge |= std::fabs(T[h]) > 0.999999;
      T[h] = (T[h] + td[h]) / (1.0 + T[h] * td[h]);
    }
    if (edge)
      for (int h = 0; h < m; ++h) T[h] = std::tanh(th[h]);
  }
};

template <>
struct Net<cplx> {
  using Rbm = RBMc;
  static constexpr int kRows = 3;
  const RBMc& r;
  explicit Net(const RBMc& rbm) : r(rbm) {}
  void theta(std::uint64_t s, cplx* th) const { thetac_of(r, s, th); }
  cplx ratio(std::uint64_t s, std::uint64_t f, const cplx* T, cplx* x) const { return cflip_ratio(r, s, f, T, x); }
  static cplx mel(double re, double im) { return cplx(re, -im); }  // <s|H|s ^ f> = conj(<s ^ f|H|s>)
  static double prob(cplx ratio) { return std::norm(ratio); }
  static void advance(const cplx* row, int m, cplx* th, cplx* T) {
    const cplx* d = row + 2 * m;
    for (int h = 0; h < m; ++h) {
      th[h] += d[h];
      T[h] = std::tanh(th[h]);
    }
  }
};

template <class S>
using RbmOf = typename Net<S>::Rbm;

inline std::size_t at_least_one(int k) { return std::size_t(k > 0 ? k : 1); }

// Per-mask tables for masks of one or two sites: for each spin pattern p on the mask's sites (bit q of
// p = spin of its q-th lowest site up), the hidden-sum change d_h = sum_q (up ? -2 : 2) W_{h i_q}, cosh d,
// sinh d (real RBM: and tanh d), and exp(da) with da = sum_q (up ? -2 : 2) a_{i_q}.  A move's amplitude
// ratio psi(s ^ f) / psi(s) = exp(da) prod_h (cosh d_h + tanh theta_h sinh d_h).  Masks of more sites are
// marked generic (off = -1).
template <class S>
struct MoveTables {
  static constexpr int kRows = Net<S>::kRows;
  int m = 0;
  std::vector<std::uint64_t> masks;
  std::vector<long> off;  // first pattern of each mask, -1: generic
  std::vector<S> tab;     // per pattern: kRows rows of m
  std::vector<S> ea;      // per pattern
  MoveTables(const RbmOf<S>& r, const std::vector<std::uint64_t>& ms) : m(r.m), masks(ms), off(ms.size(), -1) {
    long np = 0;
    for (std::size_t g = 0; g < ms.size(); ++g) {
      const int k = popcount(ms[g]);
      if (k >= 1 && k <= 2) {
        off[g] = np;
        np += 1L << k;
      }
    }
    tab.assign(std::size_t(np) * kRows * std::size_t(m), S(0.0));
    ea.assign(std::size_t(np), S(1.0));
    for (std::size_t g = 0; g < ms.size(); ++g) {
      if (off[g] < 0) continue;
      int sites[2] = {0, 0};
      int k = 0;
      for (std::uint64_t x = ms[g]; x; x &= x - 1) sites[k++] = __builtin_ctzll(x);
      for (long p = 0; p < (1L << k); ++p) {
        S* ch = tab.data() + std::size_t(off[g] + p) * kRows * std::size_t(m);
        S* sh = ch + m;
        S* d = sh + m;
        S da = 0.0;
        for (int q = 0; q < k; ++q) {
          const double sg = ((p >> q) & 1) ? -2.0 : 2.0;
          da += sg * r.a[sites[q]];
          for (int h = 0; h < m; ++h) d[h] += sg * r.w[long(h) * r.n + sites[q]];
        }
        for (int h = 0; h < m; ++h) {
          ch[h] = std::cosh(d[h]);
          sh[h] = std::sinh(d[h]);
        }
        if constexpr (kRows == 4)
          for (int h = 0; h < m; ++h) d[m + h] = std::tanh(d[h]);
        ea[std::size_t(off[g] + p)] = std::exp(da);
      }
    }
  }
  long pattern(long g, std::uint64_t s) const {
    std::uint64_t f = masks[std::size_t(g)];
    long p = long((s >> __builtin_ctzll(f)) & 1u);
    f &= f - 1;
    if (f) p |= long((s >> __builtin_ctzll(f)) & 1u) << 1;
    return off[std::size_t(g)] + p;
  }
  const S* row(long pat) const { return tab.data() + std::size_t(pat) * kRows * std::size_t(m); }
};

// exp(da) prod_h (ch_h + T_h sh_h).  Real: four partial products (the Numba twin keeps the same order);
// complex: one running product from exp(da).
inline double table_ratio(const MoveTables<double>& mt, long pat, const double* T) {
  const int m = mt.m;
  const double* ch = mt.row(pat);
  const double* sh = ch + m;
  double p0 = 1.0, p1 = 1.0, p2 = 1.0, p3 = 1.0;
  int h = 0;
  for (; h + 4 <= m; h += 4) {
    p0 *= ch[h] + T[h] * sh[h];
    p1 *= ch[h + 1] + T[h + 1] * sh[h + 1];
    p2 *= ch[h + 2] + T[h + 2] * sh[h + 2];
    p3 *= ch[h + 3] + T[h + 3] * sh[h + 3];
  }
  for (; h < m; ++h) p0 *= ch[h] + T[h] * sh[h];
  return mt.ea[std::size_t(pat)] * ((p0 * p1) * (p2 * p3));
}

inline cplx table_ratio(const MoveTables<cplx>& mt, long pat, const cplx* T) {
  const int m = mt.m;
  const cplx* ch = mt.row(pat);
  const cplx* sh = ch + m;
  cplx p = mt.ea[std::size_t(pat)];
  for (int h = 0; h < m; ++h) p *= ch[h] + T[h] * sh[h];
  return p;
}

template <class S>
struct GroupTables {
  MoveTables<S> mt;
  std::vector<double> sign;
  GroupTables(const RbmOf<S>& r, const PauliOperator& op, std::uint64_t sign_mask) : mt(r, op.flips), sign(op.flips.size()) {
    for (std::size_t g = 0; g < op.flips.size(); ++g) sign[g] = (popcount(op.flips[g] & sign_mask) & 1) ? -1.0 : 1.0;
  }
};

// E_loc(s) from T = tanh theta: groups of one or two flipped sites through the tables, others by Net::ratio.
template <class S>
inline S eloc_with_T(const Net<S>& net, const PauliOperator& op, const GroupTables<S>& gt, std::uint64_t s,
                     const S* T, S* scratch) {
  const long G = op.n_groups();
  S e = 0.0;
  for (long g = 0; g < G; ++g) {
    double re, im;
    group_value(op, g, s, re, im);
    const S mel = Net<S>::mel(re, im);
    if (mel == S(0.0)) continue;
    const std::uint64_t f = op.flips[std::size_t(g)];
    if (f == 0) {
      e += mel;
      continue;
    }
    const S rt = gt.mt.off[std::size_t(g)] >= 0 ? table_ratio(gt.mt, gt.mt.pattern(g, s), T)
                                                : net.ratio(s, f, T, scratch);
    e += gt.sign[std::size_t(g)] * mel * rt;
  }
  return e;
}

template <class S>
void theta_all(const RbmOf<S>& r, const std::uint64_t* states, long count, S* theta) {
  const Net<S> net(r);
#pragma omp parallel for schedule(static)
  for (long b = 0; b < count; ++b) net.theta(states[b], theta + b * r.m);
}

template <class S>
void log_psi_all(const RbmOf<S>& r, const std::uint64_t* states, long count, S* out) {
  const Net<S> net(r);
#pragma omp parallel
  {
    std::vector<S> th(at_least_one(r.m));
#pragma omp for schedule(static)
    for (long b = 0; b < count; ++b) {
      net.theta(states[b], th.data());
      S v = 0.0;
      for (int i = 0; i < r.n; ++i) v += r.a[i] * spin(states[b], i);
      for (int j = 0; j < r.m; ++j) v += log2cosh(th[j]);
      out[b] = v;
    }
  }
}

// The row [s_i, tanh theta_j, tanh theta_j s_i] from T = tanh theta (sp: scratch of n).
template <class S>
inline void derivs_row(int n, int m, std::uint64_t s, const S* T, double* sp, S* o) {
  for (int i = 0; i < n; ++i) o[i] = sp[i] = spin(s, i);
  for (int j = 0; j < m; ++j) {
    const S tj = T[j];
    o[n + j] = tj;
    S* ow = o + n + m + long(j) * n;
    for (int i = 0; i < n; ++i) ow[i] = tj * sp[i];
  }
}

template <class S>
void log_derivs_all(const RbmOf<S>& r, const std::uint64_t* states, long count, S* out) {
  const long P = long(r.n) + r.m + long(r.m) * r.n;
  const Net<S> net(r);
#pragma omp parallel
  {
    std::vector<S> th(at_least_one(r.m));
    std::vector<double> sp(at_least_one(r.n));
#pragma omp for schedule(static)
    for (long b = 0; b < count; ++b) {
      net.theta(states[b], th.data());
      for (int j = 0; j < r.m; ++j) th[j] = std::tanh(th[j]);
      derivs_row(r.n, r.m, states[b], th.data(), sp.data(), out + b * P);
    }
  }
}

// Local energies of states with T = tanh theta from theta_of(s) (theta null) or from the caller's theta.
template <class S>
void local_energy_tables(const RbmOf<S>& r, const PauliOperator& op, std::uint64_t sign_mask, const std::uint64_t* states,
                         const S* theta, long count, S* out) {
  const Net<S> net(r);
  const GroupTables<S> gt(r, op, sign_mask);
  const std::size_t M = at_least_one(r.m);
#pragma omp parallel
  {
    std::vector<S> T(M), scratch(2 * M);
#pragma omp for schedule(static)
    for (long b = 0; b < count; ++b) {
      if (theta != nullptr)
        for (int h = 0; h < r.m; ++h) T[h] = theta[b * r.m + h];
      else
        net.theta(states[b], T.data());
      for (int h = 0; h < r.m; ++h) T[h] = std::tanh(T[h]);
      out[b] = eloc_with_T(net, op, gt, states[b], T.data(), scratch.data());
    }
  }
}

// The fused VMC step (rbm_vmc_sample, rbmc_vmc_sample); theta_out may be null.
template <class S>
void vmc_sample(const RbmOf<S>& r, const PauliOperator& op, std::uint64_t sign_mask, int move, const std::int64_t* bonds,
                long n_bonds, std::uint64_t* states, long chains, long n_samples, long sweep, long n_discard,
                std::uint64_t seed, std::uint64_t stream0, std::uint64_t counter0, std::uint64_t* samples, S* eloc,
                S* O, std::int64_t* accepted, S* theta_out) {
  const random::PhiloxKeys keys = random::philox_keys(seed);
  const long total = n_discard + n_samples * sweep;
  const Net<S> net(r);
  const GroupTables<S> gt(r, op, sign_mask);
  std::vector<std::uint64_t> mmasks;
  if (move == 0) {
    for (int i = 0; i < r.n; ++i) mmasks.push_back(std::uint64_t(1) << i);
  } else {
    for (long e = 0; e < n_bonds; ++e)
      mmasks.push_back((std::uint64_t(1) << bonds[2 * e]) | (std::uint64_t(1) << bonds[2 * e + 1]));
  }
  const MoveTables<S> mv(r, mmasks);
  const long nmoves = long(mmasks.size());
  const int n = r.n, m = r.m;
  const long P = long(n) + m + long(m) * n;
  const std::size_t M = at_least_one(m);
#pragma omp parallel
  {
    std::vector<S> th(M), T(M), scratch(2 * M);
    std::vector<double> sp(at_least_one(n));
#pragma omp for schedule(static)
    for (long c = 0; c < chains; ++c) {
      std::uint64_t s = states[c];
      net.theta(s, th.data());
      for (int h = 0; h < m; ++h) T[h] = std::tanh(th[h]);
      std::int64_t acc = 0;
      long k = 0;
      for (long t = 0; t < total; ++t) {
        const random::Philox4x32 w =
            random::philox_block_keyed(keys, stream0 + std::uint64_t(c), counter0 + std::uint64_t(t));
        const long e = long((std::uint64_t(w.v[0]) * std::uint64_t(nmoves)) >> 32);
        const std::uint64_t f = mmasks[std::size_t(e)];
        if (move == 1 && popcount(s & f) != 1) {
          ++acc;  // parallel spins: the exchange leaves the state as it is
        } else {
          const long pat = mv.pattern(e, s);
          const double p = Net<S>::prob(table_ratio(mv, pat, T.data()));
          const double u = random::uniform_double(w.v[2], w.v[3]);
          if (u < p) {
            Net<S>::advance(mv.row(pat), m, th.data(), T.data());
            s ^= f;
            ++acc;
          }
        }
        if (t >= n_discard && (t - n_discard + 1) % sweep == 0) {
          const long row = c * n_samples + k++;
          samples[row] = s;
          eloc[row] = eloc_with_T(net, op, gt, s, T.data(), scratch.data());
          if (O != nullptr) derivs_row(n, m, s, T.data(), sp.data(), O + row * P);
        }
      }
      states[c] = s;
      accepted[c] = acc;
      if (theta_out != nullptr)
        for (int h = 0; h < m; ++h) theta_out[c * m + h] = th[h];
    }
  }
}

}  // namespace

void rbm_theta(const RBM& r, const std::uint64_t* states, long count, double* theta) {
  theta_all<double>(r, states, count, theta);
}

void rbm_log_psi(const RBM& r, const std::uint64_t* states, long count, double* out) {
  log_psi_all<double>(r, states, count, out);
}

void rbm_log_derivs(const RBM& r, const std::uint64_t* states, long count, double* out) {
  log_derivs_all<double>(r, states, count, out);
}

void rbm_local_energy(const RBM& r, const PauliOperator& op, std::uint64_t sign_mask, const std::uint64_t* states,
                      long count, double* out) {
  const long G = op.n_groups();
  const Tables tb(r);
  const std::size_t M = at_least_one(r.m);
#pragma omp parallel
  {
    std::vector<double> th(M), T(M), ep(M), em(M);
#pragma omp for schedule(static)
    for (long b = 0; b < count; ++b) {
      const std::uint64_t s = states[b];
      theta_of(r, tb, s, th.data());
      for (int h = 0; h < r.m; ++h) T[h] = std::tanh(th[h]);
      double e = 0.0;
      for (long g = 0; g < G; ++g) {
        double re, im;
        group_value(op, g, s, re, im);
        if (re == 0.0) continue;
        const std::uint64_t f = op.flips[g];
        if (f == 0) {
          e += re;
          continue;
        }
        const double sg = (popcount(f & sign_mask) & 1) ? -1.0 : 1.0;
        e += sg * re * flip_ratio(r, tb, s, f, T.data(), ep.data(), em.data());
      }
      out[b] = e;
    }
  }
}

void rbm_sample(const RBM& r, int move, const std::int64_t* bonds, long n_bonds, std::uint64_t* states, long chains,
                long n_samples, long sweep, long n_discard, std::uint64_t seed, std::uint64_t stream0,
                std::uint64_t counter0, std::uint64_t* samples, double* theta_out, std::int64_t* accepted) {
  const random::PhiloxKeys keys = random::philox_keys(seed);
  const long total = n_discard + n_samples * sweep;
  const Tables tb(r);
  const std::size_t M = at_least_one(r.m);
#pragma omp parallel
  {
    std::vector<double> th(M), T(M), ep(M), em(M);
#pragma omp for schedule(static)
    for (long c = 0; c < chains; ++c) {
      std::uint64_t s = states[c];
      theta_of(r, tb, s, th.data());
      for (int h = 0; h < r.m; ++h) T[h] = std::tanh(th[h]);
      std::int64_t acc = 0;
      long k = 0;
      for (long t = 0; t < total; ++t) {
        const random::Philox4x32 w =
            random::philox_block_keyed(keys, stream0 + std::uint64_t(c), counter0 + std::uint64_t(t));
        std::uint64_t flip;
        if (move == 0) {
          flip = std::uint64_t(1) << int((std::uint64_t(w.v[0]) * std::uint64_t(r.n)) >> 32);
        } else {
          const long e = long((std::uint64_t(w.v[0]) * std::uint64_t(n_bonds)) >> 32);
          const int i = int(bonds[2 * e]), j = int(bonds[2 * e + 1]);
          flip = (((s >> i) ^ (s >> j)) & 1u) ? ((std::uint64_t(1) << i) | (std::uint64_t(1) << j)) : 0;
        }
        if (flip != 0) {
          const double ratio = flip_ratio(r, tb, s, flip, T.data(), ep.data(), em.data());
          const double u = random::uniform_double(w.v[2], w.v[3]);
          if (u < ratio * ratio) {
            for (std::uint64_t x = flip; x; x &= x - 1) {
              const int i = __builtin_ctzll(x);
              const double* wi = tb.wt.data() + std::size_t(i) * r.m;
              if ((s >> i) & 1u)
                for (int h = 0; h < r.m; ++h) th[h] -= 2.0 * wi[h];
              else
                for (int h = 0; h < r.m; ++h) th[h] += 2.0 * wi[h];
            }
            for (int h = 0; h < r.m; ++h) T[h] = std::tanh(th[h]);
            s ^= flip;
            ++acc;
          }
        } else {
          ++acc;
        }
        if (t >= n_discard && (t - n_discard + 1) % sweep == 0) samples[c * n_samples + k++] = s;
      }
      states[c] = s;
      accepted[c] = acc;
      for (int h = 0; h < r.m; ++h) theta_out[c * r.m + h] = th[h];
    }
  }
}

void rbm_local_energy_theta(const RBM& r, const PauliOperator& op, std::uint64_t sign_mask,
                            const std::uint64_t* states, const double* theta, long count, double* out) {
  local_energy_tables<double>(r, op, sign_mask, states, theta, count, out);
}

void rbm_vmc_sample(const RBM& r, const PauliOperator& op, std::uint64_t sign_mask, int move,
                    const std::int64_t* bonds, long n_bonds, std::uint64_t* states, long chains, long n_samples,
                    long sweep, long n_discard, std::uint64_t seed, std::uint64_t stream0, std::uint64_t counter0,
                    std::uint64_t* samples, double* eloc, double* O, std::int64_t* accepted) {
  vmc_sample<double>(r, op, sign_mask, move, bonds, n_bonds, states, chains, n_samples, sweep, n_discard, seed,
                     stream0, counter0, samples, eloc, O, accepted, nullptr);
}

// ------------------------------------------------------------------ complex RBM
void rbmc_theta(const RBMc& r, const std::uint64_t* states, long count, cplx* theta) {
  theta_all<cplx>(r, states, count, theta);
}

void rbmc_log_psi(const RBMc& r, const std::uint64_t* states, long count, cplx* out) {
  log_psi_all<cplx>(r, states, count, out);
}

void rbmc_log_derivs(const RBMc& r, const std::uint64_t* states, long count, cplx* out) {
  log_derivs_all<cplx>(r, states, count, out);
}

void rbmc_local_energy(const RBMc& r, const PauliOperator& op, std::uint64_t sign_mask,
                       const std::uint64_t* states, long count, cplx* out) {
  local_energy_tables<cplx>(r, op, sign_mask, states, nullptr, count, out);
}

void rbmc_vmc_sample(const RBMc& r, const PauliOperator& op, std::uint64_t sign_mask, int move,
                     const std::int64_t* bonds, long n_bonds, std::uint64_t* states, long chains, long n_samples,
                     long sweep, long n_discard, std::uint64_t seed, std::uint64_t stream0, std::uint64_t counter0,
                     std::uint64_t* samples, cplx* eloc, cplx* O, std::int64_t* accepted, cplx* theta_out) {
  vmc_sample<cplx>(r, op, sign_mask, move, bonds, n_bonds, states, chains, n_samples, sweep, n_discard, seed,
                   stream0, counter0, samples, eloc, O, accepted, theta_out);
}

}  // namespace physdl::quantum
