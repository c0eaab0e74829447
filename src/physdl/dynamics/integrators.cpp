// Hamiltonian integrators and Lyapunov exponents; see integrators.hpp.
#include "physdl/dynamics/integrators.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace physdl::dynamics {

namespace {

// Force -dV/dq of one state (dim components).
inline void force(System s, const double* q, double* f) {
  switch (s) {
    case System::harmonic:
      f[0] = -q[0];
      break;
    case System::pendulum:
      f[0] = -std::sin(q[0]);
      break;
    case System::double_well:
      f[0] = q[0] - q[0] * q[0] * q[0];
      break;
    case System::henon_heiles:
      f[0] = -q[0] - 2.0 * q[0] * q[1];
      f[1] = -q[1] - q[0] * q[0] + q[1] * q[1];
      break;
  }
}

inline double potential(System s, const double* q) {
  switch (s) {
    case System::harmonic:
      return 0.5 * q[0] * q[0];
    case System::pendulum:
      return 1.0 - std::cos(q[0]);
    case System::double_well:
      return 0.25 * q[0] * q[0] * q[0] * q[0] - 0.5 * q[0] * q[0];
    case System::henon_heiles:
      return 0.5 * (q[0] * q[0] + q[1] * q[1]) + q[0] * q[0] * q[1] - q[1] * q[1] * q[1] / 3.0;
  }
  return 0.0;
}

inline double energy_one(System s, const double* q, const double* p, int d) {
  double k = 0.0;
  for (int j = 0; j < d; ++j) k += 0.5 * p[j] * p[j];
  return k + potential(s, q);
}

// One leapfrog (kick-drift-kick) step of size h.
inline void leapfrog(System s, double* q, double* p, int d, double h) {
  double f[2];
  force(s, q, f);
  for (int j = 0; j < d; ++j) p[j] += 0.5 * h * f[j];
  for (int j = 0; j < d; ++j) q[j] += h * p[j];
  force(s, q, f);
  for (int j = 0; j < d; ++j) p[j] += 0.5 * h * f[j];
}

inline void step(System s, Method m, double* q, double* p, int d, double h) {
  double f[2];
  switch (m) {
    case Method::symplectic_euler:
      force(s, q, f);
      for (int j = 0; j < d; ++j) p[j] += h * f[j];
      for (int j = 0; j < d; ++j) q[j] += h * p[j];
      break;
    case Method::leapfrog:
      leapfrog(s, q, p, d, h);
      break;
    case Method::yoshida4: {
      // Yoshida (1990): w1 = 1 / (2 - 2^(1/3)), w0 = -2^(1/3) w1
      const double c = std::cbrt(2.0);
      const double w1 = 1.0 / (2.0 - c), w0 = -c * w1;
      leapfrog(s, q, p, d, w1 * h);
      leapfrog(s, q, p, d, w0 * h);
      leapfrog(s, q, p, d, w1 * h);
      break;
    }
    case Method::rk4: {
      double kq[4][2], kp[4][2], tq[2], tp[2];
      for (int stage = 0; stage < 4; ++stage) {
        const double a = (stage == 0) ? 0.0 : (stage == 3 ? 1.0 : 0.5);
        for (int j = 0; j < d; ++j) {
          tq[j] = q[j] + (stage ? a * h * kq[stage - 1][j] : 0.0);
          tp[j] = p[j] + (stage ? a * h * kp[stage - 1][j] : 0.0);
        }
        force(s, tq, f);
        for (int j = 0; j < d; ++j) {
          kq[stage][j] = tp[j];
          kp[stage][j] = f[j];
        }
      }
      for (int j = 0; j < d; ++j) {
        q[j] += h / 6.0 * (kq[0][j] + 2.0 * kq[1][j] + 2.0 * kq[2][j] + kq[3][j]);
        p[j] += h / 6.0 * (kp[0][j] + 2.0 * kp[1][j] + 2.0 * kp[2][j] + kp[3][j]);
      }
      break;
    }
  }
}

// Lorenz vector field and its Jacobian applied to three tangent vectors.
inline void lorenz_rhs(const double* x, const double* v, double sg, double rho, double be, double* dx, double* dv) {
  dx[0] = sg * (x[1] - x[0]);
  dx[1] = x[0] * (rho - x[2]) - x[1];
  dx[2] = x[0] * x[1] - be * x[2];
  for (int k = 0; k < 3; ++k) {
    const double* a = v + 3 * k;
    double* b = dv + 3 * k;
    b[0] = sg * (a[1] - a[0]);
    b[1] = (rho - x[2]) * a[0] - a[1] - x[0] * a[2];
    b[2] = x[1] * a[0] + x[0] * a[1] - be * a[2];
  }
}

}  // namespace

