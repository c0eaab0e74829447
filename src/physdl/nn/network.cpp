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
  const T* in = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (!layers_[i]->view) {
      layers_[i]->forward(in, acts_[i].data(), n, params_.data() + layers_[i]->poff);
      in = acts_[i].data();
    }
    outs_[i] = in;
    if (i == 0 && check_after && !all_finite(in, n * layers_[0]->out_size) && !all_finite(x, n * in_size_))
      fail("X must contain only finite values (found NaN or inf)");
  }
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
void Network<T>::backprop(const T* x, long n, bool input_grad) {
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
    l.backward(xin, outs_[std::size_t(i)], dy, dx, n, params_.data() + l.poff, grads_.data() + l.poff);
    std::swap(dy, other);
  }
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
        l.backward_per_sample(xin, outs_[std::size_t(i)], d, dx, n, params_.data() + l.poff, G + l.poff, np);
      else
        l.backward(xin, outs_[std::size_t(i)], d, dx, n, params_.data() + l.poff, grads_.data() + l.poff);
      std::swap(d, other);
    }
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
      l.forward_tangent(xin, outs_[i], tin, tan_[i].data(), n, params_.data() + l.poff);
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
    l.backward_tangent(xin, outs_[std::size_t(i)], xdin, d, dd, dx, dxd, n, params_.data() + l.poff,
                       grads_.data() + l.poff);
    std::swap(d, dother);
    std::swap(dd, ddother);
  }
}

template <class T>
void Network<T>::apply_gradients(const T* g, Optimizer<T>& opt) {
  std::copy(g, g + num_params(), grads_.data());
  last_norm_ = opt.step(params_.data(), grads_.data(), num_params());
}

template <class T>
double Network<T>::train_step(const T* x, long n, int loss, const T* targets, const std::int64_t* labels,
                              Optimizer<T>& opt) {
  const double L = loss_and_gradients(x, n, loss, targets, labels, false);
  last_norm_ = opt.step(params_.data(), grads_.data(), num_params());
  return L;
}

template class Network<float>;
template class Network<double>;

}  // namespace physdl::nn
