// The network: layer stack, forward pass, backpropagation (eq. 3.59-3.69), per-sample gradients,
// double backward.  Numba twin: python/physdl/nn/_numba/network.py.  The layer families live in
// dense.cpp, conv.cpp, recurrent.cpp, attention.cpp; losses in losses.cpp; optimizers in
// optimizer.cpp.
#include "physdl/nn/network.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

#include "physdl/nn/detail.hpp"

namespace physdl::nn {

using detail::fail;
using detail::grow;
using detail::prod;
using detail::shape_str;

namespace {

// True when every value is finite (exponent bits not all ones); vectorises as integer work.
bool all_finite(const float* x, long n) {
  std::uint32_t bad = 0;
  for (long i = 0; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, x + i, 4);
    bad |= static_cast<std::uint32_t>((u & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}
bool all_finite(const double* x, long n) {
  std::uint64_t bad = 0;
  for (long i = 0; i < n; ++i) {
    std::uint64_t u;
    std::memcpy(&u, x + i, 8);
    bad |= static_cast<std::uint64_t>((u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull);
  }
  return bad == 0;
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
template <class T>
std::map<int, LayerFactory<T>>& custom_kinds() {
  static std::map<int, LayerFactory<T>> m;
  return m;
}

template <class T>
std::unique_ptr<Layer<T>> make_layer(int kind, const std::vector<long>& s, const std::vector<long>& ishape) {
  if (auto l = detail::make_dense_family<T>(kind, s, ishape)) return l;
  if (auto l = detail::make_conv_family<T>(kind, s, ishape)) return l;
  if (auto l = detail::make_recurrent_family<T>(kind, s, ishape)) return l;
  if (auto l = detail::make_attention_family<T>(kind, s, ishape)) return l;
  LayerFactory<T> f;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = custom_kinds<T>().find(kind);
    if (it != custom_kinds<T>().end()) f = it->second;
  }
  if (!f) fail("unknown layer kind " + std::to_string(kind));
  auto l = f(s, ishape);
  if (!l) fail("the factory of layer kind " + std::to_string(kind) + " returned no layer");
  if (l->np < 0 || l->out_shape.empty()) fail("layer kind " + std::to_string(kind) + " set no output shape");
  l->finish();
  return l;
}

}  // namespace

template <class T>
void register_layer_kind(int kind, LayerFactory<T> factory) {
  if (kind < kFirstCustomKind)
    fail("custom layer kinds start at " + std::to_string(kFirstCustomKind) + ", got " + std::to_string(kind));
  if (!factory) fail("register_layer_kind needs a factory");
  std::lock_guard<std::mutex> lock(registry_mutex());
  custom_kinds<T>()[kind] = std::move(factory);
}
template void register_layer_kind<float>(int, LayerFactory<float>);
template void register_layer_kind<double>(int, LayerFactory<double>);

// ------------------------------------------------------------------ network
template <class T>
Network<T>::Network(const std::vector<int>& kinds, const std::vector<std::vector<long>>& settings,
                    const std::vector<long>& input_shape, long max_batch) {
  if (kinds.size() != settings.size()) fail("kinds and settings must have the same length");
  if (kinds.empty()) fail("a network needs at least one layer");
  for (long d : input_shape)
    if (d < 1) fail("input_shape entries must be >= 1, got " + shape_str(input_shape));
  in_shape_ = input_shape;
  in_size_ = prod(input_shape);
  std::vector<long> shape = input_shape;
  long off = 0;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    try {
      layers_.push_back(make_layer<T>(kinds[i], settings[i], shape));
    } catch (const std::invalid_argument& e) {
      fail("layer " + std::to_string(i) + ": " + e.what());
    }
    layers_.back()->poff = off;
    layers_.back()->kind = kinds[i];
    if (__builtin_add_overflow(off, layers_.back()->np, &off)) fail("the network has too many parameters");
    shape = layers_.back()->out_shape;
  }
  params_.assign(std::size_t(off), T(0));
  grads_.assign(std::size_t(off), T(0));
  acts_.resize(layers_.size());
  outs_.assign(layers_.size(), nullptr);
  reserve(std::max(1L, max_batch));
}

template <class T>
Network<T>::~Network() = default;

template <class T>
long Network<T>::output_size() const {
  return layers_.back()->out_size;
}
template <class T>
std::vector<long> Network<T>::output_shape() const {
  return layers_.back()->out_shape;
}
template <class T>
long Network<T>::param_offset(long i) const {
  return layers_.at(std::size_t(i))->poff;
}
template <class T>
long Network<T>::param_count(long i) const {
  return layers_.at(std::size_t(i))->np;
}
template <class T>
std::vector<long> Network<T>::layer_output_shape(long i) const {
  return layers_.at(std::size_t(i))->out_shape;
}
template <class T>
long Network<T>::label_count() const {
  return output_size() / output_shape().back();
}

template <class T>
void Network<T>::reserve(long n) {
  if (n <= cap_) return;
  long mx = in_size_;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->reserve(n);
    grow(acts_[i], std::size_t(n * layers_[i]->out_size));
    mx = std::max(mx, layers_[i]->out_size);
  }
  grow(gbuf_a_, std::size_t(n * mx));
  grow(gbuf_b_, std::size_t(n * mx));
  grow(dx0_, std::size_t(n * in_size_));
  cap_ = n;
}

template <class T>
const T* Network<T>::forward(const T* x, long n) {
  if (n < 1) fail("X must contain at least one sample");
  // NaN/inf in X: a leading Dense layer turns any non-finite input value into a non-finite value in
  // every output of that row, so when its output is smaller than X it is cheaper to scan the output
  // and rescan X only if something is found (an overflow from finite X is then not an error).
  const bool check_after = layers_[0]->kind == kDense && layers_[0]->out_size < in_size_;
  if (!check_after && !all_finite(x, n * in_size_)) fail("X must contain only finite values (found NaN or inf)");
  reserve(n);
  if (!sn_.empty()) sn_refresh();
  const T* in = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (!layers_[i]->view) {
      layers_[i]->forward(in, acts_[i].data(), n, P() + layers_[i]->poff);
      in = acts_[i].data();
    }
    outs_[i] = in;
    if (i == 0 && check_after && !all_finite(in, n * layers_[0]->out_size) && !all_finite(x, n * in_size_))
      fail("X must contain only finite values (found NaN or inf)");
  }
  fwd_x_ = x;
  fwd_n_ = n;
  passes_ = 0;
  return in;
}

template <class T>
double Network<T>::loss_and_gradients(const T* x, long n, int loss, const T* targets, const std::int64_t* labels,
                                      bool input_grad) {
  if (loss == kSoftmaxCE ? labels == nullptr : targets == nullptr) fail("y is missing for this loss");
  if (targets && !all_finite(targets, n * output_size())) fail("y must contain only finite values (found NaN or inf)");
  forward(x, n);
  const double L = detail::loss_and_grad<T>(loss, outs_.back(), n * output_size(), output_shape().back(), targets,
                                            labels, gbuf_a_.data());
  backprop(x, n, input_grad);
  return L;
}

template <class T>
void Network<T>::backprop(const T* x, long n, bool input_grad, bool param_grad) {
  ++passes_;
  T* dy = gbuf_a_.data();
  T* other = gbuf_b_.data();
  for (long i = long(layers_.size()) - 1; i >= 0; --i) {
    Layer<T>& l = *layers_[std::size_t(i)];
    if (l.view) {  // gradient passes through unchanged
      if (i == 0 && input_grad) std::copy(dy, dy + n * in_size_, dx0_.data());
      continue;
    }
    const T* xin = i == 0 ? x : outs_[std::size_t(i - 1)];
    T* dx = i > 0 ? other : (input_grad ? dx0_.data() : nullptr);
    if (i == 0 && !input_grad && !param_grad) break;
    T* g = param_grad || !l.skips_param_grad() ? grads_.data() + l.poff : nullptr;
    l.backward(xin, outs_[std::size_t(i)], dy, dx, n, P() + l.poff, g);
    std::swap(dy, other);
  }
  if (param_grad) sn_correct(grads_.data(), 1, 0);
}

template <class T>
void Network<T>::backward(const T* x, long n, const T* dy, bool input_grad) {
  if (!all_finite(dy, n * output_size())) fail("dY must contain only finite values (found NaN or inf)");
  forward(x, n);
  std::copy(dy, dy + n * output_size(), gbuf_a_.data());
  backprop(x, n, input_grad);
}

template <class T>
void Network<T>::per_sample_gradients(const T* x, long n, const T* dy, T* G) {
  if (!all_finite(dy, n * output_size())) fail("dY must contain only finite values (found NaN or inf)");
  const long np = num_params();
  forward(x, n);
  bool batched = true;
  for (auto& l : layers_)
    if (!l->view && l->np > 0 && !l->has_per_sample()) batched = false;
  if (batched) {
    std::copy(dy, dy + n * output_size(), gbuf_a_.data());
    T* d = gbuf_a_.data();
    T* other = gbuf_b_.data();
    for (long i = long(layers_.size()) - 1; i >= 0; --i) {
      Layer<T>& l = *layers_[std::size_t(i)];
      if (l.view) continue;
      const T* xin = i == 0 ? x : outs_[std::size_t(i - 1)];
      T* dx = i > 0 ? other : nullptr;
      if (l.np > 0)
        l.backward_per_sample(xin, outs_[std::size_t(i)], d, dx, n, P() + l.poff, G + l.poff, np);
      else
        l.backward(xin, outs_[std::size_t(i)], d, dx, n, P() + l.poff, grads_.data() + l.poff);
      std::swap(d, other);
    }
    sn_correct(G, n, np);
    return;
  }
  // some layer has no per-sample form: one sample at a time, in this call
  const long in = in_size_, out = output_size();
  for (long s = 0; s < n; ++s) {
    forward(x + s * in, 1);
    std::copy(dy + s * out, dy + (s + 1) * out, gbuf_a_.data());
    backprop(x + s * in, 1, false);
    std::copy(grads_.begin(), grads_.end(), G + s * np);
  }
  passes_ = -1;
}

template <class T>
void Network<T>::double_backward(const T* x, long n, const T* dy, const T* h) {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (!layers_[i]->view && !layers_[i]->has_tangent())
      fail("double_backward: layer " + std::to_string(i) + " (kind " + std::to_string(layers_[i]->kind) +
           ") has no second derivative here; supported are Dense, Conv2d, pooling and the element-wise layers other than Softmax");
  if (!all_finite(dy, n * output_size())) fail("dY must contain only finite values (found NaN or inf)");
  if (!all_finite(h, n * in_size_)) fail("H must contain only finite values (found NaN or inf)");
  forward(x, n);
  double_pass(x, n, dy, h);
}

template <class T>
void Network<T>::double_pass(const T* x, long n, const T* dy, const T* h) {
  ++passes_;
  tan_.resize(layers_.size());
  touts_.assign(layers_.size(), nullptr);
  long mx = in_size_;
  for (auto& l : layers_) mx = std::max(mx, l->out_size);
  grow(tbuf_a_, std::size_t(n * mx));
  grow(tbuf_b_, std::size_t(n * mx));
  // forward tangents along h
  const T* tin = h;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Layer<T>& l = *layers_[i];
    if (!l.view) {
      grow(tan_[i], std::size_t(n * l.out_size));
      const T* xin = i == 0 ? x : outs_[i - 1];
      l.forward_tangent(xin, outs_[i], tin, tan_[i].data(), n, P() + l.poff);
      tin = tan_[i].data();
    }
    touts_[i] = tin;
  }
  // backward pass and its tangent (the output gradient dy does not depend on x: its tangent is 0)
  T* d = gbuf_a_.data();
  T* dother = gbuf_b_.data();
  T* dd = tbuf_a_.data();
  T* ddother = tbuf_b_.data();
  std::copy(dy, dy + n * output_size(), d);
  std::fill(dd, dd + n * output_size(), T(0));
  for (long i = long(layers_.size()) - 1; i >= 0; --i) {
    Layer<T>& l = *layers_[std::size_t(i)];
    if (l.view) {
      if (i == 0) std::copy(d, d + n * in_size_, dx0_.data());
      continue;
    }
    const T* xin = i == 0 ? x : outs_[std::size_t(i - 1)];
    const T* xdin = i == 0 ? h : touts_[std::size_t(i - 1)];
    T* dx = i > 0 ? dother : dx0_.data();
    T* dxd = i > 0 ? ddother : nullptr;
    l.backward_tangent(xin, outs_[std::size_t(i)], xdin, d, dd, dx, dxd, n, P() + l.poff,
                       grads_.data() + l.poff);
    std::swap(d, dother);
    std::swap(dd, ddother);
  }
  sn_correct(grads_.data(), 1, 0);
}

