// Chain kernels of the energy-based models; see ebm.hpp for the random-number addresses.
#include "physdl/ebm/ebm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "physdl/nn/blas.hpp"
#include "physdl/random/philox.hpp"

namespace physdl::ebm {

using physdl::random::philox_block;
using physdl::random::uniform_double;

namespace {
inline std::int8_t sgn(double x, std::int8_t old, bool tie_keep) {
  return x > 0.0 ? std::int8_t(1) : (x < 0.0 ? std::int8_t(-1) : (tie_keep ? old : std::int8_t(-1)));
}
// sum_j a_j b_j with four partial sums (j mod 4), combined as (s0 + s1) + (s2 + s3): a fixed order
// the Numba twin repeats, and four independent chains of additions for the CPU.
inline double dot4(const double* a, const double* b, std::int64_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += a[j] * b[j];
    s1 += a[j + 1] * b[j + 1];
    s2 += a[j + 2] * b[j + 2];
    s3 += a[j + 3] * b[j + 3];
  }
  if (j < n) s0 += a[j] * b[j];
  if (j + 1 < n) s1 += a[j + 1] * b[j + 1];
  if (j + 2 < n) s2 += a[j + 2] * b[j + 2];
  return (s0 + s1) + (s2 + s3);
}
}  // namespace

void hopfield_async(const double* W, std::int64_t n, std::int8_t* S, std::int64_t m, std::int64_t max_sweeps,
                    bool tie_keep, std::uint64_t seed, std::uint64_t stream0, double* energy_sweep,
                    double* energy_step, std::int64_t* sweeps, std::int64_t* flips) {
#pragma omp parallel
  {
    std::vector<double> h(n), sd(n);
    std::vector<std::int64_t> perm(n);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t c = 0; c < m; ++c) {
      std::int8_t* s = S + c * n;
      for (std::int64_t j = 0; j < n; ++j) sd[j] = s[j];
      for (std::int64_t i = 0; i < n; ++i) h[i] = dot4(W + i * n, sd.data(), n);
      double E = 0.0;
      for (std::int64_t i = 0; i < n; ++i) E += s[i] * h[i];
      E *= -0.5;
      double* es = energy_sweep + c * (max_sweeps + 1);
      es[0] = E;
      double* est = energy_step ? energy_step + c * (max_sweeps * n + 1) : nullptr;
      std::int64_t idx = 0;
      if (est) est[idx++] = E;
      bool converged = false;
      std::int64_t done = 0, nfl = 0;
      const std::uint64_t st = stream0 + static_cast<std::uint64_t>(c);
      for (std::int64_t t = 0; t < max_sweeps; ++t) {
        if (!converged) {
          for (std::int64_t i = 0; i < n; ++i) perm[i] = i;
          physdl::random::Philox4x32 blk{};
          std::int64_t cur = -1;
          for (std::int64_t j = n - 1; j >= 1; --j) {
            if ((j >> 2) != cur) {
              cur = j >> 2;
              blk = philox_block(seed, st, (static_cast<std::uint64_t>(t) << 24) | static_cast<std::uint64_t>(cur));
            }
            const std::uint64_t w = blk.v[j & 3];
            const std::int64_t k = static_cast<std::int64_t>((w * static_cast<std::uint64_t>(j + 1)) >> 32);
            std::swap(perm[j], perm[k]);
          }
          std::int64_t sf = 0;
          for (std::int64_t q = 0; q < n; ++q) {
            const std::int64_t i = perm[q];
            const std::int8_t nw = sgn(h[i], s[i], tie_keep);
            if (nw != s[i]) {
              E += 2.0 * s[i] * h[i] - 2.0 * W[i * n + i];
              s[i] = nw;
              const double d = 2.0 * nw;
              const double* Wi = W + i * n;
              for (std::int64_t j = 0; j < n; ++j) h[j] += Wi[j] * d;
              ++sf;
            }
            if (est) est[idx++] = E;
          }
          nfl += sf;
          done = t + 1;
          if (sf == 0) converged = true;
        } else if (est) {
          for (std::int64_t q = 0; q < n; ++q) est[idx++] = E;
        }
        es[t + 1] = E;
      }
      sweeps[c] = done;
      flips[c] = nfl;
    }
  }
}

