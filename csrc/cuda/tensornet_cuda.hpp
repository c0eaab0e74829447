// Host-side interface of the CUDA tensor-network executor (plain C++ types only).
//
// The same physdl::tensornet::Program as the CPU core, run on the device for n_samples samples:
// every operand is gathered (permute / diagonal / sum, slices of one-hot legs by per-sample index)
// into (batch, rows, cols) form by one kernel, and every step is one cuBLAS strided-batched GEMM
// over samples x batch indices.  cuBLAS is loaded at run time (dlopen of libcublas), so the module
// links only the CUDA runtime.
#pragma once

#include <complex>
#include <string>
#include <vector>

#include "physdl/tensornet/contract.hpp"

namespace physdl::cuda {

// True when libcublas could be loaded; otherwise `reason` says why.
bool tensornet_cublas_available(std::string& reason);

template <class T>
void tensornet_execute(const physdl::tensornet::Program& prog,
                       const std::vector<physdl::tensornet::InputView<T>>& inputs,
                       const std::vector<std::vector<long>>& input_extent,  // element span of each base
                       long n_samples, T* host_out);

}  // namespace physdl::cuda
