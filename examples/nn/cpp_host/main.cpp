// Training a physdl.nn network from a C++ host application, without Python.
//
// The core takes its matrix products from a Fortran-interface BLAS whose dgemm_/sgemm_ the host
// hands over once with physdl::nn::set_blas(); without it a plain loop is used.  Build with
//   cmake -S . -B build -DCMAKE_PREFIX_PATH=<physdl install prefix> [-DWITH_BLAS=ON] && cmake --build build
// (with WITH_BLAS the example links the system BLAS found by CMake's FindBLAS).
#include <cstdio>
#include <vector>

#include "physdl/nn/blas.hpp"
#include "physdl/nn/network.hpp"

#ifdef PHYSDL_EXAMPLE_WITH_BLAS
extern "C" {
void dgemm_(const char*, const char*, const int*, const int*, const int*, const double*, const double*, const int*,
            const double*, const int*, const double*, double*, const int*);
void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*, const float*, const int*,
            const float*, const int*, const float*, float*, const int*);
}
#endif

int main() {
#ifdef PHYSDL_EXAMPLE_WITH_BLAS
  physdl::nn::set_blas(&dgemm_, &sgemm_);
#endif
  using physdl::nn::Network;
  using physdl::nn::Optimizer;
  // XOR with a 2-8-1 tanh network: Dense(2, 8), Tanh, Dense(8, 1); loss mean squared error.
  Network<double> net({physdl::nn::kDense, physdl::nn::kTanh, physdl::nn::kDense}, {{2, 8}, {}, {8, 1}}, {2}, 4);
  // initial weights: any deterministic choice (the Python API draws them from Philox)
  double* p = net.params();
  for (long i = 0; i < net.num_params(); ++i) p[i] = 0.5 * (((i * 7919) % 13) / 6.0 - 1.0);
  Optimizer<double> adam(1, 0.05, 0.0, 0.9, 0.999, 1e-8, 0.0, 0.0, false, net.num_params());
  const std::vector<double> X = {0, 0, 0, 1, 1, 0, 1, 1}, y = {0, 1, 1, 0};
  double loss = 0.0;
  for (int step = 0; step < 6000; ++step)
    loss = net.train_step(X.data(), 4, physdl::nn::kMSE, y.data(), nullptr, adam);
  const double* out = net.forward(X.data(), 4);
  std::printf("loss %.2e; XOR outputs %.3f %.3f %.3f %.3f\n", loss, out[0], out[1], out[2], out[3]);
  return loss < 1e-3 ? 0 : 1;
}