void hopfield_async_int(const std::int16_t* W, double scale, std::int64_t n, std::int8_t* S, std::int64_t m,
                        std::int64_t max_sweeps, bool tie_keep, std::uint64_t seed, std::uint64_t stream0,
                        double* energy_sweep, double* energy_step, std::int64_t* sweeps, std::int64_t* flips) {
#pragma omp parallel
  {
    std::vector<std::int32_t> h(n);
    std::vector<std::int64_t> perm(n);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t c = 0; c < m; ++c) {
      std::int8_t* s = S + c * n;
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int16_t* Wi = W + i * n;
        std::int32_t a = 0;
#pragma omp simd reduction(+ : a)
        for (std::int64_t j = 0; j < n; ++j) a += static_cast<std::int32_t>(Wi[j]) * s[j];
        h[i] = a;
      }
      std::int64_t e2 = 0;  // sum_i s_i h_i, exact; E = -scale e2 / 2
      for (std::int64_t i = 0; i < n; ++i) e2 += static_cast<std::int64_t>(s[i]) * h[i];
      double* es = energy_sweep + c * (max_sweeps + 1);
      es[0] = -0.5 * scale * static_cast<double>(e2);
      double* est = energy_step ? energy_step + c * (max_sweeps * n + 1) : nullptr;
      std::int64_t idx = 0;
      if (est) est[idx++] = es[0];
      bool converged = false;
      std::int64_t done = 0, nfl = 0;
      const std::uint64_t st = stream0 + static_cast<std::uint64_t>(c);
      std::int32_t* hp = h.data();
      for (std::int64_t t = 0; t < max_sweeps; ++t) {
        if (!converged) {
          for (std::int64_t i = 0; i < n; ++i) perm[i] = i;
          physdl::random::Philox4x32 blk{};
          std::int64_t cur = -1;
          for (std::int64_t j = n - 1; j >= 1; --j) {
            if ((j >> 2) != cur) {
              cur = j >> 2;
              blk = philox_block(seed, st, (static_cast<std::uint64_t>(t) << 24) | static_cast<std::uint64_t>(cur));
            }
            const std::uint64_t w = blk.v[j & 3];
            const std::int64_t k = static_cast<std::int64_t>((w * static_cast<std::uint64_t>(j + 1)) >> 32);
            std::swap(perm[j], perm[k]);
          }
          std::int64_t sf = 0;
          for (std::int64_t q = 0; q < n; ++q) {
            const std::int64_t i = perm[q];
            const std::int32_t hi = hp[i];
            const std::int8_t nw = hi > 0 ? std::int8_t(1) : (hi < 0 ? std::int8_t(-1) : (tie_keep ? s[i] : std::int8_t(-1)));
            if (nw != s[i]) {
              e2 -= 4 * static_cast<std::int64_t>(s[i]) * hi - 4 * static_cast<std::int64_t>(W[i * n + i]);
              s[i] = nw;
              const std::int32_t d = 2 * nw;
              const std::int16_t* Wi = W + i * n;
#pragma omp simd
              for (std::int64_t j = 0; j < n; ++j) hp[j] += d * static_cast<std::int32_t>(Wi[j]);
              ++sf;
            }
            if (est) est[idx++] = -0.5 * scale * static_cast<double>(e2);
          }
          nfl += sf;
          done = t + 1;
          if (sf == 0) converged = true;
        } else if (est) {
          for (std::int64_t q = 0; q < n; ++q) est[idx++] = -0.5 * scale * static_cast<double>(e2);
        }
        es[t + 1] = -0.5 * scale * static_cast<double>(e2);
      }
      sweeps[c] = done;
      flips[c] = nfl;
    }
  }
}