int system_dim(System s) { return s == System::henon_heiles ? 2 : 1; }

void energies(System s, const double* q, const double* p, long n, double* E) {
  const int d = system_dim(s);
  for (long i = 0; i < n; ++i) E[i] = energy_one(s, q + i * d, p + i * d, d);
}

void integrate(System s, Method m, double* q, double* p, long n, double dt, long steps, long record_every,
               double* E) {
  if (!(dt > 0) || !std::isfinite(dt)) throw std::invalid_argument("dynamics: dt must be finite and > 0");
  if (steps < 0 || record_every < 1) throw std::invalid_argument("dynamics: steps >= 0 and record_every >= 1");
  const int d = system_dim(s);
  const long nrec = steps / record_every + 1;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) {
    double* qi = q + i * d;
    double* pi = p + i * d;
    if (E) E[i * nrec] = energy_one(s, qi, pi, d);
    for (long t = 1; t <= steps; ++t) {
      step(s, m, qi, pi, d, dt);
      if (E && t % record_every == 0) E[i * nrec + t / record_every] = energy_one(s, qi, pi, d);
    }
  }
}

bool lorenz_lyapunov(const double* x0, double sg, double rho, double be, double dt, long steps, long renorm,
                     long transient, double* spectrum, core::StopPoll* poll) {
  if (!(dt > 0) || steps < 1 || renorm < 1 || transient < 0)
    throw std::invalid_argument("dynamics: lorenz_lyapunov needs dt > 0, steps >= 1, renorm >= 1, transient >= 0");
  double x[3] = {x0[0], x0[1], x0[2]};
  double v[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  double sum[3] = {0, 0, 0};
  double k1x[3], k2x[3], k3x[3], k4x[3], k1v[9], k2v[9], k3v[9], k4v[9], tx[3], tv[9];
  double elapsed = 0.0;
  for (long t = 0; t < transient + steps; ++t) {
    if (poll && (t & 1023) == 0 && poll->poll()) return false;
    lorenz_rhs(x, v, sg, rho, be, k1x, k1v);
    for (int j = 0; j < 3; ++j) tx[j] = x[j] + 0.5 * dt * k1x[j];
    for (int j = 0; j < 9; ++j) tv[j] = v[j] + 0.5 * dt * k1v[j];
    lorenz_rhs(tx, tv, sg, rho, be, k2x, k2v);
    for (int j = 0; j < 3; ++j) tx[j] = x[j] + 0.5 * dt * k2x[j];
    for (int j = 0; j < 9; ++j) tv[j] = v[j] + 0.5 * dt * k2v[j];
    lorenz_rhs(tx, tv, sg, rho, be, k3x, k3v);
    for (int j = 0; j < 3; ++j) tx[j] = x[j] + dt * k3x[j];
    for (int j = 0; j < 9; ++j) tv[j] = v[j] + dt * k3v[j];
    lorenz_rhs(tx, tv, sg, rho, be, k4x, k4v);
    for (int j = 0; j < 3; ++j) x[j] += dt / 6.0 * (k1x[j] + 2 * k2x[j] + 2 * k3x[j] + k4x[j]);
    for (int j = 0; j < 9; ++j) v[j] += dt / 6.0 * (k1v[j] + 2 * k2v[j] + 2 * k3v[j] + k4v[j]);
    if ((t + 1) % renorm == 0) {
      // Gram-Schmidt of the three tangent vectors; their growth factors give the exponents
      for (int k = 0; k < 3; ++k) {
        double* a = v + 3 * k;
        for (int l = 0; l < k; ++l) {
          const double* b = v + 3 * l;
          const double dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
          for (int j = 0; j < 3; ++j) a[j] -= dot * b[j];
        }
        const double nrm = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
        for (int j = 0; j < 3; ++j) a[j] /= nrm;
        if (t >= transient) sum[k] += std::log(nrm);
      }
      if (t >= transient) elapsed += renorm * dt;
    }
  }
  for (int k = 0; k < 3; ++k) spectrum[k] = elapsed > 0 ? sum[k] / elapsed : 0.0;
  return true;
}

void standard_map_lyapunov(const double* q0, const double* p0, long n, double K, long iterations, long transient,
                           double* out) {
  if (iterations < 1 || transient < 0) throw std::invalid_argument("dynamics: iterations >= 1, transient >= 0");
  const double two_pi = 6.283185307179586;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) {
    double q = q0[i], p = p0[i];
    double v[4] = {1, 0, 0, 1};  // two tangent vectors (dq, dp)
    double s1 = 0, s2 = 0;
    for (long t = 0; t < transient + iterations; ++t) {
      const double c = K * std::cos(q);
      p = p + K * std::sin(q);
      q = q + p;
      q -= two_pi * std::floor(q / two_pi);
      for (int k = 0; k < 2; ++k) {  // Jacobian [[1 + c, 1], [c, 1]] on (dq, dp)
        const double dq = v[2 * k], dp = v[2 * k + 1];
        const double ndp = dp + c * dq;
        v[2 * k] = dq + ndp;
        v[2 * k + 1] = ndp;
      }
      double n1 = std::hypot(v[0], v[1]);
      v[0] /= n1;
      v[1] /= n1;
      const double dot = v[2] * v[0] + v[3] * v[1];
      v[2] -= dot * v[0];
      v[3] -= dot * v[1];
      const double n2 = std::hypot(v[2], v[3]);
      v[2] /= n2;
      v[3] /= n2;
      if (t >= transient) {
        s1 += std::log(n1);
        s2 += std::log(n2);
      }
    }
    out[2 * i] = s1 / iterations;
    out[2 * i + 1] = s2 / iterations;
  }
}