template <class T>
void Network<T>::check_forward(const T* x, long n, const char* what) {
  if (passes_ < 0 || x != fwd_x_ || n != fwd_n_)
    fail(std::string(what) + ": no forward pass of these samples to continue from (call forward on the same X first)");
  if (passes_ > 0)
    for (std::size_t i = 0; i < layers_.size(); ++i)
      if (!layers_[i]->view && !layers_[i]->has_tangent())
        fail(std::string(what) + ": a second pass on one forward needs Dense, Conv2d, pooling or element-wise layers; layer " +
             std::to_string(i) + " (kind " + std::to_string(layers_[i]->kind) + ") is not");
}

template <class T>
void Network<T>::backward_from_forward(const T* x, long n, const T* dy, bool input_grad, bool param_grad) {
  check_forward(x, n, "backward_from_forward");
  if (!all_finite(dy, n * output_size())) fail("dY must contain only finite values (found NaN or inf)");
  std::copy(dy, dy + n * output_size(), gbuf_a_.data());
  backprop(x, n, input_grad, param_grad);
}

template <class T>
void Network<T>::double_backward_from_forward(const T* x, long n, const T* dy, const T* h) {
  check_forward(x, n, "double_backward_from_forward");
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (!layers_[i]->view && !layers_[i]->has_tangent())
      fail("double_backward: layer " + std::to_string(i) + " (kind " + std::to_string(layers_[i]->kind) +
           ") has no second derivative here; supported are Dense, Conv2d, pooling and the element-wise layers other than Softmax");
  if (!all_finite(dy, n * output_size())) fail("dY must contain only finite values (found NaN or inf)");
  if (!all_finite(h, n * in_size_)) fail("H must contain only finite values (found NaN or inf)");
  double_pass(x, n, dy, h);
}