void hopfield_sync(const double* W, std::int64_t n, std::int8_t* S, std::int8_t* prev, std::int64_t m,
                   std::int64_t max_steps, bool tie_keep, std::int64_t* steps, std::int32_t* period) {
#pragma omp parallel
  {
    std::vector<std::int8_t> x(n), nx(n), px(n);
    std::vector<double> xd(n);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t c = 0; c < m; ++c) {
      std::int8_t* s = S + c * n;
      std::copy(s, s + n, x.begin());
      std::copy(s, s + n, px.begin());
      std::int32_t per = 0;
      std::int64_t t = 0;
      for (; t < max_steps; ++t) {
        for (std::int64_t j = 0; j < n; ++j) xd[j] = x[j];
        for (std::int64_t i = 0; i < n; ++i) nx[i] = sgn(dot4(W + i * n, xd.data(), n), x[i], tie_keep);
        if (std::equal(nx.begin(), nx.end(), x.begin())) {
          per = 1;
        } else if (t > 0 && std::equal(nx.begin(), nx.end(), px.begin())) {
          per = 2;
        }
        px.swap(x);
        x.swap(nx);  // x = new state, px = the one before
        if (per) {
          ++t;
          break;
        }
      }
      std::copy(x.begin(), x.end(), s);
      std::copy(px.begin(), px.end(), prev + c * n);
      steps[c] = t;
      period[c] = per;
    }
  }
}

template <class T>
void rbm_gibbs(const T* W, const T* b, const T* c, std::int64_t nv, std::int64_t nh, bool pm, T* v, T* h,
               std::int64_t m, std::int64_t k, std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0) {
  std::vector<T> pre(static_cast<std::size_t>(m) * std::max(nv, nh));
  const T lo = pm ? T(-1) : T(0);
  const T scale = pm ? T(2) : T(1);
  auto sample = [&](T* u, const T* bias, std::int64_t nu, std::uint64_t q) {
    // threads only pay off on large blocks (a parallel region costs microseconds, more under load)
#pragma omp parallel for schedule(static) if (m * nu >= 65536)
    for (std::int64_t r = 0; r < m; ++r) {
      const std::uint64_t st = stream0 + static_cast<std::uint64_t>(r);
      const T* a = pre.data() + r * nu;
      T* out = u + r * nu;
      physdl::random::Philox4x32 blk{};
      for (std::int64_t j = 0; j < nu; ++j) {
        if ((j & 3) == 0) blk = philox_block(seed, st, (q << 24) | static_cast<std::uint64_t>(j >> 2));
        const double x = static_cast<double>(scale * (a[j] + bias[j]));
        const double p = 1.0 / (1.0 + std::exp(-x));
        out[j] = static_cast<double>(blk.v[j & 3]) * 2.3283064365386963e-10 < p ? T(1) : lo;  // u = w / 2^32
      }
    }
  };
  for (std::int64_t t = 0; t < k; ++t) {
    const std::uint64_t q = 2 * (t0 + static_cast<std::uint64_t>(t));
    physdl::nn::gemm<T>(false, false, m, nh, nv, T(1), v, nv, W, nh, T(0), pre.data(), nh);
    sample(h, c, nh, q);
    physdl::nn::gemm<T>(false, true, m, nv, nh, T(1), h, nh, W, nh, T(0), pre.data(), nv);
    sample(v, b, nv, q + 1);
  }
}

template void rbm_gibbs<double>(const double*, const double*, const double*, std::int64_t, std::int64_t, bool,
                                double*, double*, std::int64_t, std::int64_t, std::uint64_t, std::uint64_t,
                                std::uint64_t);
template void rbm_gibbs<float>(const float*, const float*, const float*, std::int64_t, std::int64_t, bool, float*,
                               float*, std::int64_t, std::int64_t, std::uint64_t, std::uint64_t, std::uint64_t);

