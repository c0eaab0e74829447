// Optimizers: SGD (momentum, Nesterov) and Adam as torch.optim, with weight decay and clipping.
// Numba twin: python/physdl/nn/_numba/optimizers.py.
#include <cmath>

#include "physdl/nn/detail.hpp"
#include "physdl/nn/network.hpp"
#include "physdl/nn/vmath.hpp"

namespace physdl::nn {

using detail::fail;

// ------------------------------------------------------------------ optimizer
template <class T>
Optimizer<T>::Optimizer(int kind, double lr, double momentum, double beta1, double beta2, double eps,
                        double weight_decay, double clip_norm, bool nesterov, long nparams)
    : kind_(kind), lr_(lr), momentum_(momentum), beta1_(beta1), beta2_(beta2), eps_(eps), wd_(weight_decay),
      clip_(clip_norm), nesterov_(nesterov) {
  if (kind != kSGD && kind != kAdam) fail("optimizer kind must be kSGD or kAdam (layer_kinds.hpp)");
  if (nparams < 0) fail("nparams must be >= 0");
  m_.assign(std::size_t(nparams), T(0));
  if (kind == kAdam) v_.assign(std::size_t(nparams), T(0));
}

template <class T>
double Optimizer<T>::step(T* p, T* g, long np) {
  if (np != long(m_.size())) fail("optimizer was built for " + std::to_string(m_.size()) + " parameters, got " + std::to_string(np));
  // the global gradient norm is only needed for clipping
  const double norm = clip_ > 0.0 ? std::sqrt(vmath::sum_squares(g, np)) : -1.0;
  if (clip_ > 0.0) {  // as torch.nn.utils.clip_grad_norm_
    const double coef = clip_ / (norm + 1e-6);
    if (coef < 1.0) {
      const T c = T(coef);
      for (long i = 0; i < np; ++i) g[i] *= c;
    }
  }
  if (wd_ != 0.0) {
    const T wd = T(wd_);
    for (long i = 0; i < np; ++i) g[i] += wd * p[i];
  }
  ++t_;
  const T lr = T(lr_);
  if (kind_ == kSGD) {
    if (momentum_ == 0.0) {
      for (long i = 0; i < np; ++i) p[i] -= lr * g[i];
    } else {
      const T mu = T(momentum_);
      T* buf = m_.data();
      if (t_ == 1)
        for (long i = 0; i < np; ++i) buf[i] = g[i];
      else
        for (long i = 0; i < np; ++i) buf[i] = mu * buf[i] + g[i];
      if (nesterov_)
        for (long i = 0; i < np; ++i) p[i] -= lr * (g[i] + mu * buf[i]);
      else
        for (long i = 0; i < np; ++i) p[i] -= lr * buf[i];
    }
  } else {  // torch.optim.Adam (single-tensor path)
    const T b1 = T(beta1_), b2 = T(beta2_), omb1 = T(1.0 - beta1_), omb2 = T(1.0 - beta2_);
    const double bc1 = 1.0 - std::pow(beta1_, double(t_));
    const double bc2 = 1.0 - std::pow(beta2_, double(t_));
    const T step_size = T(lr_ / bc1);
    const T bc2s = T(std::sqrt(bc2));
    const T eps = T(eps_);
    vmath::adam_update(p, g, m_.data(), v_.data(), np, omb1, b2, omb2, step_size, bc2s, eps);
    (void)b1;
  }
  return norm;
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace physdl::nn
