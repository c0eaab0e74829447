// Integrators of Hamiltonian systems H = p^2 / 2 + V(q) and Lyapunov exponents (book ch. 9).
//
// Systems (V per degree of freedom, or the named 2-d potential):
//   harmonic      V = q^2 / 2
//   pendulum      V = 1 - cos q                 (H = p^2/2m - G(q), G = cos q - 1, eq. 9.30 with m = 1)
//   double_well   V = q^4 / 4 - q^2 / 2         (the anharmonic oscillator)
//   henon_heiles  V = (x^2 + y^2) / 2 + x^2 y - y^3 / 3   (dim = 2)
// Methods: symplectic Euler (p then q), Stormer-Verlet (leapfrog, kick-drift-kick), Yoshida's
// 4th-order composition of leapfrog steps, and classical RK4 (not symplectic, for contrast).
#pragma once

#include "physdl/core/stop_poll.hpp"

#include <cstdint>

namespace physdl::dynamics {

enum class System : int { harmonic = 0, pendulum = 1, double_well = 2, henon_heiles = 3 };
enum class Method : int { symplectic_euler = 0, leapfrog = 1, yoshida4 = 2, rk4 = 3 };

int system_dim(System s);

// Energy of n states q, p [n, dim].
void energies(System s, const double* q, const double* p, long n, double* E);

// Advance n states in place by `steps` steps of size dt; every `record_every` steps (and at the start)
// the energy is written to E[n, steps / record_every + 1] when E is not null.
void integrate(System s, Method m, double* q, double* p, long n, double dt, long steps, long record_every,
               double* E);

// Lyapunov spectrum of the Lorenz flow (sigma, rho, beta) by Benettin's method: RK4 for the flow and
// its tangent map, Gram-Schmidt re-orthonormalisation every `renorm` steps, `transient` steps skipped.
// `poll` (optional) is asked every 1024 steps; once it says stop, the call returns false at once and
// leaves `spectrum` unwritten (the run has no other state).  Returns true when the run finished.
bool lorenz_lyapunov(const double* x0, double sigma, double rho, double beta, double dt, long steps, long renorm,
                     long transient, double* spectrum /*3*/, core::StopPoll* poll = nullptr);

// Largest and second Lyapunov exponents of Chirikov's standard map p' = p + K sin q, q' = q + p'
// (per iteration), for n initial points: out[n, 2].
void standard_map_lyapunov(const double* q0, const double* p0, long n, double K, long iterations, long transient,
                           double* out);

// Largest Lyapunov exponent of Henon-Heiles orbits from n initial states q, p [n, 2]: leapfrog steps of
// the flow and of its tangent map (the same symplectic map linearised), one tangent vector renormalised
// every `renorm` steps; out[n].
void henon_heiles_lyapunov(const double* q0, const double* p0, long n, double dt, long steps, long renorm,
                           double* out);

}  // namespace physdl::dynamics