namespace {
// Integer sums I_nn = sum_<ij> s_i s_j and I_pl = sum_plaquettes s s s s.
void plaquette_sums(const Plaquette& p, const std::int8_t* s, std::int64_t& inn, std::int64_t& ipl) {
  std::int64_t a = 0, b = 0;
  for (std::int64_t i = 0; i < p.n; ++i) {
    const std::int32_t* nb = p.nbr + 4 * i;
    a += s[i] * (s[nb[0]] + s[nb[1]] + s[nb[2]] + s[nb[3]]);
    const std::int32_t* pl = p.plaq + 12 * i;
    std::int64_t q = 0;
    for (int r = 0; r < 4; ++r) q += s[pl[3 * r]] * s[pl[3 * r + 1]] * s[pl[3 * r + 2]];
    b += s[i] * q;
  }
  inn = a / 2;
  ipl = b / 4;
}

double cluster_energy(const std::int32_t* cnbr, std::int64_t n, std::int64_t zc, const double* Jc,
                      const std::int8_t* s) {
  double e = 0.0;
  for (std::int64_t col = 0; col < zc; ++col) {
    std::int64_t a = 0;
    for (std::int64_t i = 0; i < n; ++i) a += s[i] * s[cnbr[i * zc + col]];
    e += Jc[col] * static_cast<double>(a);
  }
  return -0.5 * e;
}
}  // namespace

void plaquette_metropolis(const Plaquette& p, std::int8_t* S, std::int64_t m, double beta, std::int64_t nsweeps,
                          std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0, double* energy,
                          std::int64_t* mag, std::int64_t* accepted) {
  const std::int64_t n = p.n;
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t c = 0; c < m; ++c) {
    std::int8_t* s = S + c * n;
    std::int64_t inn, ipl;
    plaquette_sums(p, s, inn, ipl);
    std::int64_t M = 0;
    for (std::int64_t i = 0; i < n; ++i) M += s[i];
    std::int64_t acc = 0;
    const std::uint64_t st = stream0 + static_cast<std::uint64_t>(c);
    for (std::int64_t t = 0; t < nsweeps; ++t) {
      const std::uint64_t base = (t0 + static_cast<std::uint64_t>(t)) << 24;
      physdl::random::Philox4x32 blk{};
      for (std::int64_t i = 0; i < n; ++i) {
        if ((i & 1) == 0) blk = philox_block(seed, st, base | static_cast<std::uint64_t>(i >> 1));
        const std::int32_t* nb = p.nbr + 4 * i;
        const std::int64_t fn = s[nb[0]] + s[nb[1]] + s[nb[2]] + s[nb[3]];
        const std::int32_t* pl = p.plaq + 12 * i;
        std::int64_t fp = 0;
        for (int r = 0; r < 4; ++r) fp += s[pl[3 * r]] * s[pl[3 * r + 1]] * s[pl[3 * r + 2]];
        const double dE = 2.0 * s[i] * (p.J * static_cast<double>(fn) + p.K * static_cast<double>(fp));
        const int l = 2 * static_cast<int>(i & 1);
        if (uniform_double(blk.v[l], blk.v[l + 1]) < std::exp(-beta * dE)) {
          inn -= 2 * s[i] * fn;
          ipl -= 2 * s[i] * fp;
          M -= 2 * s[i];
          s[i] = static_cast<std::int8_t>(-s[i]);
          ++acc;
        }
      }
      energy[c * nsweeps + t] = -p.J * static_cast<double>(inn) - p.K * static_cast<double>(ipl);
      mag[c * nsweeps + t] = M;
    }
    accepted[c] = acc;
  }
}

