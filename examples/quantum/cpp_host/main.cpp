// physdl::core from C++ without Python: the Heisenberg ring of 8 spins (Pauli units) as a compiled
// Pauli operator, the connected elements of the Neel state, the sparse matrix in the S^z = 0 sector
// by the two-pass CSR kernels, and the RBM local energy of a few configurations.
//
// Build: g++ -O2 -std=c++17 -fopenmp -I<physdl>/include main.cpp <physdl>/lib/libphysdl_core.a
// Prints lines that tests/quantum/test_cpp_host.py checks against the Python API.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "physdl/quantum/quantum.hpp"

namespace q = physdl::quantum;

int main() {
  const int n = 8;
  // H = sum_<ij> X_i X_j + Y_i Y_j + Z_i Z_j; Y_i Y_j = (i X_i Z_i)(i X_j Z_j) = -X^{ij} Z^{ij}
  q::PauliOperator op;
  op.n_sites = n;
  op.flips.push_back(0);
  op.offsets.push_back(0);
  for (int i = 0; i < n; ++i) {  // diagonal group: Z_i Z_j
    op.zmasks.push_back((1ull << i) | (1ull << ((i + 1) % n)));
    op.coef_re.push_back(1.0);
    op.coef_im.push_back(0.0);
  }
  op.offsets.push_back(long(op.zmasks.size()));
  for (int i = 0; i < n; ++i) {  // group with flip mask of bond (i, i+1): X X and -X X Z Z
    const std::uint64_t m = (1ull << i) | (1ull << ((i + 1) % n));
    op.flips.push_back(m);
    op.zmasks.push_back(0);
    op.coef_re.push_back(1.0);
    op.coef_im.push_back(0.0);
    op.zmasks.push_back(m);
    op.coef_re.push_back(-1.0);
    op.coef_im.push_back(0.0);
    op.offsets.push_back(long(op.zmasks.size()));
  }
  const std::uint64_t neel = 0x55;  // up on even sites
  const long G = op.n_groups();
  std::vector<std::uint64_t> conn(G);
  std::vector<double> re(G), im(G);
  std::int64_t count = 0;
  q::connected(op, &neel, 1, conn.data(), re.data(), im.data(), &count);
  std::printf("connected");
  for (long k = 0; k < count; ++k) std::printf(" %llu:%g", static_cast<unsigned long long>(conn[k]), re[k]);
  std::printf("\n");

  const auto basis = q::sector_states(n, n / 2);
  std::vector<std::int64_t> indptr(basis.size() + 1, 0);
  const long dropped = q::csr_count(op, basis.data(), long(basis.size()), n / 2, indptr.data() + 1);
  for (std::size_t r = 0; r < basis.size(); ++r) indptr[r + 1] += indptr[r];
  std::vector<std::int32_t> idx(indptr.back());
  std::vector<double> dre(idx.size()), dim(idx.size());
  q::csr_fill(op, basis.data(), long(basis.size()), n / 2, indptr.data(), idx.data(), dre.data(), dim.data());
  double trace = 0.0;
  for (std::size_t r = 0; r < basis.size(); ++r)
    for (auto k = indptr[r]; k < indptr[r + 1]; ++k)
      if (std::size_t(idx[k]) == r) trace += dre[k];
  std::printf("csr dim %zu nnz %lld dropped %ld trace %g\n", basis.size(), static_cast<long long>(indptr.back()),
              dropped, trace);

  // RBM with alpha = 1: a_i = 0.01 i, b_j = -0.02 j, W_ji = 0.05 sin(i + 2 j)-like deterministic values
  std::vector<double> a(n), b(n), w(n * n);
  for (int i = 0; i < n; ++i) a[i] = 0.01 * i;
  for (int j = 0; j < n; ++j) b[j] = -0.02 * j;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) w[j * n + i] = 0.05 * double((i + 2 * j) % 5 - 2);
  q::RBM r{n, n, a.data(), b.data(), w.data()};
  const std::uint64_t states[3] = {0x55, 0x0f, 0x33};
  double el[3];
  q::rbm_local_energy(r, op, 0x55, states, 3, el);
  std::printf("eloc %.15g %.15g %.15g\n", el[0], el[1], el[2]);
  return 0;
}