// ------------------------------------------------------------------ spectral normalisation
template <class T>
typename Network<T>::SpectralNorm* Network<T>::find_sn(long layer) {
  for (auto& s : sn_)
    if (s.layer == layer) return &s;
  return nullptr;
}

template <class T>
void Network<T>::set_spectral_norm(long layer, double eps) {
  if (layer < 0 || layer >= num_layers()) fail("set_spectral_norm: no layer " + std::to_string(layer));
  if (!(eps > 0) || !std::isfinite(eps)) fail("set_spectral_norm: eps must be > 0");
  const Layer<T>& l = *layers_[std::size_t(layer)];
  long rows = 0;
  if (l.kind == kDense) rows = l.out_shape.back();
  else if (l.kind == kConv2d) rows = l.out_shape[0];
  else fail("spectral normalisation applies to Dense and Conv2d layers; layer " + std::to_string(layer) + " is kind " +
            std::to_string(l.kind));
  const long bias = rows, cols = (l.np - bias) / rows;
  if (find_sn(layer)) return;
  SpectralNorm s{layer, rows, cols, eps, std::vector<T>(std::size_t(rows), T(0)), std::vector<T>(std::size_t(cols), T(0)),
                 std::vector<T>(std::size_t(rows), T(0)), 1.0};
  s.u[0] = T(1);
  s.v[0] = T(1);
  sn_.push_back(std::move(s));
  eff_.assign(params_.size(), T(0));
  passes_ = -1;
}

