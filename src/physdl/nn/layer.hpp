// The public layer interface of the nn engine: what every layer of a Network implements, and how
// a C++ host adds a layer kind of its own (examples/nn/cpp_host defines one).
//
// A layer sees per-sample shapes (no batch axis) and works on n samples stored one after the
// other.  Its parameters are a slice of the network's flat buffer (np values at offset poff, in
// the layout the layer documents); its parameter gradients go to the same slice of the gradient
// buffer.  Workspaces are sized in reserve(cap) for up to cap samples.  forward() may keep what
// backward() needs (backward is always called after the forward pass on the same samples).
//
// Optional capabilities (the defaults say "not provided" and the network falls back or refuses):
//  * backward_per_sample: parameter gradients of each sample separately (per-sample gradients);
//    without it the network runs the samples one at a time.
//  * forward_tangent / backward_tangent: forward-mode derivative of the forward and backward
//    passes (double backward, e.g. gradient penalties); without them double_backward refuses.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "physdl/nn/layer_kinds.hpp"

namespace physdl::nn {

template <class T>
struct Layer {
  std::vector<long> in_shape, out_shape;  // per sample; set by the constructor
  long in_size = 0, out_size = 0;         // products of the shapes (finish() computes them)
  long poff = 0, np = 0;                  // offset and number of parameters (np set by the constructor)
  int kind = -1;
  bool view = false;  // output is the input memory (Flatten): no work, no copy
  virtual ~Layer() = default;
  virtual void reserve(long /*cap*/) {}
  // y[n*out_size] from x[n*in_size] and parameters p[np].
  virtual void forward(const T* x, T* y, long n, const T* p) = 0;
  // dy: gradient of the objective w.r.t. y; writes parameter gradients into g (overwriting) and,
  // when dx is not null, the gradient w.r.t. x.
  virtual void backward(const T* x, const T* y, const T* dy, T* dx, long n, const T* p, T* g) = 0;
  // True when backward() accepts g == nullptr and then skips the parameter gradients (an
  // input-gradient-only pass); otherwise the network passes its gradient buffer as usual.
  virtual bool skips_param_grad() const { return false; }
  // True when backward_per_sample is provided (layers without parameters need not provide it).
  virtual bool has_per_sample() const { return false; }
  // As backward, but the parameter gradient of sample s goes to G + s * ldg (np values each).
  // Return false when not provided (nothing written).
  virtual bool backward_per_sample(const T* /*x*/, const T* /*y*/, const T* /*dy*/, T* /*dx*/, long /*n*/,
                                   const T* /*p*/, T* /*G*/, long /*ldg*/) {
    return false;
  }
  // Forward-mode derivative: yd = (dy/dx) xd, after forward() on the same x.
  virtual bool has_tangent() const { return false; }
  virtual void forward_tangent(const T* /*x*/, const T* /*y*/, const T* /*xd*/, T* /*yd*/, long /*n*/,
                               const T* /*p*/) {}
  // Forward-mode derivative of backward() along the input tangent xd (with dy's own tangent dyd):
  // writes dx (as backward), dxd = d(dx) and gd = d(parameter gradient) (overwriting).
  virtual void backward_tangent(const T* /*x*/, const T* /*y*/, const T* /*xd*/, const T* /*dy*/,
                                const T* /*dyd*/, T* /*dx*/, T* /*dxd*/, long /*n*/, const T* /*p*/,
                                T* /*gd*/) {}
  void finish() {
    in_size = 1;
    for (long d : in_shape) in_size *= d;
    out_size = 1;
    for (long d : out_shape) out_size *= d;
  }
};

// A factory builds a layer from its integer settings and per-sample input shape; it throws
// std::invalid_argument with a readable message when they do not fit.
template <class T>
using LayerFactory = std::function<std::unique_ptr<Layer<T>>(const std::vector<long>& settings,
                                                             const std::vector<long>& in_shape)>;

// Register a host-defined layer kind (kind >= kFirstCustomKind) for Network<T>; a Network built
// with that kind code then calls the factory.  Registering the same kind again replaces it.
template <class T>
void register_layer_kind(int kind, LayerFactory<T> factory);

}  // namespace physdl::nn
