// CUDA executor of tensor-network contraction programs: gather kernels + cuBLAS strided-batched GEMM.
#include <cuComplex.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <memory>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.cuh"
#include "tensornet_cuda.hpp"

namespace physdl::cuda {

namespace tn = physdl::tensornet;

namespace {

// ------------------------------------------------------------------ cuBLAS, loaded at run time
using handle_t = void*;
using create_fn = int (*)(handle_t*);
using destroy_fn = int (*)(handle_t);
template <class T>
using gemm_sb_fn = int (*)(handle_t, int, int, int, int, int, const T*, const T*, int, long long, const T*, int,
                           long long, const T*, T*, int, long long, int);

struct Cublas {
  void* lib = nullptr;
  create_fn create = nullptr;
  destroy_fn destroy = nullptr;
  gemm_sb_fn<double> d = nullptr;
  gemm_sb_fn<float> s = nullptr;
  gemm_sb_fn<cuDoubleComplex> z = nullptr;
  gemm_sb_fn<cuFloatComplex> c = nullptr;
  handle_t handle = nullptr;
  std::string reason;
};

Cublas& cublas() {
  static Cublas cb;
  static std::once_flag once;
  std::call_once(once, [] {
    for (const char* name : {"libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11"}) {
      cb.lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (cb.lib) break;
    }
    if (!cb.lib) {
      cb.reason = "libcublas could not be loaded (put the CUDA toolkit's lib64 on LD_LIBRARY_PATH)";
      return;
    }
    cb.create = reinterpret_cast<create_fn>(dlsym(cb.lib, "cublasCreate_v2"));
    cb.destroy = reinterpret_cast<destroy_fn>(dlsym(cb.lib, "cublasDestroy_v2"));
    cb.d = reinterpret_cast<gemm_sb_fn<double>>(dlsym(cb.lib, "cublasDgemmStridedBatched"));
    cb.s = reinterpret_cast<gemm_sb_fn<float>>(dlsym(cb.lib, "cublasSgemmStridedBatched"));
    cb.z = reinterpret_cast<gemm_sb_fn<cuDoubleComplex>>(dlsym(cb.lib, "cublasZgemmStridedBatched"));
    cb.c = reinterpret_cast<gemm_sb_fn<cuFloatComplex>>(dlsym(cb.lib, "cublasCgemmStridedBatched"));
    if (!cb.create || !cb.d || !cb.s || !cb.z || !cb.c) {
      cb.reason = "libcublas lacks the strided-batched GEMM symbols";
      cb.lib = nullptr;
      return;
    }
    if (cb.create(&cb.handle) != 0) {
      cb.reason = "cublasCreate failed (no usable device?)";
      cb.lib = nullptr;
    }
  });
  return cb;
}

template <class T> struct Dev;
template <> struct Dev<double> { using type = double; };
template <> struct Dev<float> { using type = float; };
template <> struct Dev<std::complex<double>> { using type = cuDoubleComplex; };
template <> struct Dev<std::complex<float>> { using type = cuFloatComplex; };

__device__ inline double zero_of(double) { return 0.0; }
__device__ inline float zero_of(float) { return 0.0f; }
__device__ inline cuDoubleComplex zero_of(cuDoubleComplex) { return make_cuDoubleComplex(0, 0); }
__device__ inline cuFloatComplex zero_of(cuFloatComplex) { return make_cuFloatComplex(0, 0); }
__device__ inline double add(double a, double b) { return a + b; }
__device__ inline float add(float a, float b) { return a + b; }
__device__ inline cuDoubleComplex add(cuDoubleComplex a, cuDoubleComplex b) { return cuCadd(a, b); }
__device__ inline cuFloatComplex add(cuFloatComplex a, cuFloatComplex b) { return cuCaddf(a, b); }

template <class T> gemm_sb_fn<T> pick(Cublas&);
template <> gemm_sb_fn<double> pick<double>(Cublas& c) { return c.d; }
template <> gemm_sb_fn<float> pick<float>(Cublas& c) { return c.s; }
template <> gemm_sb_fn<cuDoubleComplex> pick<cuDoubleComplex>(Cublas& c) { return c.z; }
template <> gemm_sb_fn<cuFloatComplex> pick<cuFloatComplex>(Cublas& c) { return c.c; }

template <class T> T one_host();
template <> double one_host<double>() { return 1.0; }
template <> float one_host<float>() { return 1.0f; }
template <> cuDoubleComplex one_host<cuDoubleComplex>() { return make_cuDoubleComplex(1, 0); }
template <> cuFloatComplex one_host<cuFloatComplex>() { return make_cuFloatComplex(1, 0); }
template <class T> T zero_host();
template <> double zero_host<double>() { return 0.0; }
template <> float zero_host<float>() { return 0.0f; }
template <> cuDoubleComplex zero_host<cuDoubleComplex>() { return make_cuDoubleComplex(0, 0); }
template <> cuFloatComplex zero_host<cuFloatComplex>() { return make_cuFloatComplex(0, 0); }

// dims: [size_0..size_{no-1}, stride_0.., sum sizes.., sum strides..] in device memory
template <class T>
__global__ void gather_kernel(const T* __restrict__ src, const long long* __restrict__ sample_off, long long n_samples,
                              long long per_sample, int no, int ns, const long long* __restrict__ dims, T* dst) {
  const long long gid = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (gid >= n_samples * per_sample) return;
  const long long s = gid / per_sample;
  long long rem = gid % per_sample;
  long long off = sample_off[s];
  for (int d = no - 1; d >= 0; --d) {
    const long long i = rem % dims[d];
    rem /= dims[d];
    off += i * dims[no + d];
  }
  const long long* ssz = dims + 2 * no;
  const long long* sst = dims + 2 * no + ns;
  long long nsum = 1;
  for (int e = 0; e < ns; ++e) nsum *= ssz[e];
  T acc = zero_of(T{});
  for (long long q = 0; q < nsum; ++q) {
    long long r2 = q, o2 = off;
    for (int e = ns - 1; e >= 0; --e) {
      o2 += (r2 % ssz[e]) * sst[e];
      r2 /= ssz[e];
    }
    acc = add(acc, src[o2]);
  }
  dst[gid] = acc;
}

struct HostDims {
  std::vector<long long> v;
  int no = 0, ns = 0;
  long long count = 1;
};

HostDims dims_of(const std::vector<long>& shape, const std::vector<long>& stride, const tn::OperandSpec& op,
                 bool final_op) {
  HostDims h;
  std::vector<long long> sz, st, ssz, sst;
  auto add_groups = [&](const std::vector<tn::Label>& g, std::vector<long long>& a, std::vector<long long>& b) {
    for (const auto& l : g) {
      long long s = 0;
      for (int ax : l) s += stride[ax];
      a.push_back(shape[l[0]]);
      b.push_back(s);
    }
  };
  add_groups(op.batch, sz, st);
  add_groups(op.rows, sz, st);
  if (!final_op) add_groups(op.cols, sz, st);
  add_groups(op.sums, ssz, sst);
  h.no = int(sz.size());
  h.ns = int(ssz.size());
  for (auto x : sz) h.count *= x;
  h.v = sz;
  h.v.insert(h.v.end(), st.begin(), st.end());
  h.v.insert(h.v.end(), ssz.begin(), ssz.end());
  h.v.insert(h.v.end(), sst.begin(), sst.end());
  if (h.v.empty()) h.v.push_back(0);
  return h;
}

template <class D>
void launch_gather(const D* src, const std::vector<long long>& offs, long long S, const HostDims& h, D* dst) {
  DeviceBuffer<long long> doff(offs.size()), ddims(h.v.size());
  PHYSDL_CUDA_CHECK(cudaMemcpy(doff.ptr, offs.data(), offs.size() * sizeof(long long), cudaMemcpyHostToDevice));
  PHYSDL_CUDA_CHECK(cudaMemcpy(ddims.ptr, h.v.data(), h.v.size() * sizeof(long long), cudaMemcpyHostToDevice));
  const long long total = S * h.count;
  const int block = 256;
  const long long grid = (total + block - 1) / block;
  if (grid > 0) gather_kernel<D><<<unsigned(grid), block>>>(src, doff.ptr, S, h.count, h.no, h.ns, ddims.ptr, dst);
  check_launch("tensornet gather");
}

}  // namespace

bool tensornet_cublas_available(std::string& reason) {
  auto& cb = cublas();
  reason = cb.reason;
  return cb.lib != nullptr;
}

template <class T>
void tensornet_execute(const tn::Program& prog, const std::vector<tn::InputView<T>>& inputs,
                       const std::vector<std::vector<long>>& input_extent, long n_samples, T* host_out) {
  using D = typename Dev<T>::type;
  auto& cb = cublas();
  if (!cb.lib) throw std::runtime_error("backend='cuda' for tensornet needs cuBLAS: " + cb.reason);
  const int ni = prog.n_inputs(), nsl = prog.n_slots();
  if (int(inputs.size()) != ni || int(input_extent.size()) != ni)
    throw std::invalid_argument("tensornet cuda: wrong number of inputs");
  const long long S = n_samples;
  // upload inputs (each base tensor's element span [lo, hi)), per-sample offsets from it
  std::vector<std::unique_ptr<DeviceBuffer<D>>> slot(nsl);
  std::vector<std::vector<long long>> offs(nsl);
  std::vector<std::vector<long>> strides(nsl);
  for (int i = 0; i < ni; ++i) {
    const long lo = input_extent[i][0], hi = input_extent[i][1];
    slot[i] = std::make_unique<DeviceBuffer<D>>(size_t(hi - lo));
    PHYSDL_CUDA_CHECK(cudaMemcpy(slot[i]->ptr, reinterpret_cast<const D*>(inputs[i].base + lo),
                                 size_t(hi - lo) * sizeof(D), cudaMemcpyHostToDevice));
    const auto& in = inputs[i];
    const size_t nsel = in.select_sizes.size();
    offs[i].resize(size_t(S));
    for (long long s = 0; s < S; ++s) {
      long long o = -lo + s * in.sample_stride;
      for (size_t j = 0; j < nsel; ++j) {
        const auto v = in.select_index[s * long(nsel) + long(j)];
        if (v < 0 || v >= in.select_sizes[j]) throw std::out_of_range("tensornet cuda: select index out of range");
        o += v * in.select_strides[j];
      }
      offs[i][size_t(s)] = o;
    }
    strides[i] = in.strides;
  }
  for (int s = ni; s < nsl; ++s) {
    const auto& sh = prog.slot_shape(s);
    long size = 1;
    for (long d : sh) size *= d;
    strides[s].assign(sh.size(), 1);
    for (int d = int(sh.size()) - 2; d >= 0; --d) strides[s][d] = strides[s][d + 1] * sh[d + 1];
    slot[s] = std::make_unique<DeviceBuffer<D>>(size_t(size * S));
    offs[s].resize(size_t(S));
    for (long long k = 0; k < S; ++k) offs[s][size_t(k)] = k * size;
  }
  const D one = one_host<D>(), zero = zero_host<D>();
  const auto& steps = prog.steps();
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto& st = steps[i];
    const HostDims ha = dims_of(prog.slot_shape(st.a.slot), strides[st.a.slot], st.a, false);
    const HostDims hb = dims_of(prog.slot_shape(st.b.slot), strides[st.b.slot], st.b, false);
    DeviceBuffer<D> A(size_t(ha.count * S)), B(size_t(hb.count * S));
    launch_gather<D>(slot[st.a.slot]->ptr, offs[st.a.slot], S, ha, A.ptr);
    launch_gather<D>(slot[st.b.slot]->ptr, offs[st.b.slot], S, hb, B.ptr);
    const auto& sha = prog.slot_shape(st.a.slot);
    const auto& shb = prog.slot_shape(st.b.slot);
    long long nb = 1, m = 1, k = 1, n = 1;
    for (const auto& l : st.a.batch) nb *= sha[l[0]];
    for (const auto& l : st.a.rows) m *= sha[l[0]];
    for (const auto& l : st.a.cols) k *= sha[l[0]];
    for (const auto& l : st.b.cols) n *= shb[l[0]];
    // row-major C[m,n] = A[m,k] B[k,n]  <=>  column-major C^T = B^T A^T
    const int status = pick<D>(cb)(cb.handle, 0, 0, int(n), int(m), int(k), &one, B.ptr, int(n), k * n, A.ptr,
                                   int(k), m * k, &zero, slot[ni + i]->ptr, int(n), m * n, int(S * nb));
    if (status != 0) throw std::runtime_error("cuBLAS strided-batched GEMM failed with status " + std::to_string(status));
  }
  const auto& fin = prog.final_op();
  const HostDims hf = dims_of(prog.slot_shape(fin.slot), strides[fin.slot], fin, true);
  DeviceBuffer<D> out(size_t(hf.count * S));
  launch_gather<D>(slot[fin.slot]->ptr, offs[fin.slot], S, hf, out.ptr);
  PHYSDL_CUDA_CHECK(cudaMemcpy(reinterpret_cast<D*>(host_out), out.ptr, size_t(hf.count * S) * sizeof(D),
                               cudaMemcpyDeviceToHost));
}

template void tensornet_execute<double>(const tn::Program&, const std::vector<tn::InputView<double>>&,
                                        const std::vector<std::vector<long>>&, long, double*);
template void tensornet_execute<float>(const tn::Program&, const std::vector<tn::InputView<float>>&,
                                       const std::vector<std::vector<long>>&, long, float*);
template void tensornet_execute<std::complex<double>>(const tn::Program&,
                                                      const std::vector<tn::InputView<std::complex<double>>>&,
                                                      const std::vector<std::vector<long>>&, long,
                                                      std::complex<double>*);
template void tensornet_execute<std::complex<float>>(const tn::Program&,
                                                     const std::vector<tn::InputView<std::complex<float>>>&,
                                                     const std::vector<std::vector<long>>&, long,
                                                     std::complex<float>*);

}  // namespace physdl::cuda