void henon_heiles_lyapunov(const double* q0, const double* p0, long n, double dt, long steps, long renorm,
                           double* out) {
  if (!(dt > 0) || steps < 1 || renorm < 1) throw std::invalid_argument("dynamics: dt > 0, steps, renorm >= 1");
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) {
    double q[2] = {q0[2 * i], q0[2 * i + 1]}, p[2] = {p0[2 * i], p0[2 * i + 1]};
    double dq[2] = {1.0, 0.0}, dp[2] = {0.0, 0.0};
    double sum = 0.0;
    auto kick = [&](double h) {
      // force and its Jacobian -Hess V at q
      const double fx = -q[0] - 2.0 * q[0] * q[1], fy = -q[1] - q[0] * q[0] + q[1] * q[1];
      const double hxx = -(1.0 + 2.0 * q[1]), hxy = -2.0 * q[0], hyy = -(1.0 - 2.0 * q[1]);
      p[0] += h * fx;
      p[1] += h * fy;
      const double a = hxx * dq[0] + hxy * dq[1], b = hxy * dq[0] + hyy * dq[1];
      dp[0] += h * a;
      dp[1] += h * b;
    };
    for (long t = 1; t <= steps; ++t) {
      kick(0.5 * dt);
      q[0] += dt * p[0];
      q[1] += dt * p[1];
      dq[0] += dt * dp[0];
      dq[1] += dt * dp[1];
      kick(0.5 * dt);
      if (t % renorm == 0) {
        const double nrm = std::sqrt(dq[0] * dq[0] + dq[1] * dq[1] + dp[0] * dp[0] + dp[1] * dp[1]);
        sum += std::log(nrm);
        dq[0] /= nrm;
        dq[1] /= nrm;
        dp[0] /= nrm;
        dp[1] /= nrm;
      }
    }
    out[i] = sum / (static_cast<double>(steps / renorm * renorm) * dt);
  }
}

}  // namespace physdl::dynamics