template <class T>
bool Network<T>::spectral_norm(long layer) const {
  for (auto& s : sn_)
    if (s.layer == layer) return true;
  return false;
}

template <class T>
std::vector<T>& Network<T>::sn_u(long layer) {
  SpectralNorm* s = find_sn(layer);
  if (!s) fail("layer " + std::to_string(layer) + " is not spectrally normalised");
  return s->u;
}
template <class T>
std::vector<T>& Network<T>::sn_v(long layer) {
  SpectralNorm* s = find_sn(layer);
  if (!s) fail("layer " + std::to_string(layer) + " is not spectrally normalised");
  return s->v;
}

namespace {
template <class T>
void normalise(T* a, long m, double eps) {
  double s = 0;
  for (long i = 0; i < m; ++i) s += double(a[i]) * double(a[i]);
  const double d = std::max(std::sqrt(s), eps);
  for (long i = 0; i < m; ++i) a[i] = T(double(a[i]) / d);
}
}  // namespace

template <class T>
void Network<T>::power_iteration(long k) {
  if (k < 0) fail("power_iteration: k must be >= 0");
  for (auto& s : sn_) {
    const T* W = params_.data() + layers_[std::size_t(s.layer)]->poff;
    for (long it = 0; it < k; ++it) {
      for (long r = 0; r < s.rows; ++r) {  // u = W v / |W v|
        double a = 0;
        for (long c = 0; c < s.cols; ++c) a += double(W[r * s.cols + c]) * double(s.v[std::size_t(c)]);
        s.u[std::size_t(r)] = T(a);
      }
      normalise(s.u.data(), s.rows, s.eps);
      std::vector<double> acc(std::size_t(s.cols), 0.0);  // v = W^T u / |W^T u|
      for (long r = 0; r < s.rows; ++r) {
        const double ur = double(s.u[std::size_t(r)]);
        for (long c = 0; c < s.cols; ++c) acc[std::size_t(c)] += double(W[r * s.cols + c]) * ur;
      }
      for (long c = 0; c < s.cols; ++c) s.v[std::size_t(c)] = T(acc[std::size_t(c)]);
      normalise(s.v.data(), s.cols, s.eps);
    }
  }
  passes_ = -1;
}

