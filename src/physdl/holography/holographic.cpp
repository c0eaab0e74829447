// The holographic network: forward recurrence, hand-derived adjoint, and fused Adam training.
// See holographic.hpp for the equations.
#include "physdl/holography/holographic.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "physdl/random/philox.hpp"

namespace physdl::holography {

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Consts {
  double d;     // step (negative)
  double e1, e3, eta0;
  double a, b;  // alpha = a m_q R, beta = b c R^3
};

Consts consts(const Config& c) {
  Consts k{};
  k.d = (c.eta_fin - c.eta_ini) / c.n_layers;
  k.eta0 = c.eta_ini;
  k.e1 = std::exp(-c.eta_ini);
  k.e3 = std::exp(-3.0 * c.eta_ini);
  k.a = std::sqrt(c.nc) / (2.0 * kPi);
  k.b = kPi / std::sqrt(c.nc);
  return k;
}

inline double eta_of(const Config& c, const Consts& k, int n) { return c.eta_ini + n * k.d; }

// (phi0, pi0) of one input and, when g is given, the derivatives needed by the adjoint.
struct InputGrad {
  double dphi_dlam, dpi_dlam, dphi_dR, dpi_dR;
};

inline void input_one(const Config& c, const Consts& k, const double* p, const double* xi, double& phi0,
                      double& pi0, InputGrad* g) {
  if (c.input_map == InputMap::direct) {
    phi0 = xi[0];
    pi0 = xi[1];
    if (g) *g = InputGrad{0.0, 0.0, 0.0, 0.0};
    return;
  }
  const int N = c.n_layers;
  const double lam = p[N], R = p[N + 1];
  const double al = k.a * xi[0] * R;
  const double be = k.b * xi[1] * R * R * R;
  const double al3 = al * al * al, eta = k.eta0, e1 = k.e1, e3 = k.e3;
  phi0 = al * e1 + be * e3 - 0.5 * lam * al3 * eta * e3;                                  // eq. 12.23
  pi0 = -al * e1 - (3.0 * be + 0.5 * lam * al3) * e3 + 1.5 * lam * al3 * eta * e3;        // eq. 12.24
  if (g) {
    const double al2 = al * al;
    const double dphi_dal = e1 - 1.5 * lam * al2 * eta * e3;
    const double dpi_dal = -e1 - 1.5 * lam * al2 * e3 + 4.5 * lam * al2 * eta * e3;
    const double dphi_dbe = e3, dpi_dbe = -3.0 * e3;
    const double dal_dR = k.a * xi[0], dbe_dR = 3.0 * k.b * xi[1] * R * R;
    g->dphi_dlam = -0.5 * al3 * eta * e3;
    g->dpi_dlam = -0.5 * al3 * e3 + 1.5 * al3 * eta * e3;
    g->dphi_dR = dphi_dal * dal_dR + dphi_dbe * dbe_dR;
    g->dpi_dR = dpi_dal * dal_dR + dpi_dbe * dbe_dR;
  }
}

// Horizon value F from (phi_N, pi_N), with dF/dphi, dF/dpi, dF/dlam.
inline double horizon_value(const Config& c, double phiN, double piN, double lam, double* dphi, double* dpi,
                            double* dlam) {
  if (c.horizon == Horizon::pi) {
    if (dphi) {
      *dphi = 0.0;
      *dpi = 1.0;
      *dlam = 0.0;
    }
    return piN;
  }
  const double inv = 2.0 / c.eta_fin;
  if (dphi) {
    *dphi = -c.m2 - 3.0 * lam * phiN * phiN;
    *dpi = inv;
    *dlam = -phiN * phiN * phiN;
  }
  return inv * piN - c.m2 * phiN - lam * phiN * phiN * phiN;  // eq. 12.11
}

inline double output_value(const Config& c, double F, double* dy) {
  if (c.output == Output::tanh_abs) {
    const double t = std::tanh(std::fabs(F));
    if (dy) *dy = (F > 0 ? 1.0 : (F < 0 ? -1.0 : 0.0)) * (1.0 - t * t);
    return t;
  }
  const double s = c.sharpness;
  const double tp = std::tanh(s * (F - c.eps)), tm = std::tanh(s * (F + c.eps));
  if (dy) *dy = 0.5 * s * ((1.0 - tp * tp) - (1.0 - tm * tm));
  return 1.0 + 0.5 * (tp - tm);
}

// Regularisers: value, and their gradient added to grad.
double regularisers(const Config& c, const Consts& k, const double* p, double* grad) {
  const int N = c.n_layers;
  double r = 0.0;
  if (c.c_smooth != 0.0) {
    for (int n = 0; n + 1 < N; ++n) {
      const double e = eta_of(c, k, n), w = c.c_smooth * e * e * e * e;
      const double dh = p[n + 1] - p[n];
      r += w * dh * dh;
      if (grad) {
        grad[n + 1] += 2.0 * w * dh;
        grad[n] -= 2.0 * w * dh;
      }
    }
  }
  if (c.c_bdry != 0.0) {
    const double u = c.d_bdry - p[0];
    r += c.c_bdry * u * u;
    if (grad) grad[0] -= 2.0 * c.c_bdry * u;
  }
  if (c.c_horizon != 0.0) {
    const double u = p[N - 1] - 1.0 / eta_of(c, k, N - 1);
    r += c.c_horizon * u * u;
    if (grad) grad[N - 1] += 2.0 * c.c_horizon * u;
  }
  return r;
}

// Data loss of samples [i0, i1) in the order idx (or 0..n-1 when idx is null), gradient added to
// grad (already scaled by 1/count).  work: 2 (N + 1) doubles.
double data_loss_grad(const Config& c, const Consts& k, const double* p, const double* x, const double* labels,
                      const long* idx, long i0, long i1, double* grad, double* work) {
  const int N = c.n_layers;
  const double lam = p[N], d = k.d, m2 = c.m2;
  const double scale = 1.0 / static_cast<double>(i1 - i0);
  double* ph = work;
  double* pp = work + (N + 1);
  double loss = 0.0;
  for (long s = i0; s < i1; ++s) {
    const long i = idx ? idx[s] : s;
    InputGrad ig{};
    input_one(c, k, p, x + 2 * i, ph[0], pp[0], grad ? &ig : nullptr);
    for (int n = 0; n < N; ++n) {
      const double f = ph[n], q = pp[n];
      ph[n + 1] = f + d * q;
      pp[n + 1] = q + d * (-p[n] * q + m2 * f + lam * f * f * f);
    }
    double dFdphi = 0, dFdpi = 0, dFdlam = 0;
    const double F = horizon_value(c, ph[N], pp[N], lam, grad ? &dFdphi : nullptr, &dFdpi, &dFdlam);
    double dydF = 0;
    const double y = output_value(c, F, grad ? &dydF : nullptr);
    const double r = y - labels[i];
    loss += r * r;
    if (!grad) continue;
    const double gF = 2.0 * r * scale * dydF;
    double gphi = gF * dFdphi, gpi = gF * dFdpi;
    double glam = gF * dFdlam;
    for (int n = N - 1; n >= 0; --n) {  // adjoint of eq. 12.5-12.6
      const double f = ph[n], q = pp[n];
      grad[n] += gpi * (-d * q);
      glam += gpi * d * f * f * f;
      const double gphi_n = gphi + gpi * d * (m2 + 3.0 * lam * f * f);
      const double gpi_n = gphi * d + gpi * (1.0 - d * p[n]);
      gphi = gphi_n;
      gpi = gpi_n;
    }
    glam += gphi * ig.dphi_dlam + gpi * ig.dpi_dlam;
    grad[N] += glam;
    grad[N + 1] += gphi * ig.dphi_dR + gpi * ig.dpi_dR;
  }
  return loss * scale;
}

}  // namespace

