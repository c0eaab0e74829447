// A whole feed-forward stack (book eq. 3.49-3.51) with fused forward, loss, backpropagation
// (eq. 3.59-3.69) and optimizer update in one call per minibatch.
//
// Layers are described by a kind code and a list of integer settings; the per-sample input
// shape of the first layer fixes every other shape.  All parameters live in one flat buffer
// (layer by layer, in the order documented for each kind), and so do their gradients, so an
// optimizer step is one loop.  Workspaces are sized for `max_batch` samples and only grow when a
// larger batch arrives.  Usable from C++ without Python once set_blas() has been called.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "physdl/nn/layer.hpp"
#include "physdl/nn/layer_kinds.hpp"

namespace physdl::nn {

// Layer kinds and their integer settings (per-sample shapes in brackets):
//  0 Dense        {in, out}                  [..., in] -> [..., out]; W[out,in], b[out]
//  1 Sigmoid, 2 Tanh, 3 ReLU, 4 Step, 7 Cube (x^3, eq. 3.85), 8 Flatten (identity on memory),
//  9 Softplus log(1 + e^x)
//  5 Softmax      {}                         over the last axis
//  6 HamiltonianReLU {nbits}                 sum_u sigmoid(z + 0.5 - u), eq. 3.40
// 10 Conv2d       {cin, cout, kh, kw, sh, sw, ph, pw, periodic}  [cin,H,W] -> [cout,OH,OW];
//                 W[cout,cin,kh,kw], b[cout]   (eq. 4.6-4.8)
// 11 ConvTranspose2d {cin, cout, kh, kw, sh, sw, ph, pw}  W[cin,cout,kh,kw], b[cout] (eq. 4.9)
// 12 MaxPool2d, 13 AvgPool2d {kh, kw, sh, sw}
// 20 RNN          {in, hidden, return_sequences}  [T,in] -> [T,hidden] or [hidden];
//                 Wx[H,in], Wh[H,H], b[H]  (eq. 4.13)
// 21 LSTM         {in, hidden, return_sequences}  Wx[4H,in], Wh[4H,H], b[4H], gates i,f,g,o (eq. 4.25-4.31)
// 22 Attention    {d_in, d_k, d_v}           [T,d_in] -> [T,d_v]; Wq[dk,d], Wk[dk,d], Wv[dv,d]
// The codes themselves come from the one table in layer_kinds.hpp (PHYSDL_NN_LAYER_KINDS).

// Optimizer settings and state (0 SGD with optional momentum/Nesterov, 1 Adam as torch.optim.Adam).
template <class T>
class Optimizer {
 public:
  Optimizer(int kind, double lr, double momentum, double beta1, double beta2, double eps,
            double weight_decay, double clip_norm, bool nesterov, long nparams);
  // One update of params from grads (grads are modified: clipped, weight decay added).
  // Returns the gradient norm before clipping (-1 when clipping is off: not computed).
  double step(T* params, T* grads, long nparams);
  void set_lr(double lr) { lr_ = lr; }
  long steps() const { return t_; }
  std::vector<T>& m() { return m_; }
  std::vector<T>& v() { return v_; }
  void set_steps(long t) { t_ = t; }

 private:
  int kind_;
  double lr_, momentum_, beta1_, beta2_, eps_, wd_, clip_;
  bool nesterov_;
  long t_ = 0;
  std::vector<T> m_, v_;
};

template <class T>
class Network {
 public:
  Network(const std::vector<int>& kinds, const std::vector<std::vector<long>>& settings,
          const std::vector<long>& input_shape, long max_batch);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  long num_params() const { return long(params_.size()); }
  T* params() { return params_.data(); }
  T* grads() { return grads_.data(); }
  long input_size() const { return in_size_; }
  long output_size() const;
  std::vector<long> output_shape() const;
  long num_layers() const { return long(layers_.size()); }
  long param_offset(long i) const;
  long param_count(long i) const;
  std::vector<long> layer_output_shape(long i) const;

  // Forward pass of n samples (x: n*input_size values); returns the output buffer (n*output_size).
  const T* forward(const T* x, long n);
  // Forward + loss + backward into grads(); targets: n*output_size values (mse/bce) or
  // labels: n*output_size/C integers (softmax_ce).  Returns the loss.  When input_grad is true the
  // gradient with respect to x is kept (input_grad_data()).
  double loss_and_gradients(const T* x, long n, int loss, const T* targets, const std::int64_t* labels,
                            bool input_grad);
  const T* input_grad_data() const { return dx0_.data(); }
  // loss_and_gradients followed by opt.step(); returns the loss.
  double train_step(const T* x, long n, int loss, const T* targets, const std::int64_t* labels,
                    Optimizer<T>& opt);
  double last_grad_norm() const { return last_norm_; }

