// Tensor-network expression execution in the C API (physdl/capi/capi.h, version 3): the compiled
// Program of a physdl.tensornet.Expression run on caller-owned C-contiguous operands, as
// Expression.__call__ runs it (one sample, serial).
#include <complex>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "physdl/capi/capi.h"
#include "physdl/capi/handles.hpp"

namespace {
namespace tn = physdl::tensornet;

// Elements of a shape, or -1 on overflow.
std::int64_t elements(const std::vector<long>& shape) {
  std::int64_t n = 1;
  for (long d : shape) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<std::int64_t>::max() / d)) return -1;
    n *= d;
  }
  return n;
}

template <class T, class P>
int execute(const physdl_tn_program* h, const P* const* inputs, const size_t* input_lens, int n_inputs, P* out,
            size_t out_len) {
  if (h == nullptr || h->prog == nullptr) return PHYSDL_ERR_NULL;
  const tn::Program& prog = *h->prog;
  if (n_inputs != prog.n_inputs()) return PHYSDL_ERR_SIZE;
  if (n_inputs > 0 && (inputs == nullptr || input_lens == nullptr)) return PHYSDL_ERR_NULL;
  std::vector<tn::InputView<T>> views(static_cast<std::size_t>(n_inputs));
  for (int i = 0; i < n_inputs; ++i) {
    const auto& shape = prog.slot_shape(i);
    const std::int64_t need = elements(shape);
    if (need < 0) return PHYSDL_ERR_SIZE;
    if (need > 0 && inputs[i] == nullptr) return PHYSDL_ERR_NULL;
    if (static_cast<std::uint64_t>(need) > input_lens[i]) return PHYSDL_ERR_SHORT;
    auto& v = views[std::size_t(i)];
    v.base = reinterpret_cast<const T*>(inputs[i]);
    v.strides.assign(shape.size(), 1);  // C order
    for (std::size_t ax = shape.size(); ax-- > 1;) v.strides[ax - 1] = v.strides[ax] * shape[ax];
  }
  const std::int64_t nout = elements(prog.out_shape());
  if (nout < 0) return PHYSDL_ERR_SIZE;
  if (nout > 0 && out == nullptr) return PHYSDL_ERR_NULL;
  if (static_cast<std::uint64_t>(nout) > out_len) return PHYSDL_ERR_SHORT;
  try {
    tn::execute<T>(prog, views, 1, reinterpret_cast<T*>(out), false);
    return PHYSDL_OK;
  } catch (const std::invalid_argument&) {
    return PHYSDL_ERR_VALUE;
  } catch (const std::out_of_range&) {
    return PHYSDL_ERR_VALUE;
  } catch (...) {
    return PHYSDL_ERR_INTERNAL;
  }
}
}  // namespace

extern "C" {

int physdl_tn_sizes(const physdl_tn_program* h, int* n_inputs, int64_t* out_size) {
  if (h == nullptr || h->prog == nullptr) return PHYSDL_ERR_NULL;
  if (n_inputs) *n_inputs = h->prog->n_inputs();
  if (out_size) *out_size = elements(h->prog->out_shape());
  return PHYSDL_OK;
}

int physdl_tn_input_size(const physdl_tn_program* h, int i, int64_t* size) {
  if (h == nullptr || h->prog == nullptr || size == nullptr) return PHYSDL_ERR_NULL;
  if (i < 0 || i >= h->prog->n_inputs()) return PHYSDL_ERR_SIZE;
  *size = elements(h->prog->slot_shape(i));
  return PHYSDL_OK;
}

int physdl_tn_execute_f64(const physdl_tn_program* h, const double* const* inputs, const size_t* input_lens,
                          int n_inputs, double* out, size_t out_len) {
  return execute<double, double>(h, inputs, input_lens, n_inputs, out, out_len);
}

int physdl_tn_execute_f32(const physdl_tn_program* h, const float* const* inputs, const size_t* input_lens,
                          int n_inputs, float* out, size_t out_len) {
  return execute<float, float>(h, inputs, input_lens, n_inputs, out, out_len);
}

}  // extern "C"