template <class T>
double Network<T>::sn_sigma(long layer) {
  SpectralNorm* s = find_sn(layer);
  if (!s) fail("layer " + std::to_string(layer) + " is not spectrally normalised");
  sn_refresh();
  return s->sigma;
}

template <class T>
void Network<T>::sn_refresh() {
  std::copy(params_.begin(), params_.end(), eff_.begin());
  for (auto& s : sn_) {
    const long off = layers_[std::size_t(s.layer)]->poff;
    const T* W = params_.data() + off;
    double sigma = 0;
    for (long r = 0; r < s.rows; ++r) {
      double a = 0;
      for (long c = 0; c < s.cols; ++c) a += double(W[r * s.cols + c]) * double(s.v[std::size_t(c)]);
      sigma += double(s.u[std::size_t(r)]) * a;
    }
    if (!(sigma != 0) || !std::isfinite(sigma))
      fail("spectral normalisation of layer " + std::to_string(s.layer) + ": sigma = u^T W v is zero or not finite");
    s.sigma = sigma;
    T* E = eff_.data() + off;
    for (long i = 0; i < s.rows * s.cols; ++i) E[i] = T(double(W[i]) / sigma);
  }
}

template <class T>
void Network<T>::sn_correct(T* g, long count, long ld) {
  // dL/dW = G / sigma - (<G, W> / sigma^2) u v^T for G = dL/d(W / sigma)
  for (auto& s : sn_) {
    const long off = layers_[std::size_t(s.layer)]->poff;
    const T* W = params_.data() + off;
    for (long k = 0; k < count; ++k) {
      T* G = g + k * ld + off;
      double gw = 0;
      for (long i = 0; i < s.rows * s.cols; ++i) gw += double(G[i]) * double(W[i]);
      const double c = gw / (s.sigma * s.sigma);
      for (long r = 0; r < s.rows; ++r) {
        const double cu = c * double(s.u[std::size_t(r)]);
        for (long q = 0; q < s.cols; ++q)
          G[r * s.cols + q] = T(double(G[r * s.cols + q]) / s.sigma - cu * double(s.v[std::size_t(q)]));
      }
    }
  }
}

template <class T>
void Network<T>::apply_gradients(const T* g, Optimizer<T>& opt) {
  if (!all_finite(g, num_params())) fail("grads must contain only finite values (found NaN or inf)");
  std::copy(g, g + num_params(), grads_.data());
  last_norm_ = opt.step(params_.data(), grads_.data(), num_params());
  passes_ = -1;
}

template <class T>
double Network<T>::train_step(const T* x, long n, int loss, const T* targets, const std::int64_t* labels,
                              Optimizer<T>& opt) {
  if (!sn_.empty()) power_iteration(1);
  const double L = loss_and_gradients(x, n, loss, targets, labels, false);
  last_norm_ = opt.step(params_.data(), grads_.data(), num_params());
  passes_ = -1;
  return L;
}

template class Network<float>;
template class Network<double>;

}  // namespace physdl::nn
