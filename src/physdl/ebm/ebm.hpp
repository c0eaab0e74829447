// Chain kernels of the energy-based models (Hopfield networks, restricted Boltzmann machines,
// self-learning Monte Carlo on the plaquette Ising model).  Many chains at once, one OpenMP thread
// per chain; every random number is Philox(seed, stream0 + chain, counter) so results do not depend
// on the number of threads.  The Numba twins (python/physdl/{hopfield,boltzmann,slmc}/_numba.py)
// follow the same formulas, summation orders and addresses.
#pragma once

#include <cstdint>

namespace physdl::ebm {

// ---- Hopfield (book ch. 10) ----------------------------------------------------------------
// Fields are sums in four partial sums (j mod 4) combined as (s0 + s1) + (s2 + s3).
// Random sequential (asynchronous) updates S_i <- sgn(sum_j W_ij S_j) (eq. 10.5), each sweep a
// Philox Fisher-Yates permutation: word for step j of sweep t is lane (j & 3) of counter
// (t << 24) | (j >> 2).  tie_keep: sgn(0) keeps the spin (else -1, eq. 10.7).  A chain stops after
// a sweep without flips.  energy_sweep (m, max_sweeps + 1) holds E = -1/2 S.W.S (eq. 10.8) after
// each sweep (the last value repeated after convergence); energy_step (m, max_sweeps n + 1), when
// not null, after every single update.
void hopfield_async(const double* W, std::int64_t n, std::int8_t* S, std::int64_t m, std::int64_t max_sweeps,
                    bool tie_keep, std::uint64_t seed, std::uint64_t stream0, double* energy_sweep,
                    double* energy_step, std::int64_t* sweeps, std::int64_t* flips);

// The same updates with integer couplings: W = scale * Wint (Hebb's rule gives Wint_ij =
// sum_mu a_i a_j, scale = 1/N), int32 fields updated exactly (O(N) vectorised AXPY per flip, so
// ties sgn(0) are exact and the result does not depend on summation order); energies in double.
// Needs |field| < 2^31 (P N < 2^31).  Same permutations as hopfield_async.
void hopfield_async_int(const std::int16_t* W, double scale, std::int64_t n, std::int8_t* S, std::int64_t m,
                        std::int64_t max_sweeps, bool tie_keep, std::uint64_t seed, std::uint64_t stream0,
                        double* energy_sweep, double* energy_step, std::int64_t* sweeps, std::int64_t* flips);

// Synchronous updates S(t+1) = sgn(W S(t)) until S(t+1) == S(t) (period 1) or S(t+1) == S(t-1)
// (period 2) or max_steps; S ends as the last state, prev as the one before, period as 1, 2 or 0.
void hopfield_sync(const double* W, std::int64_t n, std::int8_t* S, std::int8_t* prev, std::int64_t m,
                   std::int64_t max_steps, bool tie_keep, std::int64_t* steps, std::int32_t* period);

// ---- restricted Boltzmann machine (eq. 6.11-6.24) -----------------------------------------
// k block-Gibbs steps h ~ P(h|v), v ~ P(v|h) for m chains of a machine with energy
// E = -b.v - c.h - v.W.h (W row-major nv x nh).  pm: units +-1 (P(u=+1) = sigmoid(2 a)), else
// {0,1} (P(u=1) = sigmoid(a)).  Half-step q = 2 (t0 + t) (hidden) or 2 (t0 + t) + 1 (visible);
// unit j uses u = w / 2^32 with w lane (j & 3) of counter (q << 24) | (j >> 2).
template <class T>
void rbm_gibbs(const T* W, const T* b, const T* c, std::int64_t nv, std::int64_t nh, bool pm, T* v, T* h,
               std::int64_t m, std::int64_t k, std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0);

// One training epoch (eq. 6.18-6.19) in one call, on caller-owned buffers (no allocation).
// W (nv, nh) row-major, b (nv), c (nh) are updated in place; data (n, nv) with the batch rows
// order[s B .. s B + B) for s < nbatch.  Per minibatch: the data phase E[h|v], k Gibbs steps of the
// chains (two products each; under PCD the data phase and the last step share the one product
// [V_data; V_model] W), then W += A^T G as one rank-(B + nc) product with the
// stacked A = [V_data; V_model] and G = [lr/B E_data; -lr/nc E_model], b += column sums of
// (lr/B V_data, -lr/nc V_model), c += column sums of G.  persistent: PCD-k with chains vchain (nc, nv)
// and hchain (nc, nh) (the chain's state is its hidden sample; each step draws v ~ P(v|h), then
// h ~ P(h|v)); else CD-k with nc == B, hchain as scratch, chains started at h ~ P(h|v_data).
// Random numbers: minibatch s uses half-steps q = 2 (t0 + s k) + i, i = 0 .. 2k - 1, in the order of
// the draws (PCD: v, h, v, h, ...; CD: h from the data, v, h, ..., v); unit j of row r draws
// w = lane (j & 3) of Philox(seed, stream0 + r, (q << 24) | (j >> 2)), u = (w >> 8) / 2^24 (float)
// or w / 2^32 (double), and is 1 when u < sigmoid(scale a) (scale 2 for +-1 units, which are -1
// otherwise), computed as u < 1 / (1 + e) where the expectation is also needed (the chains' hidden
// rows) and as u (1 + e) < 1 where only the sample is (e = exp(-scale a)).  The sigmoid uses a
// polynomial exp (about one unit in the last place); the rows run as scalar, AVX2 or AVX-512 code
// chosen once at load (PHYSDL_EBM_ISA=scalar|avx2 narrows it), with the same bits on every path.
// work holds rbm_epoch_workspace<T>(nv, nh, B, nc) elements.
template <class T>
std::int64_t rbm_epoch_workspace(std::int64_t nv, std::int64_t nh, std::int64_t B, std::int64_t nc);
template <class T>
void rbm_epoch(T* W, T* b, T* c, std::int64_t nv, std::int64_t nh, bool pm, const T* data, const std::int64_t* order,
               std::int64_t nbatch, std::int64_t B, bool persistent, std::int64_t k, T lr, T* vchain, T* hchain,
               std::int64_t nc, std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0, T* work);

// ---- plaquette Ising model and self-learning Monte Carlo (ch. 6 column, eq. 6.114) ----------
// E = -J sum_<ij> s_i s_j - K sum_plaquettes s_i s_j s_k s_l on n sites; nbr (n, 4) the nearest
// neighbours, plaq (n, 4, 3) the other three sites of the four plaquettes of each site.
struct Plaquette {
  std::int64_t n;
  const std::int32_t* nbr;
  const std::int32_t* plaq;
  double J, K;
};

// Typewriter Metropolis sweeps; the uniform of site i in sweep t0 + t is lanes 2 (i & 1), 2 (i & 1) + 1
// of counter ((t0 + t) << 24) | (i >> 1).  energy, mag (m, nsweeps) after each sweep.
void plaquette_metropolis(const Plaquette& p, std::int8_t* S, std::int64_t m, double beta, std::int64_t nsweeps,
                          std::uint64_t seed, std::uint64_t stream0, std::uint64_t t0, double* energy,
                          std::int64_t* mag, std::int64_t* accepted);

// Wolff clusters grown with the couplings Jc[col] >= 0 of the columns of cnbr (n, zc) (bond added with
// p = 1 - exp(-2 beta Jc)); nclusters clusters flipped in turn make one proposal (the cumulative update),
// accepted with min(1, exp(-beta (dE_exact - dE_cluster))) (eq. 6.114).
// Step t0 + t: first seed site and acceptance from counter (t << 24), lanes 0-1 and 2-3; draw a (bond
// attempts and the seeds of further clusters, in order) from counter (t << 24) | (1 + a / 2), lanes
// 2 (a & 1), 2 (a & 1) + 1.  energy, mag, csize (spins flipped in the proposal) (m, nsteps).
void slmc_wolff(const Plaquette& p, const std::int32_t* cnbr, std::int64_t zc, const double* Jc, std::int8_t* S,
                std::int64_t m, double beta, std::int64_t nsteps, std::int64_t nclusters, std::uint64_t seed,
                std::uint64_t stream0, std::uint64_t t0, double* energy, std::int64_t* mag, std::int64_t* csize,
                std::int64_t* accepted);

}  // namespace physdl::ebm
