// Spin-1/2 many-body kernels: Hilbert-space ranking, Pauli-string operators, RBM wave functions
// and Metropolis sampling of |psi|^2 (book ch. 11.1, eq. 11.3-11.5).
//
// A configuration of n <= 64 spins is a uint64 whose bit i is 1 when spin i points up
// (sigma^z_i = +1).  An operator is a sum of Pauli strings c X^x Z^z (x, z bit masks), grouped by
// the flip mask x: <s ^ x| c X^x Z^z |s> = c (-1)^popcount(z & ~s).  Groups are what the kernels
// loop over; the Python layer compiles, merges and checks the terms (Hermiticity).
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

namespace physdl::quantum {

/// An operator compiled into groups of terms with a common flip mask.
struct PauliOperator {
  int n_sites = 0;
  std::vector<std::uint64_t> flips;    // (G,) flip mask of each group
  std::vector<long> offsets;           // (G + 1,) terms of group g: [offsets[g], offsets[g+1])
  std::vector<std::uint64_t> zmasks;   // (T,)
  std::vector<double> coef_re, coef_im;  // (T,)
  long n_groups() const { return long(flips.size()); }
};

// ------------------------------------------------------------------ Hilbert space
/// Binomial table C(n, k) for n <= 64 (saturating is not needed below 2^63).
std::uint64_t binomial(int n, int k);
/// All states of n spins with n_up up spins in ascending order (n_up < 0: all 2^n states).
std::vector<std::uint64_t> sector_states(int n, int n_up);
/// Rank of each state in its sector (ascending order); -1 for a state outside the sector.
void rank_states(const std::uint64_t* states, long count, int n, int n_up, std::int64_t* ranks);

// ------------------------------------------------------------------ operators
/// Connected configurations and elements <s'|O|s> for each state; rows padded to n_groups,
/// zero elements dropped; counts[b] entries of row b are valid.
void connected(const PauliOperator& op, const std::uint64_t* states, long count, std::uint64_t* conn,
               double* mel_re, double* mel_im, std::int64_t* counts);
/// Nonzeros per row of the sparse matrix of op in the sector basis (ascending states); returns the
/// number of nonzero elements that leave the sector (0 when op conserves it).
long csr_count(const PauliOperator& op, const std::uint64_t* basis, long dim, int n_up, std::int64_t* row_nnz);
/// Fill the CSR arrays (indptr from csr_count's cumulative sums); columns sorted in each row.
void csr_fill(const PauliOperator& op, const std::uint64_t* basis, long dim, int n_up, const std::int64_t* indptr,
              std::int32_t* indices, double* data_re, double* data_im);

// ------------------------------------------------------------------ RBM (real parameters)
/// log psi(s) = sum_i a_i s_i + sum_j log(2 cosh theta_j), theta = b + W s (eq. 11.4).
struct RBM {
  int n = 0, m = 0;
  const double* a = nullptr;  // (n,)
  const double* b = nullptr;  // (m,)
  const double* w = nullptr;  // (m, n) row-major
};

/// log(2 cosh x), stable for large |x|.
inline double log2cosh(double x) {
  const double ax = x < 0 ? -x : x;
  return ax + std::log1p(std::exp(-2.0 * ax));
}

void rbm_theta(const RBM& r, const std::uint64_t* states, long count, double* theta);
void rbm_log_psi(const RBM& r, const std::uint64_t* states, long count, double* out);
/// d log psi / d (a, b, W): (count, n + m + m n), W in row-major (j, i) order.
void rbm_log_derivs(const RBM& r, const std::uint64_t* states, long count, double* out);
/// E_loc(s) = sum_s' <s|H|s'> sign(s') psi(s') / (sign(s) psi(s)); sign(s) = (-1)^popcount(s & sign_mask)
/// (the Marshall sign rule when sign_mask is one sublattice).  Needs a real operator.
void rbm_local_energy(const RBM& r, const PauliOperator& op, std::uint64_t sign_mask, const std::uint64_t* states,
                      long count, double* out);

/// Metropolis sampling of |psi|^2 with independent chains.  move 0: single flip of a uniform site;
/// move 1: exchange of the two spins of a uniform bond.  Chain c draws Philox block
/// (seed, stream0 + c, counter0 + t) for its move t; the hidden sums theta are updated on each
/// accepted move.  Takes n_discard moves then records a sample after every sweep moves.
/// states (chains,) in/out, samples (chains, n_samples), theta_out (chains, m), accepted (chains,).
void rbm_sample(const RBM& r, int move, const std::int64_t* bonds, long n_bonds, std::uint64_t* states, long chains,
                long n_samples, long sweep, long n_discard, std::uint64_t seed, std::uint64_t stream0,
                std::uint64_t counter0, std::uint64_t* samples, double* theta_out, std::int64_t* accepted);

/// One VMC step's sampling and estimators in a single call, on caller-owned buffers (plain C++ entry,
/// usable without Python).  The same chains as rbm_sample (same Philox blocks, same move rule), with
/// per-move tables: for every move (bond or site) and every spin pattern on its sites, cosh d, sinh d
/// and the hidden-sum change d, so a move's amplitude ratio is exp(da) prod_h (cosh d_h + tanh theta_h
/// sinh d_h) and an accepted move adds d to theta.  At every recorded sample, from the chain's live
/// theta (no recomputation): its local energy eloc[k] (connected configurations of op through the same
/// tables, sign rule as rbm_local_energy) and, when O is not null, its log-derivative row
/// O[k, :] = [s_i, tanh theta_j, tanh theta_j s_i] (P = n + m + m n).  Row k = c * n_samples + q.
void rbm_vmc_sample(const RBM& r, const PauliOperator& op, std::uint64_t sign_mask, int move,
                    const std::int64_t* bonds, long n_bonds, std::uint64_t* states, long chains, long n_samples,
                    long sweep, long n_discard, std::uint64_t seed, std::uint64_t stream0, std::uint64_t counter0,
                    std::uint64_t* samples, double* eloc, double* O, std::int64_t* accepted);

/// Local energies of given states with their hidden sums theta (count, m) supplied by the caller (for
/// instance from a sampler), through the same per-group tables as rbm_vmc_sample: no theta rebuild.
void rbm_local_energy_theta(const RBM& r, const PauliOperator& op, std::uint64_t sign_mask,
                            const std::uint64_t* states, const double* theta, long count, double* out);

// ------------------------------------------------------------------ RBM (complex parameters)
/// The RBM of eq. 11.4 with complex a, b, W: log psi is complex, |psi|^2 = exp(2 Re log psi).
using cplx = std::complex<double>;
struct RBMc {
  int n = 0, m = 0;
  const cplx* a = nullptr;  // (n,)
  const cplx* b = nullptr;  // (m,)
  const cplx* w = nullptr;  // (m, n) row-major
};

/// log(2 cosh z) on the branch continuous in z near the real axis (imaginary part not reduced mod 2 pi).
inline cplx log2cosh(cplx z) {
  const cplx s = z.real() < 0 ? -z : z;
  return s + std::log(1.0 + std::exp(-2.0 * s));
}

void rbmc_theta(const RBMc& r, const std::uint64_t* states, long count, cplx* theta);
void rbmc_log_psi(const RBMc& r, const std::uint64_t* states, long count, cplx* out);
/// d log psi / d (a, b, W) (holomorphic): (count, n + m + m n) = [s_i, tanh theta_j, tanh theta_j s_i].
void rbmc_log_derivs(const RBMc& r, const std::uint64_t* states, long count, cplx* out);
/// E_loc(s) = sum_s' <s|H|s'> sign(s') psi(s') / (sign(s) psi(s)), complex; <s|H|s'> = conj(<s'|H|s>)
/// (the operator is Hermitian), so complex operators are allowed.  theta rebuilt from s.
void rbmc_local_energy(const RBMc& r, const PauliOperator& op, std::uint64_t sign_mask,
                       const std::uint64_t* states, long count, cplx* out);
/// The fused VMC step of rbm_vmc_sample for a complex RBM: the same chains (same Philox blocks, same
/// move rule), acceptance |psi(s')/psi(s)|^2, theta updated by d on each accepted move and tanh theta
/// recomputed; local energies eloc and (O not null) rows O = [s_i, tanh theta_j, tanh theta_j s_i]
/// from the live theta; theta_out (chains, m) the final hidden sums of each chain (not null).
void rbmc_vmc_sample(const RBMc& r, const PauliOperator& op, std::uint64_t sign_mask, int move,
                     const std::int64_t* bonds, long n_bonds, std::uint64_t* states, long chains, long n_samples,
                     long sweep, long n_discard, std::uint64_t seed, std::uint64_t stream0, std::uint64_t counter0,
                     std::uint64_t* samples, cplx* eloc, cplx* O, std::int64_t* accepted, cplx* theta_out);

}  // namespace physdl::quantum