void check_config(const Config& c) {
  auto bad = [](const std::string& m) { throw std::invalid_argument("holography: " + m); };
  if (c.n_layers < 1 || c.n_layers > 1000000) bad("n_layers must be in [1, 10^6]");
  if (!(std::isfinite(c.eta_ini) && std::isfinite(c.eta_fin)) || !(c.eta_fin > 0.0) || !(c.eta_ini > c.eta_fin))
    bad("need eta_ini > eta_fin > 0");
  if (!std::isfinite(c.m2) || !std::isfinite(c.nc) || c.nc <= 0) bad("m2 and nc must be finite, nc > 0");
  if (!(c.sharpness > 0) || !(c.eps >= 0)) bad("window output needs sharpness > 0 and eps >= 0");
}

void input_layer(const Config& c, const double* p, const double* x, long n, double* phi0, double* pi0) {
  check_config(c);
  const Consts k = consts(c);
  for (long i = 0; i < n; ++i) input_one(c, k, p, x + 2 * i, phi0[i], pi0[i], nullptr);
}

void forward(const Config& c, const double* p, const double* x, long n, double* F, double* y, double* traj) {
  check_config(c);
  const Consts k = consts(c);
  const int N = c.n_layers;
  const double lam = p[N], d = k.d, m2 = c.m2;
#pragma omp parallel for schedule(static) if (n > 4096)
  for (long i = 0; i < n; ++i) {
    double f, q;
    input_one(c, k, p, x + 2 * i, f, q, nullptr);
    double* t = traj ? traj + i * 2 * (N + 1) : nullptr;
    if (t) {
      t[0] = f;
      t[1] = q;
    }
    for (int m = 0; m < N; ++m) {
      const double fn = f + d * q;
      const double qn = q + d * (-p[m] * q + m2 * f + lam * f * f * f);
      f = fn;
      q = qn;
      if (t) {
        t[2 * (m + 1)] = f;
        t[2 * (m + 1) + 1] = q;
      }
    }
    F[i] = horizon_value(c, f, q, lam, nullptr, nullptr, nullptr);
    y[i] = output_value(c, F[i], nullptr);
  }
}

