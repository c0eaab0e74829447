// The nn entries of the C API (physdl/capi/capi.h, version 2): argument checks, then the engine's
// Network::forward / Network::train_step, the calls Sequential.predict and Sequential.train_step make.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "physdl/capi/capi.h"
#include "physdl/capi/handles.hpp"
#include "physdl/nn/layer_kinds.hpp"

namespace {
namespace nn = physdl::nn;

template <class T>
nn::Network<T>* net_of(physdl_nn_handle* h);
template <>
nn::Network<double>* net_of<double>(physdl_nn_handle* h) { return h->itemsize == 8 ? h->net64 : nullptr; }
template <>
nn::Network<float>* net_of<float>(physdl_nn_handle* h) { return h->itemsize == 4 ? h->net32 : nullptr; }
template <class T>
nn::Optimizer<T>* opt_of(physdl_nn_handle* h);
template <>
nn::Optimizer<double>* opt_of<double>(physdl_nn_handle* h) { return h->opt64; }
template <>
nn::Optimizer<float>* opt_of<float>(physdl_nn_handle* h) { return h->opt32; }

// n * per fits, and the buffer of len elements holds it.
int check_buf(const void* p, std::size_t len, std::int64_t n, long per) {
  if (p == nullptr) return PHYSDL_ERR_NULL;
  if (per < 1 || n > std::numeric_limits<std::int64_t>::max() / per) return PHYSDL_ERR_SIZE;
  if (static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(per) > len) return PHYSDL_ERR_SHORT;
  return PHYSDL_OK;
}

template <class F>
int guarded_nn(F&& f) {
  try {
    f();
    return PHYSDL_OK;
  } catch (const std::invalid_argument&) {  // the engine's checks: non-finite X or y, bad labels
    return PHYSDL_ERR_VALUE;
  } catch (...) {
    return PHYSDL_ERR_INTERNAL;
  }
}

template <class T>
int forward(physdl_nn_handle* h, const T* x, std::size_t x_len, std::int64_t n, T* out, std::size_t out_len) {
  if (h == nullptr) return PHYSDL_ERR_NULL;
  nn::Network<T>* net = net_of<T>(h);
  if (net == nullptr) return PHYSDL_ERR_TYPE;
  if (n < 1) return PHYSDL_ERR_SIZE;
  if (int rc = check_buf(x, x_len, n, net->input_size())) return rc;
  if (int rc = check_buf(out, out_len, n, net->output_size())) return rc;
  return guarded_nn([&] {
    const T* y = net->forward(x, long(n));
    std::copy(y, y + n * net->output_size(), out);
  });
}

template <class T>
int train_step(physdl_nn_handle* h, const T* x, std::size_t x_len, std::int64_t n, int loss, const T* targets,
               std::size_t targets_len, const std::int64_t* labels, std::size_t labels_len, double* loss_out) {
  if (h == nullptr) return PHYSDL_ERR_NULL;
  nn::Network<T>* net = net_of<T>(h);
  if (net == nullptr) return PHYSDL_ERR_TYPE;
  nn::Optimizer<T>* opt = opt_of<T>(h);
  if (opt == nullptr) return PHYSDL_ERR_NULL;  // a handle taken without an optimizer
  if (loss < PHYSDL_NN_MSE || loss > PHYSDL_NN_SOFTMAX_CE) return PHYSDL_ERR_ENUM;
  if (n < 1) return PHYSDL_ERR_SIZE;
  if (int rc = check_buf(x, x_len, n, net->input_size())) return rc;
  if (loss == PHYSDL_NN_SOFTMAX_CE) {
    if (int rc = check_buf(labels, labels_len, n, net->label_count())) return rc;
    targets = nullptr;
  } else {
    if (int rc = check_buf(targets, targets_len, n, net->output_size())) return rc;
    labels = nullptr;
  }
  double L = 0;
  const int rc = guarded_nn([&] { L = net->train_step(x, long(n), loss, targets, labels, *opt); });
  if (rc == PHYSDL_OK && loss_out) *loss_out = L;
  return rc;
}
}  // namespace

extern "C" {

int physdl_nn_sizes(const physdl_nn_handle* h, int* itemsize, std::int64_t* input_size, std::int64_t* output_size,
                    std::int64_t* label_count, std::int64_t* num_params, int* has_optimizer) {
  if (h == nullptr) return PHYSDL_ERR_NULL;
  long in = 0, out = 0, lab = 0, np = 0;
  bool opt = false;
  if (h->itemsize == 8 && h->net64) {
    in = h->net64->input_size(), out = h->net64->output_size(), lab = h->net64->label_count();
    np = h->net64->num_params(), opt = h->opt64 != nullptr;
  } else if (h->itemsize == 4 && h->net32) {
    in = h->net32->input_size(), out = h->net32->output_size(), lab = h->net32->label_count();
    np = h->net32->num_params(), opt = h->opt32 != nullptr;
  } else {
    return PHYSDL_ERR_TYPE;
  }
  if (itemsize) *itemsize = h->itemsize;
  if (input_size) *input_size = in;
  if (output_size) *output_size = out;
  if (label_count) *label_count = lab;
  if (num_params) *num_params = np;
  if (has_optimizer) *has_optimizer = opt ? 1 : 0;
  return PHYSDL_OK;
}

int physdl_nn_forward_f64(physdl_nn_handle* h, const double* x, std::size_t x_len, std::int64_t n, double* out,
                          std::size_t out_len) {
  return forward<double>(h, x, x_len, n, out, out_len);
}
int physdl_nn_forward_f32(physdl_nn_handle* h, const float* x, std::size_t x_len, std::int64_t n, float* out,
                          std::size_t out_len) {
  return forward<float>(h, x, x_len, n, out, out_len);
}
int physdl_nn_train_step_f64(physdl_nn_handle* h, const double* x, std::size_t x_len, std::int64_t n, int loss,
                             const double* targets, std::size_t targets_len, const std::int64_t* labels,
                             std::size_t labels_len, double* loss_out) {
  return train_step<double>(h, x, x_len, n, loss, targets, targets_len, labels, labels_len, loss_out);
}
int physdl_nn_train_step_f32(physdl_nn_handle* h, const float* x, std::size_t x_len, std::int64_t n, int loss,
                             const float* targets, std::size_t targets_len, const std::int64_t* labels,
                             std::size_t labels_len, double* loss_out) {
  return train_step<float>(h, x, x_len, n, loss, targets, targets_len, labels, labels_len, loss_out);
}

}  // extern "C"

static_assert(PHYSDL_NN_MSE == physdl::nn::kMSE && PHYSDL_NN_BCE == physdl::nn::kBCE &&
                  PHYSDL_NN_BCE_LOGITS == physdl::nn::kBCELogits && PHYSDL_NN_SOFTMAX_CE == physdl::nn::kSoftmaxCE,
              "the C API loss codes follow physdl/nn/layer_kinds.hpp");
