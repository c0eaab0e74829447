// Training a physdl.nn network from a C++ host application, without Python.
//
// The core takes its matrix products from a Fortran-interface BLAS whose dgemm_/sgemm_ the host
// hands over once with physdl::nn::set_blas(); without it a plain loop is used.  Build with
//   cmake -S . -B build -DCMAKE_PREFIX_PATH=<physdl install prefix> [-DWITH_BLAS=ON] && cmake --build build
// (with WITH_BLAS the example links the system BLAS found by CMake's FindBLAS).
//
// It also defines a layer of its own through the public interface physdl/nn/layer.hpp: a scaled
// tanh y = a * tanh(x / a) with one trainable scale a, registered as a custom kind, trained inside
// the same network, and checked against finite differences (backward and double backward).
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "physdl/nn/blas.hpp"
#include "physdl/nn/layer.hpp"
#include "physdl/nn/network.hpp"

namespace {

// y = a tanh(x / a), one parameter a (the layer's np = 1).
struct ScaledTanh : physdl::nn::Layer<double> {
  explicit ScaledTanh(const std::vector<long>& in) {
    in_shape = in;
    out_shape = in;
    np = 1;
    finish();
  }
  void forward(const double* x, double* y, long n, const double* p) override {
    for (long i = 0; i < n * in_size; ++i) y[i] = p[0] * std::tanh(x[i] / p[0]);
  }
  void backward(const double* x, const double* y, const double* dy, double* dx, long n, const double* p,
                double* g) override {
    const double a = p[0];
    g[0] = 0.0;
    for (long i = 0; i < n * in_size; ++i) {
      const double t = y[i] / a, s = 1.0 - t * t;  // d y / d x = 1 - tanh^2
      g[0] += dy[i] * (t - x[i] / a * s);          // d y / d a
      if (dx) dx[i] = dy[i] * s;
    }
  }
};

constexpr int kScaledTanh = physdl::nn::kFirstCustomKind;

}  // namespace

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
  physdl::nn::register_layer_kind<double>(kScaledTanh, [](const std::vector<long>&, const std::vector<long>& in) {
    return std::unique_ptr<physdl::nn::Layer<double>>(new ScaledTanh(in));
  });
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
  if (loss >= 1e-3) return 1;

  // The custom layer inside a network: Dense(2, 4), ScaledTanh, Dense(4, 1).  Its gradient from
  // backward() (a caller-supplied output gradient, here dL/dy = 1) against central differences.
  Network<double> host({physdl::nn::kDense, kScaledTanh, physdl::nn::kDense}, {{2, 4}, {}, {4, 1}}, {2}, 4);
  double* q = host.params();
  for (long i = 0; i < host.num_params(); ++i) q[i] = 0.3 * (((i * 31) % 7) / 3.0 - 1.0);
  q[host.param_offset(1)] = 1.5;  // the scale a
  const std::vector<double> ones(4, 1.0);
  host.backward(X.data(), 4, ones.data(), false);
  std::vector<double> g(host.grads(), host.grads() + host.num_params());
  auto total = [&]() {
    const double* o = host.forward(X.data(), 4);
    return o[0] + o[1] + o[2] + o[3];
  };
  double worst = 0.0;
  for (long i = 0; i < host.num_params(); ++i) {
    const double old = q[i], h = 1e-6;
    q[i] = old + h;
    const double up = total();
    q[i] = old - h;
    const double down = total();
    q[i] = old;
    worst = std::fmax(worst, std::fabs((up - down) / (2 * h) - g[std::size_t(i)]));
  }
  // per-sample gradients of the same stack: the engine runs the custom layer one sample at a time
  std::vector<double> G(std::size_t(4 * host.num_params()));
  host.per_sample_gradients(X.data(), 4, ones.data(), G.data());
  double sum_err = 0.0;
  for (long i = 0; i < host.num_params(); ++i) {
    double s = 0.0;
    for (int r = 0; r < 4; ++r) s += G[std::size_t(r * host.num_params() + i)];
    sum_err = std::fmax(sum_err, std::fabs(s - g[std::size_t(i)]));
  }
  std::printf("custom layer: max gradient error %.2e, per-sample sum error %.2e\n", worst, sum_err);
  return (worst < 1e-7 && sum_err < 1e-12) ? 0 : 1;
}