double loss_grad(const Config& c, const double* p, const double* x, const double* labels, long n, double* grad,
                 double* data_loss) {
  check_config(c);
  if (n < 1) throw std::invalid_argument("holography: loss_grad needs at least one sample");
  const Consts k = consts(c);
  const long P = n_params(c);
  if (grad)
    for (long j = 0; j < P; ++j) grad[j] = 0.0;
  std::vector<double> work(2 * (c.n_layers + 1));
  const double dl = data_loss_grad(c, k, p, x, labels, nullptr, 0, n, grad, work.data());
  if (data_loss) *data_loss = dl;
  return dl + regularisers(c, k, p, grad);
}

long train(const Config& c, double* p, double* m, double* v, long* steps, long trials, const double* x,
           const double* labels, long n, const TrainOptions& opt, long epoch0, double* history,
           bool (*stop)()) {
  check_config(c);
  if (n < 1 || opt.batch < 1 || opt.epochs < 0 || trials < 1 || epoch0 < 0)
    throw std::invalid_argument("holography: train needs n, batch, trials >= 1 and epochs, epoch0 >= 0");
  const Consts k = consts(c);
  const int N = c.n_layers;
  const long P = n_params(c);
  long done = opt.epochs;
  for (long e = 0; e < opt.epochs; ++e) {
    if (stop && stop()) {
      done = e;
      break;
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (long t = 0; t < trials; ++t) {
      double* pt = p + t * P;
      double* mt = m + t * P;
      double* vt = v + t * P;
      std::vector<long> idx(n);
      std::vector<double> g(P), work(2 * (N + 1));
      for (long i = 0; i < n; ++i) idx[i] = i;
      // Fisher-Yates shuffle of epoch epoch0 + e: counter (epoch * n + i) of the trial's stream
      const std::uint64_t ep = static_cast<std::uint64_t>(epoch0 + e);
      const std::uint64_t stream = opt.stream + static_cast<std::uint64_t>(t);
      for (long i = n - 1; i > 0; --i) {
        const auto b = physdl::random::philox_block(opt.seed, stream, ep * static_cast<std::uint64_t>(n) +
                                                                          static_cast<std::uint64_t>(i));
        const double u = physdl::random::uniform_double(b.v[0], b.v[1]);
        long j = static_cast<long>(u * static_cast<double>(i + 1));
        if (j > i) j = i;
        const long tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
      }
      double epoch_loss = 0.0;
      long nb = 0;
      for (long s = 0; s < n; s += opt.batch) {
        const long s1 = (s + opt.batch < n) ? s + opt.batch : n;
        for (long j = 0; j < P; ++j) g[j] = 0.0;
        const double dl = data_loss_grad(c, k, pt, x, labels, idx.data(), s, s1, g.data(), work.data());
        epoch_loss += dl + regularisers(c, k, pt, g.data());
        ++nb;
        const long st = ++steps[t];
        const double bc1 = 1.0 - std::pow(opt.beta1, static_cast<double>(st));
        const double bc2 = 1.0 - std::pow(opt.beta2, static_cast<double>(st));
        for (long j = 0; j < P; ++j) {
          const bool on = (j < N) ? opt.train_h : (j == N ? opt.train_lam : opt.train_R);
          if (!on) continue;
          mt[j] = opt.beta1 * mt[j] + (1.0 - opt.beta1) * g[j];
          vt[j] = opt.beta2 * vt[j] + (1.0 - opt.beta2) * g[j] * g[j];
          pt[j] -= opt.lr * (mt[j] / bc1) / (std::sqrt(vt[j] / bc2) + opt.adam_eps);
        }
        if (opt.lam_nonnegative && pt[N] < 0.0) pt[N] = 0.0;
      }
      if (history) history[t * opt.epochs + e] = epoch_loss / static_cast<double>(nb);
    }
  }
  return done;
}

}  // namespace physdl::holography