void slmc_wolff(const Plaquette& p, const std::int32_t* cnbr, std::int64_t zc, const double* Jc, std::int8_t* S,
                std::int64_t m, double beta, std::int64_t nsteps, std::int64_t nclusters, std::uint64_t seed,
                std::uint64_t stream0, std::uint64_t t0, double* energy, std::int64_t* mag, std::int64_t* csize,
                std::int64_t* accepted) {
  const std::int64_t n = p.n;
  std::vector<double> padd(zc);
  for (std::int64_t col = 0; col < zc; ++col) padd[col] = Jc[col] > 0.0 ? 1.0 - std::exp(-2.0 * beta * Jc[col]) : 0.0;
#pragma omp parallel
  {
    std::vector<std::int64_t> stack, cl;
    std::vector<std::uint8_t> incl(n, 0);
    std::vector<std::int8_t> old(n);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t c = 0; c < m; ++c) {
      std::int8_t* s = S + c * n;
      std::int64_t inn, ipl;
      plaquette_sums(p, s, inn, ipl);
      double ec = cluster_energy(cnbr, n, zc, Jc, s);
      std::int64_t M = 0;
      for (std::int64_t i = 0; i < n; ++i) M += s[i];
      std::int64_t acc = 0;
      const std::uint64_t st = stream0 + static_cast<std::uint64_t>(c);
      for (std::int64_t t = 0; t < nsteps; ++t) {
        const std::uint64_t base = (t0 + static_cast<std::uint64_t>(t)) << 24;
        std::copy(s, s + n, old.begin());
        const auto b0 = philox_block(seed, st, base);
        std::int64_t i0 = static_cast<std::int64_t>(uniform_double(b0.v[0], b0.v[1]) * static_cast<double>(n));
        if (i0 >= n) i0 = n - 1;
        const double uacc = uniform_double(b0.v[2], b0.v[3]);
        std::uint64_t a = 0;
        physdl::random::Philox4x32 blk{};
        std::int64_t total = 0;
        for (std::int64_t q = 0; q < nclusters; ++q) {
          if (q > 0) {  // the seed of a further cluster is the next draw of the attempt sequence
            if ((a & 1) == 0) blk = philox_block(seed, st, base | (1 + (a >> 1)));
            const int l = 2 * static_cast<int>(a & 1);
            ++a;
            i0 = static_cast<std::int64_t>(uniform_double(blk.v[l], blk.v[l + 1]) * static_cast<double>(n));
            if (i0 >= n) i0 = n - 1;
          }
          const std::int8_t s0 = s[i0];
          stack.clear();
          cl.clear();
          stack.push_back(i0);
          cl.push_back(i0);
          incl[i0] = 1;
          while (!stack.empty()) {
            const std::int64_t i = stack.back();
            stack.pop_back();
            for (std::int64_t col = 0; col < zc; ++col) {
              const std::int64_t j = cnbr[i * zc + col];
              if (incl[j] || s[j] != s0 || !(padd[col] > 0.0)) continue;
              if ((a & 1) == 0) blk = philox_block(seed, st, base | (1 + (a >> 1)));
              const int l = 2 * static_cast<int>(a & 1);
              ++a;
              if (uniform_double(blk.v[l], blk.v[l + 1]) < padd[col]) {
                incl[j] = 1;
                stack.push_back(j);
                cl.push_back(j);
              }
            }
          }
          for (const auto i : cl) {
            s[i] = static_cast<std::int8_t>(-s[i]);
            incl[i] = 0;
          }
          total += static_cast<std::int64_t>(cl.size());
        }
        std::int64_t inn2, ipl2;
        plaquette_sums(p, s, inn2, ipl2);
        const double ec2 = cluster_energy(cnbr, n, zc, Jc, s);
        const double dex = -p.J * static_cast<double>(inn2 - inn) - p.K * static_cast<double>(ipl2 - ipl);
        if (uacc < std::exp(-beta * (dex - (ec2 - ec)))) {
          inn = inn2;
          ipl = ipl2;
          ec = ec2;
          ++acc;
        } else {
          std::copy(old.begin(), old.end(), s);
        }
        M = 0;
        for (std::int64_t i = 0; i < n; ++i) M += s[i];
        energy[c * nsteps + t] = -p.J * static_cast<double>(inn) - p.K * static_cast<double>(ipl);
        mag[c * nsteps + t] = M;
        csize[c * nsteps + t] = total;
      }
      accepted[c] = acc;
    }
  }
}

}  // namespace physdl::ebm