  // Vector-Jacobian product: forward pass of n samples, then backpropagation of the caller's
  // output gradient dy (n*output_size values) into grads() and, when input_grad, into
  // input_grad_data().  grads() = sum_s d<dy_s, y_s>/dparams.
  void backward(const T* x, long n, const T* dy, bool input_grad);
  // Per-sample gradients: row s of G (n x num_params) is d<dy_s, y_s>/dparams for sample s alone
  // (for a scalar output and dy = 1 the gradient of the output itself).  Layers without
  // backward_per_sample are handled by running the samples one at a time inside this call.
  void per_sample_gradients(const T* x, long n, const T* dy, T* G);
  // Double backward: with g_s = d<dy_s, y_s>/dx_s (the input gradient, kept in input_grad_data()),
  // writes grads() = d/dparams sum_s <h_s, g_s>, by forward-mode differentiation of the backward
  // pass along the input direction h (n*input_size values).  For a scalar function phi(g), pass
  // h = dphi/dg to get dphi/dparams (chain rule).  Needs layers with tangents (Dense and the
  // element-wise layers other than Softmax); throws std::invalid_argument naming the layer otherwise.
  void double_backward(const T* x, long n, const T* dy, const T* h);
  // One-pass variants: backpropagation of dy (and the double backward along h) from the forward
  // pass just run by forward(x, n) on the same x and n (throws otherwise), so a caller that needs
  // the outputs to form dy runs the forward pass once.  param_grad false skips the parameter
  // gradients in the layers that allow it (grads() is then unspecified): an input-gradient-only
  // pass.  A second pass on one forward is allowed when every layer is Dense, Conv2d, pooling or
  // element-wise (their forward state survives a backward).
  void backward_from_forward(const T* x, long n, const T* dy, bool input_grad, bool param_grad);
  void double_backward_from_forward(const T* x, long n, const T* dy, const T* h);

  // Spectral normalisation (Miyato et al.) of layer i's weight (Dense W[out,in], Conv2d
  // W[cout, cin*kh*kw]), as torch.nn.utils.parametrizations.spectral_norm: the layer uses
  // W / sigma with sigma = u^T W v for the kept vectors u, v; params() hold the raw W, and the
  // parameter gradients are those of the raw W (through sigma, u and v held fixed).
  // power_iteration(k) runs k steps u = W v / |W v|, v = W^T u / |W^T u| (eps: the floor of the
  // norms); train_step runs one first (training mode), other calls leave u and v unchanged.
  void set_spectral_norm(long layer, double eps);
  bool spectral_norm(long layer) const;
  void power_iteration(long k);
  std::vector<T>& sn_u(long layer);
  std::vector<T>& sn_v(long layer);
  double sn_sigma(long layer);

  // One optimizer update from caller-supplied gradients g (num_params values; not modified).
  void apply_gradients(const T* g, Optimizer<T>& opt);
  // Number of label entries per sample for softmax_ce (output_size / last axis).
  long label_count() const;

 private:
  void reserve(long n);
  void backprop(const T* x, long n, bool input_grad, bool param_grad = true);  // from gbuf_a_
  void check_forward(const T* x, long n, const char* what);
  void double_pass(const T* x, long n, const T* dy, const T* h);
  struct SpectralNorm {
    long layer, rows, cols;
    double eps;
    std::vector<T> u, v, wv;
    double sigma;
  };
  SpectralNorm* find_sn(long layer);
  void sn_refresh();                      // eff_ = params_ with each normalised W divided by sigma
  void sn_correct(T* g, long count, long ld);  // gradients w.r.t. W/sigma -> w.r.t. W
  const T* P() const { return sn_.empty() ? params_.data() : eff_.data(); }
  std::vector<SpectralNorm> sn_;
  std::vector<T> eff_;
  const T* fwd_x_ = nullptr;
  long fwd_n_ = 0, passes_ = -1;  // passes_ < 0: no valid forward state
  bool reusable_ = false;

  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<long> in_shape_;
  long in_size_ = 0;
  long cap_ = 0;
  std::vector<T> params_, grads_;
  std::vector<std::vector<T>> acts_;  // output of each layer
  std::vector<const T*> outs_;        // where each layer's output lives (acts_ or, for views, its input)
  std::vector<T> gbuf_a_, gbuf_b_, dx0_;
  std::vector<std::vector<T>> tan_;  // forward tangents (double backward)
  std::vector<const T*> touts_;
  std::vector<T> tbuf_a_, tbuf_b_;
  double last_norm_ = 0.0;
};

extern template class Network<float>;
extern template class Network<double>;
extern template class Optimizer<float>;
extern template class Optimizer<double>;

// WGAN-GP penalty terms (book eq. 6.91) for input gradients g (n samples of m = 1 or 2 values): the
// norms ||g_s|| (double) and h = dphi/dg in T for phi = mean_s (||g_s|| - t)^2, zero where a norm is
// not positive.  Each value is the IEEE result of the same operations in the same order as the NumPy
// path (python/physdl/nn/model.py, _penalty_terms), bit for bit; the caller forms the mean itself.
template <class T>
void penalty_terms(const T* g, long n, long m, double t, double* norm, T* h);

}  // namespace physdl::nn
