// A C++ host contracts a tensor network with physdl::core, without Python: the trace of a ring of
// three matrices, tr(A B C), planned by hand as two pairwise steps, then the same ring for a batch
// of per-sample A's.  Prints the numbers; tests/tensornet/test_cpp_host.py compares them with NumPy.
#include <cstdio>
#include <vector>

#include "physdl/tensornet/contract.hpp"

namespace tn = physdl::tensornet;

int main() {
  const long n = 3;
  std::vector<double> A(n * n), B(n * n), C(n * n);
  for (long i = 0; i < n * n; ++i) {
    A[i] = 0.5 + i;
    B[i] = 1.0 - 0.25 * i;
    C[i] = (i % 2 ? -1.0 : 2.0) + 0.1 * i;
  }
  // tensors: A[a,b], B[b,c], C[c,a].  step 0: T[a,c] = A[a,b] B[b,c]  (rows a, contracted b, cols c)
  // step 1: t = sum_{a,c} T[a,c] C[c,a]  (batch none, rows none, contracted (a,c), cols none)
  tn::OperandSpec a0{0, {}, {{0}}, {{1}}, {}};
  tn::OperandSpec b0{1, {}, {{0}}, {{1}}, {}};
  tn::OperandSpec a1{3, {}, {}, {{0}, {1}}, {}};
  tn::OperandSpec b1{2, {}, {{1}, {0}}, {}, {}};
  tn::OperandSpec fin{4, {}, {}, {}, {}};
  tn::Program prog(3, {{n, n}, {n, n}, {n, n}, {n, n}, {}}, {tn::StepSpec{a0, b0}, tn::StepSpec{a1, b1}}, fin);
  std::vector<tn::InputView<double>> in(3);
  in[0].base = A.data();
  in[1].base = B.data();
  in[2].base = C.data();
  for (auto& v : in) v.strides = {n, 1};
  double trace = 0;
  tn::execute<double>(prog, in, 1, &trace);
  std::printf("trace %.12g\n", trace);
  // batch: sample s uses A * (s + 1)
  const long S = 4;
  std::vector<double> As(S * n * n);
  for (long s = 0; s < S; ++s)
    for (long i = 0; i < n * n; ++i) As[s * n * n + i] = A[i] * double(s + 1);
  in[0].base = As.data();
  in[0].sample_stride = n * n;
  std::vector<double> out(S);
  tn::execute<double>(prog, in, S, out.data());
  std::printf("batch");
  for (double v : out) std::printf(" %.12g", v);
  std::printf("\n");
  return 0;
}
