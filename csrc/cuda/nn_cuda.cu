// CUDA twin of the dense nn engine (see nn_cuda.hpp): cuBLAS products, fused element-wise, loss and
// optimizer kernels, and one CUDA graph per (batch size, loss) for a whole training step.
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "check.cuh"
#include "nn_cuda.hpp"
#include "physdl/nn/layer_kinds.hpp"

namespace physdl::cuda::nn {

namespace pk = physdl::nn;

namespace {

// ------------------------------------------------------------------ cuBLAS, loaded at run time
// (the module links the CUDA runtime statically and must import where libcublas is absent)
using handle_t = void*;
template <class T>
using gemm_fn = int (*)(handle_t, int, int, int, int, int, const T*, const T*, int, const T*, int, const T*, T*, int);

struct Blas {
  void* lib = nullptr;
  int (*create)(handle_t*) = nullptr;
  int (*destroy)(handle_t) = nullptr;
  int (*set_stream)(handle_t, cudaStream_t) = nullptr;
  int (*set_workspace)(handle_t, void*, std::size_t) = nullptr;  // optional (cuBLAS >= 11.x)
  gemm_fn<float> s = nullptr;
  gemm_fn<double> d = nullptr;
  std::string reason;
};

Blas& blas() {
  static Blas b;
  static std::once_flag once;
  std::call_once(once, [] {
    for (const char* name : {"libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11"}) {
      b.lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (b.lib) break;
    }
    if (!b.lib) {
      b.reason = "libcublas could not be loaded (put the CUDA toolkit's lib64 on LD_LIBRARY_PATH)";
      return;
    }
    b.create = reinterpret_cast<int (*)(handle_t*)>(dlsym(b.lib, "cublasCreate_v2"));
    b.destroy = reinterpret_cast<int (*)(handle_t)>(dlsym(b.lib, "cublasDestroy_v2"));
    b.set_stream = reinterpret_cast<int (*)(handle_t, cudaStream_t)>(dlsym(b.lib, "cublasSetStream_v2"));
    b.set_workspace = reinterpret_cast<int (*)(handle_t, void*, std::size_t)>(dlsym(b.lib, "cublasSetWorkspace_v2"));
    b.s = reinterpret_cast<gemm_fn<float>>(dlsym(b.lib, "cublasSgemm_v2"));
    b.d = reinterpret_cast<gemm_fn<double>>(dlsym(b.lib, "cublasDgemm_v2"));
    if (!b.create || !b.destroy || !b.set_stream || !b.s || !b.d) {
      b.reason = "libcublas lacks cublasCreate_v2 / cublasSetStream_v2 / cublas[SD]gemm_v2";
      b.lib = nullptr;
    }
  });
  return b;
}

template <class T> gemm_fn<T> gemm_of(Blas&);
template <> gemm_fn<float> gemm_of<float>(Blas& b) { return b.s; }
template <> gemm_fn<double> gemm_of<double>(Blas& b) { return b.d; }

constexpr int kOpN = 0, kOpT = 1;  // CUBLAS_OP_N, CUBLAS_OP_T

void blas_check(int status, const char* what) {
  if (status != 0) throw std::runtime_error(std::string("cuBLAS ") + what + " failed with status " + std::to_string(status));
}

// Row-major C = alpha op(A) op(B) + beta C (the CPU engine's gemm<T> convention) through column-major cuBLAS.
template <class T>
void rm_gemm(handle_t h, bool ta, bool tb, long m, long n, long k, T alpha, const T* A, long lda, const T* B, long ldb,
             T beta, T* C, long ldc, const char* what) {
  blas_check(gemm_of<T>(blas())(h, tb ? kOpT : kOpN, ta ? kOpT : kOpN, int(n), int(m), int(k), &alpha, B, int(ldb), A,
                                int(lda), &beta, C, int(ldc)),
             what);
}

// ------------------------------------------------------------------ kernels
constexpr int kThreads = 256;

inline unsigned blocks_for(long n) {
  long b = (n + kThreads - 1) / kThreads;
  if (b < 1) b = 1;
  if (b > 65535L * 8) b = 65535L * 8;
  return unsigned(b);
}

template <class T>
__device__ inline T sigmoid_d(T x) {
  return T(1) / (T(1) + exp(-x));
}

template <class T>
__global__ void k_bias_act(T* y, const T* b, long rows, long nout) {
  const long m = rows * nout;
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < m; i += long(gridDim.x) * blockDim.x)
    y[i] += b[i % nout];
}

template <class T>
__global__ void k_activation(int kind, const T* x, T* y, long m) {
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < m; i += long(gridDim.x) * blockDim.x) {
    const T v = x[i];
    T r = v;
    if (kind == pk::kSigmoid) r = sigmoid_d(v);
    else if (kind == pk::kTanh) r = tanh(v);
    else if (kind == pk::kReLU) r = v > T(0) ? v : T(0);
    y[i] = r;
  }
}

template <class T>
__global__ void k_activation_back(int kind, const T* x, const T* y, const T* dy, T* dx, long m) {
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < m; i += long(gridDim.x) * blockDim.x) {
    const T d = dy[i];
    T r = d;
    if (kind == pk::kSigmoid) r = d * y[i] * (T(1) - y[i]);
    else if (kind == pk::kTanh) r = d * (T(1) - y[i] * y[i]);
    else if (kind == pk::kReLU) r = x[i] > T(0) ? d : T(0);
    dx[i] = r;
  }
}

// column sums of dy (rows x nout) into gb, one thread per column: a fixed summation order (deterministic)
template <class T>
__global__ void k_colsum(const T* dy, T* gb, long rows, long nout) {
  for (long j = blockIdx.x * long(blockDim.x) + threadIdx.x; j < nout; j += long(gridDim.x) * blockDim.x) {
    T s = T(0);
    for (long r = 0; r < rows; ++r) s += dy[r * nout + j];
    gb[j] = s;
  }
}

// block-wide sum in double with a fixed tree (deterministic for a given blockDim)
__device__ double block_sum(double v, double* sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  const double r = sh[0];
  __syncthreads();
  return r;
}

// Loss and its gradient d with respect to the network output y (m values, rows of c), as
// physdl::nn::detail::loss_and_grad.  One block (the loss is a reduction with a fixed order).
// err: 1 = a label outside [0, c) other than -100, 2 = every label is -100.
template <class T>
__global__ void k_loss(int loss, const T* y, long m, long c, const T* t, const std::int64_t* lab, T* d, double* L,
                       int* err) {
  __shared__ double sh[kThreads];
  double acc = 0.0;
  if (loss == pk::kMSE) {
    const T sc = T(2.0 / double(m));
    for (long i = threadIdx.x; i < m; i += blockDim.x) {
      const T e = y[i] - t[i];
      acc += double(e) * double(e);
      d[i] = sc * e;
    }
    acc = block_sum(acc, sh);
    if (threadIdx.x == 0) *L = acc / double(m);
  } else if (loss == pk::kBCE) {
    const T inv = T(1.0 / double(m));
    for (long i = threadIdx.x; i < m; i += blockDim.x) {
      const T p = y[i], tt = t[i];
      const double lp = fmax(log(double(p)), -100.0), l1p = fmax(log1p(-double(p)), -100.0);
      acc -= double(tt) * lp + (1.0 - double(tt)) * l1p;
      const T den = (T(1) - p) * p;
      d[i] = inv * (p - tt) / (den > T(1e-12) ? den : T(1e-12));
    }
    acc = block_sum(acc, sh);
    if (threadIdx.x == 0) *L = acc / double(m);
  } else if (loss == pk::kBCELogits) {
    const T inv = T(1.0 / double(m));
    for (long i = threadIdx.x; i < m; i += blockDim.x) {
      const T z = y[i], tt = t[i];
      acc += double((z > T(0) ? z : T(0)) - z * tt + log1p(exp(-fabs(z))));
      d[i] = inv * (sigmoid_d(z) - tt);
    }
    acc = block_sum(acc, sh);
    if (threadIdx.x == 0) *L = acc / double(m);
  } else {  // softmax cross entropy over rows of c, label -100 ignored
    const long rows = m / c;
    double valid = 0.0, bad = 0.0;
    for (long r = threadIdx.x; r < rows; r += blockDim.x) {
      const std::int64_t l = lab[r];
      if (l == -100) continue;
      if (l < 0 || l >= c) bad += 1.0;
      else valid += 1.0;
    }
    valid = block_sum(valid, sh);
    bad = block_sum(bad, sh);
    if (bad > 0.0 || valid == 0.0) {
      for (long i = threadIdx.x; i < m; i += blockDim.x) d[i] = T(0);
      if (threadIdx.x == 0) {
        *err = bad > 0.0 ? 1 : 2;
        *L = 0.0;
      }
      return;
    }
    const T inv = T(1.0 / valid);
    for (long r = threadIdx.x; r < rows; r += blockDim.x) {
      const T* yr = y + r * c;
      T* dr = d + r * c;
      const std::int64_t l = lab[r];
      if (l == -100) {
        for (long j = 0; j < c; ++j) dr[j] = T(0);
        continue;
      }
      T mx = yr[0];
      for (long j = 1; j < c; ++j) mx = yr[j] > mx ? yr[j] : mx;
      T s = T(0);
      for (long j = 0; j < c; ++j) {
        dr[j] = exp(yr[j] - mx);
        s += dr[j];
      }
      acc += double(log(s) + mx - yr[l]);
      const T is = T(1) / s;
      for (long j = 0; j < c; ++j) dr[j] *= is * inv;
      dr[l] -= inv;
    }
    acc = block_sum(acc, sh);
    if (threadIdx.x == 0) *L = acc / valid;
  }
}

// ------------------------------------------------------------------ recurrent kernels (RNN eq. 4.13-4.21,
// LSTM eq. 4.25-4.35), the CPU engine's time-major layout [T, n, .] (src/physdl/nn/recurrent.cpp)
template <class T>
__global__ void k_time_major(const T* x, T* xtm, long n, long Tn, long I, bool to_time_major) {
  const long m = n * Tn * I;
  for (long q = blockIdx.x * long(blockDim.x) + threadIdx.x; q < m; q += long(gridDim.x) * blockDim.x) {
    const long i = q % I, st = q / I, t = st % Tn, sidx = st / Tn;  // q indexes the sample-major array
    if (to_time_major) xtm[(t * n + sidx) * I + i] = x[q];
    else xtm[q] = x[(t * n + sidx) * I + i];  // here x is time-major and xtm the sample-major output
  }
}

template <class T>
__global__ void k_lstm_step(T* a, const T* cp, T* c, T* tc, T* h, long n, long H) {
  const long G = 4 * H;
  for (long q = blockIdx.x * long(blockDim.x) + threadIdx.x; q < n * H; q += long(gridDim.x) * blockDim.x) {
    const long sidx = q / H, j = q % H;
    T* ar = a + sidx * G;
    const T ig = sigmoid_d(ar[j]), fg = sigmoid_d(ar[H + j]), gg = tanh(ar[2 * H + j]), og = sigmoid_d(ar[3 * H + j]);
    ar[j] = ig;
    ar[H + j] = fg;
    ar[2 * H + j] = gg;
    ar[3 * H + j] = og;
    const T cv = fg * (cp ? cp[q] : T(0)) + ig * gg;  // eq. 4.28
    c[q] = cv;
    const T t = tanh(cv);
    tc[q] = t;
    h[q] = og * t;  // eq. 4.27
  }
}

template <class T>
__global__ void k_gather_hidden(const T* hs, T* y, long n, long Tn, long H, bool ret_seq) {
  if (ret_seq) {
    for (long q = blockIdx.x * long(blockDim.x) + threadIdx.x; q < n * Tn * H; q += long(gridDim.x) * blockDim.x) {
      const long j = q % H, st = q / H, t = st % Tn, sidx = st / Tn;
      y[q] = hs[(t * n + sidx) * H + j];
    }
  } else {
    for (long q = blockIdx.x * long(blockDim.x) + threadIdx.x; q < n * H; q += long(gridDim.x) * blockDim.x)
      y[q] = hs[(Tn - 1) * n * H + q];
  }
}

// dh = dh_next + dy_t
template <class T>
__global__ void k_dh(const T* dhn, const T* dy, T* dh, long n, long Tn, long H, long t, bool ret_seq) {
  for (long q = blockIdx.x * long(blockDim.x) + threadIdx.x; q < n * H; q += long(gridDim.x) * blockDim.x) {
    const long sidx = q / H, j = q % H;
    T v = dhn[q];
    if (ret_seq) v += dy[(sidx * Tn + t) * H + j];
    else if (t == Tn - 1) v += dy[q];
    dh[q] = v;
  }
}

template <class T>
__global__ void k_rnn_back(const T* dh, const T* h, T* da, long m) {
  for (long q = blockIdx.x * long(blockDim.x) + threadIdx.x; q < m; q += long(gridDim.x) * blockDim.x)
    da[q] = dh[q] * (T(1) - h[q] * h[q]);  // eq. 4.17
}

template <class T>
__global__ void k_lstm_back(const T* a, const T* tc, const T* cp, const T* dh, T* dc, T* da, long n, long H) {
  const long G = 4 * H;
  for (long q = blockIdx.x * long(blockDim.x) + threadIdx.x; q < n * H; q += long(gridDim.x) * blockDim.x) {
    const long sidx = q / H, j = q % H;
    const T* ar = a + sidx * G;
    T* dr = da + sidx * G;
    const T ig = ar[j], fg = ar[H + j], gg = ar[2 * H + j], og = ar[3 * H + j];
    const T dhq = dh[q];
    const T dcq = dc[q] + dhq * og * (T(1) - tc[q] * tc[q]);  // eq. 4.32 (B), 4.34
    const T cprev = cp ? cp[q] : T(0);
    dr[j] = dcq * gg * ig * (T(1) - ig);
    dr[H + j] = dcq * cprev * fg * (T(1) - fg);
    dr[2 * H + j] = dcq * ig * (T(1) - gg * gg);
    dr[3 * H + j] = dhq * tc[q] * og * (T(1) - og);  // eq. 4.32 (A), 4.33
    dc[q] = dcq * fg;                                 // eq. 4.35
  }
}

// ------------------------------------------------------------------ optimizer kernels
// Hyper-parameters of one step, staged on the host (pinned) and copied in by the step itself, so a
// replayed graph sees the current learning rate and step count.
template <class T>
struct Hyper {
  T lr, momentum, omb1, b2, omb2, step_size, bc2s, eps, wd;
  double clip;
  long t;
};

// sum of squares of g (one block, fixed order) -> *norm2
template <class T>
__global__ void k_sumsq(const T* g, long n, double* norm2) {
  __shared__ double sh[kThreads];
  double a = 0.0;
  for (long i = threadIdx.x; i < n; i += blockDim.x) a += double(g[i]) * double(g[i]);
  a = block_sum(a, sh);
  if (threadIdx.x == 0) *norm2 = a;
}

template <class T>
__global__ void k_update(int kind, bool nesterov, const Hyper<T>* hp, const double* norm2, T* p, T* g, T* m, T* v,
                         long n) {
  const Hyper<T> h = *hp;
  T c = T(1);
  bool scale = false;
  if (h.clip > 0.0) {  // torch.nn.utils.clip_grad_norm_
    const double coef = h.clip / (sqrt(*norm2) + 1e-6);
    if (coef < 1.0) {
      c = T(coef);
      scale = true;
    }
  }
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
    T gi = g[i];
    if (scale) gi *= c;
    if (h.wd != T(0)) gi += h.wd * p[i];
    g[i] = gi;
    if (kind == pk::kSGD) {
      if (h.momentum == T(0)) {
        p[i] -= h.lr * gi;
      } else {
        const T b = h.t == 1 ? gi : h.momentum * m[i] + gi;
        m[i] = b;
        p[i] -= nesterov ? h.lr * (gi + h.momentum * b) : h.lr * b;
      }
    } else {
      const T mi = m[i] + h.omb1 * (gi - m[i]);
      const T vi = h.b2 * v[i] + h.omb2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] -= h.step_size * mi / (sqrt(vi) / h.bc2s + h.eps);
    }
  }
}

template <class T>
struct Pinned {
  T* ptr = nullptr;
  std::size_t n = 0;
  void reset(std::size_t count) {
    if (ptr) cudaFreeHost(ptr);
    ptr = nullptr;
    n = count;
    if (count) PHYSDL_CUDA_CHECK(cudaMallocHost(&ptr, count * sizeof(T)));
  }
  Pinned() = default;
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
  Pinned(Pinned&& o) noexcept : ptr(o.ptr), n(o.n) {
    o.ptr = nullptr;
    o.n = 0;
  }
  ~Pinned() {
    if (ptr) cudaFreeHost(ptr);
  }
};

template <class T>
struct Dev {
  T* ptr = nullptr;
  std::size_t n = 0;
  void reset(std::size_t count) {
    if (ptr) cudaFree(ptr);
    ptr = nullptr;
    n = count;
    if (count) PHYSDL_CUDA_CHECK(cudaMalloc(&ptr, count * sizeof(T)));
  }
  Dev() = default;
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
  Dev(Dev&& o) noexcept : ptr(o.ptr), n(o.n) {
    o.ptr = nullptr;
    o.n = 0;
  }
  ~Dev() {
    if (ptr) cudaFree(ptr);
  }
};

}  // namespace

std::string unavailable_reason() {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return std::string("no usable CUDA device: ") + cudaGetErrorString(e);
  }
  if (n == 0) return "no CUDA device";
  Blas& b = blas();
  if (!b.lib) return b.reason;
  return "";
}

bool supports_layer(int kind) {
  return kind == pk::kDense || kind == pk::kSigmoid || kind == pk::kTanh || kind == pk::kReLU || kind == pk::kFlatten ||
         kind == pk::kRNN || kind == pk::kLSTM;
}

// ------------------------------------------------------------------ device state
template <class T>
struct Network<T>::Impl {
  cudaStream_t stream = nullptr;
  handle_t handle = nullptr;
  Dev<unsigned char> workspace;
  Dev<T> params, grads;
  std::vector<Dev<T>> acts;  // acts[0] = input, acts[i + 1] = output of layer i
  Dev<T> d0, d1;             // backward ping-pong buffers
  Dev<T> targets;
  Dev<std::int64_t> labels;
  Dev<double> loss;          // [0] loss, [1] squared gradient norm
  Dev<int> err;
  Pinned<T> hx, ht;
  Pinned<std::int64_t> hl;
  Pinned<double> hloss;
  Pinned<int> herr;
  struct Recurrent {  // per RNN/LSTM layer, time-major as the CPU engine
    Dev<T> xtm, pre, hs, cs, tcs, dpre, dh, dhn, dc, dxtm;
  };
  std::map<std::size_t, Recurrent> rec;
  ~Impl() {
    if (handle) blas().destroy(handle);
    if (stream) cudaStreamDestroy(stream);
  }
};

template <class T>
struct Optimizer<T>::Impl {
  Dev<T> m, v;
  Dev<double> norm2;  // squared gradient norm of the step (for clipping)
  Dev<Hyper<T>> hyper;
  Pinned<Hyper<T>> hhyper;
  bool host_newer = false;
};

template <class T>
Network<T>::Network(const std::vector<int>& kinds, const std::vector<std::vector<long>>& settings,
                    const std::vector<long>& in_shape, long max_batch)
    : kinds_(kinds), settings_(settings), d_(new Impl) {
  const std::string why = unavailable_reason();
  if (!why.empty()) throw std::runtime_error("backend='cuda' is unavailable: " + why);
  if (kinds.size() != settings.size()) throw std::invalid_argument("kinds and settings differ in length");
  if (kinds.empty()) throw std::invalid_argument("a network needs at least one layer");
  if (in_shape.empty()) throw std::invalid_argument("input_shape must have at least one axis");
  if (max_batch < 1) throw std::invalid_argument("max_batch must be >= 1");
  std::vector<long> shape = in_shape;
  auto size_of = [](const std::vector<long>& s) {
    long n = 1;
    for (long v : s) {
      if (v < 1) throw std::invalid_argument("shapes must have axes >= 1");
      n *= v;
    }
    return n;
  };
  sizes_.push_back(size_of(shape));
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const int k = kinds[i];
    if (!supports_layer(k))
      throw std::invalid_argument("layer " + std::to_string(i) + " (kind " + std::to_string(k) +
                                  ") has no CUDA implementation yet; backend='cuda' supports Dense, Sigmoid, Tanh, "
                                  "ReLU, Flatten, RNN and LSTM (use backend='cpp' for the others)");
    long cnt = 0;
    if (k == pk::kDense) {
      const auto& s = settings[i];
      if (s.size() != 2 || s[0] < 1 || s[1] < 1) throw std::invalid_argument("Dense needs settings {in, out} >= 1");
      if (shape.back() != s[0])
        throw std::invalid_argument("layer " + std::to_string(i) + " Dense(" + std::to_string(s[0]) + ", " +
                                    std::to_string(s[1]) + ") gets inputs whose last axis is " +
                                    std::to_string(shape.back()));
      shape.back() = s[1];
      cnt = s[0] * s[1] + s[1];
    } else if (k == pk::kFlatten) {
      shape = {size_of(shape)};
    } else if (k == pk::kRNN || k == pk::kLSTM) {
      const auto& s = settings[i];
      const char* name = k == pk::kLSTM ? "LSTM" : "RNN";
      if (s.size() != 3 || s[0] < 1 || s[1] < 1)
        throw std::invalid_argument(std::string(name) + " needs settings {in, hidden, return_sequences}");
      if (shape.size() != 2 || shape[1] != s[0])
        throw std::invalid_argument("layer " + std::to_string(i) + " " + name + " expects inputs of shape (T, " +
                                    std::to_string(s[0]) + ")");
      const long G = (k == pk::kLSTM ? 4 : 1) * s[1];
      cnt = G * s[0] + G * s[1] + G;
      shape = s[2] != 0 ? std::vector<long>{shape[0], s[1]} : std::vector<long>{s[1]};
    }
    poff_.push_back(np_);
    pcnt_.push_back(cnt);
    np_ += cnt;
    sizes_.push_back(size_of(shape));
  }
  classes_ = shape.back();
  // device memory: parameters, gradients, workspaces for max_batch; checked before allocating
  std::size_t free_b = 0, total_b = 0;
  PHYSDL_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  long per_sample = 0, widest = 0;
  for (long s : sizes_) {
    per_sample += s;
    widest = s > widest ? s : widest;
  }
  const double need = double(sizeof(T)) * (2.0 * double(np_) + double(max_batch) * double(per_sample + 3 * widest));
  if (need > 0.9 * double(free_b))
    throw std::runtime_error("backend='cuda': the model needs about " + std::to_string(long(need / 1048576)) +
                             " MiB of device memory; " + std::to_string(long(free_b / 1048576)) + " MiB are free");
  Blas& b = blas();
  PHYSDL_CUDA_CHECK(cudaStreamCreateWithFlags(&d_->stream, cudaStreamNonBlocking));
  blas_check(b.create(&d_->handle), "cublasCreate");
  blas_check(b.set_stream(d_->handle, d_->stream), "cublasSetStream");
  if (b.set_workspace) {  // a fixed workspace: no allocation while a step is captured as a graph
    d_->workspace.reset(std::size_t(32) << 20);
    blas_check(b.set_workspace(d_->handle, d_->workspace.ptr, d_->workspace.n), "cublasSetWorkspace");
  }
  d_->params.reset(std::size_t(np_));
  d_->grads.reset(std::size_t(np_));
  d_->loss.reset(2);
  d_->err.reset(1);
  d_->hloss.reset(2);
  d_->herr.reset(1);
  host_params_.assign(std::size_t(np_), T(0));
  host_grads_.assign(std::size_t(np_), T(0));
  PHYSDL_CUDA_CHECK(cudaMemset(d_->params.ptr, 0, sizeof(T) * std::size_t(np_ ? np_ : 0)));
  ensure_capacity(max_batch);
}

template <class T>
Network<T>::~Network() {
  clear_graphs();
}

template <class T>
void Network<T>::clear_graphs() {
  for (auto& kv : graphs_)
    if (kv.second) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(kv.second));
  graphs_.clear();
}

template <class T>
long Network<T>::param_offset(int layer) const {
  if (layer < 0 || layer >= int(poff_.size())) throw std::out_of_range("layer index out of range");
  return poff_[std::size_t(layer)];
}

template <class T>
long Network<T>::param_count(int layer) const {
  if (layer < 0 || layer >= int(pcnt_.size())) throw std::out_of_range("layer index out of range");
  return pcnt_[std::size_t(layer)];
}

template <class T>
void Network<T>::ensure_capacity(long n) {
  if (n <= cap_) return;
  clear_graphs();  // graphs hold the old buffers' addresses
  cap_ = n;
  d_->acts.clear();
  d_->acts.resize(sizes_.size());
  long widest = 0;
  for (std::size_t i = 0; i < sizes_.size(); ++i) {
    d_->acts[i].reset(std::size_t(cap_ * sizes_[i]));
    widest = sizes_[i] > widest ? sizes_[i] : widest;
  }
  d_->d0.reset(std::size_t(cap_ * widest));
  d_->d1.reset(std::size_t(cap_ * widest));
  d_->targets.reset(std::size_t(cap_ * sizes_.back()));
  d_->labels.reset(std::size_t(cap_ * sizes_.back()));
  for (std::size_t i = 0; i < kinds_.size(); ++i) {
    if (kinds_[i] != pk::kRNN && kinds_[i] != pk::kLSTM) continue;
    const long I = settings_[i][0], H = settings_[i][1], Tn = sizes_[i] / I;
    const long G = (kinds_[i] == pk::kLSTM ? 4 : 1) * H;
    auto& r = d_->rec[i];
    const auto sz = [&](long per) { return std::size_t(Tn * cap_ * per); };
    r.xtm.reset(sz(I));
    r.dxtm.reset(sz(I));
    r.pre.reset(sz(G));
    r.dpre.reset(sz(G));
    r.hs.reset(sz(H));
    r.dh.reset(std::size_t(cap_ * H));
    r.dhn.reset(std::size_t(cap_ * H));
    if (kinds_[i] == pk::kLSTM) {
      r.cs.reset(sz(H));
      r.tcs.reset(sz(H));
      r.dc.reset(std::size_t(cap_ * H));
    }
  }
  d_->hx.reset(std::size_t(cap_ * sizes_.front()));
  d_->ht.reset(std::size_t(cap_ * sizes_.back()));
  d_->hl.reset(std::size_t(cap_ * sizes_.back()));
}

template <class T>
T* Network<T>::host_params() {
  if (device_newer_) {
    PHYSDL_CUDA_CHECK(cudaMemcpyAsync(host_params_.data(), d_->params.ptr, sizeof(T) * std::size_t(np_),
                                      cudaMemcpyDeviceToHost, d_->stream));
    PHYSDL_CUDA_CHECK(cudaStreamSynchronize(d_->stream));
    device_newer_ = false;
  }
  host_newer_ = true;  // handed out: the caller may write to it
  return host_params_.data();
}

template <class T>
T* Network<T>::host_grads() {
  PHYSDL_CUDA_CHECK(cudaMemcpyAsync(host_grads_.data(), d_->grads.ptr, sizeof(T) * std::size_t(np_),
                                    cudaMemcpyDeviceToHost, d_->stream));
  PHYSDL_CUDA_CHECK(cudaStreamSynchronize(d_->stream));
  return host_grads_.data();
}

template <class T>
void Network<T>::upload_if_dirty() {
  if (!host_newer_) return;
  PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->params.ptr, host_params_.data(), sizeof(T) * std::size_t(np_),
                                    cudaMemcpyHostToDevice, d_->stream));
  PHYSDL_CUDA_CHECK(cudaStreamSynchronize(d_->stream));
  host_newer_ = false;
}

template <class T>
void Network<T>::stage(const T* x, long n, int loss, const T* targets, const std::int64_t* labels) {
  std::memcpy(d_->hx.ptr, x, sizeof(T) * std::size_t(n * sizes_.front()));
  const long m = n * sizes_.back();
  if (loss == pk::kSoftmaxCE) {
    // the class axis is the last axis of the output: rows = m / classes; labels checked here, before
    // any device work, so a refused call changes nothing
    const long rows = m / classes_;
    long valid = 0;
    for (long r = 0; r < rows; ++r) {
      const std::int64_t l = labels[r];
      if (l == -100) continue;
      if (l < 0 || l >= classes_)
        throw std::invalid_argument("y: labels must be in [0, " + std::to_string(classes_) + ") or -100 (ignored), got " +
                                    std::to_string(l));
      ++valid;
    }
    if (valid == 0) throw std::invalid_argument("y: every label is -100 (ignored); nothing to fit");
    std::memcpy(d_->hl.ptr, labels, sizeof(std::int64_t) * std::size_t(rows));
  } else if (loss >= 0 && targets) {
    std::memcpy(d_->ht.ptr, targets, sizeof(T) * std::size_t(m));
  }
}

template <class T>
void Network<T>::enqueue_forward(long n) {
  Blas& b = blas();
  const T one = T(1), zero = T(0);
  PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->acts[0].ptr, d_->hx.ptr, sizeof(T) * std::size_t(n * sizes_.front()),
                                    cudaMemcpyHostToDevice, d_->stream));
  for (std::size_t i = 0; i < kinds_.size(); ++i) {
    const T* x = d_->acts[i].ptr;
    T* y = d_->acts[i + 1].ptr;
    const int k = kinds_[i];
    if (k == pk::kDense) {
      const long nin = settings_[i][0], nout = settings_[i][1];
      const long rows = n * (sizes_[i] / nin);
      const T* W = d_->params.ptr + poff_[i];
      blas_check(gemm_of<T>(b)(d_->handle, kOpT, kOpN, int(nout), int(rows), int(nin), &one, W, int(nin), x, int(nin),
                               &zero, y, int(nout)),
                 "gemm (Dense forward)");
      k_bias_act<T><<<blocks_for(rows * nout), kThreads, 0, d_->stream>>>(y, W + nout * nin, rows, nout);
    } else if (k == pk::kFlatten) {
      PHYSDL_CUDA_CHECK(cudaMemcpyAsync(y, x, sizeof(T) * std::size_t(n * sizes_[i]), cudaMemcpyDeviceToDevice,
                                        d_->stream));
    } else if (k == pk::kRNN || k == pk::kLSTM) {
      forward_recurrent(i, x, y, n);
    } else {
      k_activation<T><<<blocks_for(n * sizes_[i]), kThreads, 0, d_->stream>>>(k, x, y, n * sizes_[i]);
    }
  }
}

template <class T>
void Network<T>::enqueue_loss_backward(long n, int loss, bool input_grad) {
  Blas& b = blas();
  const T one = T(1), zero = T(0);
  const long m = n * sizes_.back();
  const long c = classes_;
  if (loss == pk::kSoftmaxCE)
    PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->labels.ptr, d_->hl.ptr, sizeof(std::int64_t) * std::size_t(m / c),
                                      cudaMemcpyHostToDevice, d_->stream));
  else
    PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->targets.ptr, d_->ht.ptr, sizeof(T) * std::size_t(m), cudaMemcpyHostToDevice,
                                      d_->stream));
  PHYSDL_CUDA_CHECK(cudaMemsetAsync(d_->err.ptr, 0, sizeof(int), d_->stream));
  k_loss<T><<<1, kThreads, 0, d_->stream>>>(loss, d_->acts.back().ptr, m, c, d_->targets.ptr, d_->labels.ptr,
                                             d_->d0.ptr, d_->loss.ptr, d_->err.ptr);
  enqueue_backward(n, input_grad);
}

template <class T>
void Network<T>::enqueue_backward(long n, bool input_grad) {
  Blas& b = blas();
  const T one = T(1), zero = T(0);
  T* d = d_->d0.ptr;
  T* dother = d_->d1.ptr;
  for (std::size_t i = kinds_.size(); i-- > 0;) {
    const int k = kinds_[i];
    const T* x = d_->acts[i].ptr;
    const T* y = d_->acts[i + 1].ptr;
    const bool need_dx = i > 0 || input_grad;
    if (k == pk::kDense) {
      const long nin = settings_[i][0], nout = settings_[i][1];
      const long rows = n * (sizes_[i] / nin);
      const T* W = d_->params.ptr + poff_[i];
      T* gW = d_->grads.ptr + poff_[i];
      blas_check(gemm_of<T>(b)(d_->handle, kOpN, kOpT, int(nin), int(nout), int(rows), &one, x, int(nin), d, int(nout),
                               &zero, gW, int(nin)),
                 "gemm (Dense weight gradient)");
      k_colsum<T><<<blocks_for(nout), kThreads, 0, d_->stream>>>(d, gW + nout * nin, rows, nout);
      if (need_dx)
        blas_check(gemm_of<T>(b)(d_->handle, kOpN, kOpN, int(nin), int(rows), int(nout), &one, W, int(nin), d,
                                 int(nout), &zero, dother, int(nin)),
                   "gemm (Dense input gradient)");
    } else if (k == pk::kRNN || k == pk::kLSTM) {
      backward_recurrent(i, d, need_dx ? dother : nullptr, n);
    } else if (k == pk::kFlatten) {
      if (need_dx)
        PHYSDL_CUDA_CHECK(cudaMemcpyAsync(dother, d, sizeof(T) * std::size_t(n * sizes_[i]), cudaMemcpyDeviceToDevice,
                                          d_->stream));
    } else if (need_dx) {
      k_activation_back<T><<<blocks_for(n * sizes_[i]), kThreads, 0, d_->stream>>>(k, x, y, d, dother, n * sizes_[i]);
    }
    if (need_dx) std::swap(d, dother);
  }
  dx_ = d;  // with input_grad: the gradient with respect to the input
}

template <class T>
void Network<T>::forward_recurrent(std::size_t i, const T* x, T* y, long n) {
  const bool lstm = kinds_[i] == pk::kLSTM, ret_seq = settings_[i][2] != 0;
  const long I = settings_[i][0], H = settings_[i][1], Tn = sizes_[i] / I, G = (lstm ? 4 : 1) * H;
  auto& r = d_->rec.at(i);
  const T* Wx = d_->params.ptr + poff_[i];
  const T* Wh = Wx + G * I;
  const T* b = Wh + G * H;
  cudaStream_t st = d_->stream;
  k_time_major<T><<<blocks_for(n * Tn * I), kThreads, 0, st>>>(x, r.xtm.ptr, n, Tn, I, true);
  rm_gemm<T>(d_->handle, false, true, Tn * n, G, I, T(1), r.xtm.ptr, I, Wx, I, T(0), r.pre.ptr, G, "gemm (input projection)");
  k_bias_act<T><<<blocks_for(Tn * n * G), kThreads, 0, st>>>(r.pre.ptr, b, Tn * n, G);
  for (long t = 0; t < Tn; ++t) {
    T* a = r.pre.ptr + t * n * G;
    T* h = r.hs.ptr + t * n * H;
    if (t > 0) rm_gemm<T>(d_->handle, false, true, n, G, H, T(1), h - n * H, H, Wh, H, T(1), a, G, "gemm (recurrent)");
    if (!lstm) {
      k_activation<T><<<blocks_for(n * H), kThreads, 0, st>>>(pk::kTanh, a, h, n * H);
      continue;
    }
    T* c = r.cs.ptr + t * n * H;
    k_lstm_step<T><<<blocks_for(n * H), kThreads, 0, st>>>(a, t > 0 ? c - n * H : nullptr, c, r.tcs.ptr + t * n * H, h,
                                                            n, H);
  }
  k_gather_hidden<T><<<blocks_for(n * (ret_seq ? Tn : 1) * H), kThreads, 0, st>>>(r.hs.ptr, y, n, Tn, H, ret_seq);
}

template <class T>
void Network<T>::backward_recurrent(std::size_t i, const T* dy, T* dx, long n) {
  const bool lstm = kinds_[i] == pk::kLSTM, ret_seq = settings_[i][2] != 0;
  const long I = settings_[i][0], H = settings_[i][1], Tn = sizes_[i] / I, G = (lstm ? 4 : 1) * H;
  auto& r = d_->rec.at(i);
  const T* Wx = d_->params.ptr + poff_[i];
  const T* Wh = Wx + G * I;
  T* g = d_->grads.ptr + poff_[i];
  cudaStream_t st = d_->stream;
  PHYSDL_CUDA_CHECK(cudaMemsetAsync(r.dhn.ptr, 0, sizeof(T) * std::size_t(n * H), st));
  if (lstm) PHYSDL_CUDA_CHECK(cudaMemsetAsync(r.dc.ptr, 0, sizeof(T) * std::size_t(n * H), st));
  for (long t = Tn - 1; t >= 0; --t) {
    k_dh<T><<<blocks_for(n * H), kThreads, 0, st>>>(r.dhn.ptr, dy, r.dh.ptr, n, Tn, H, t, ret_seq);
    T* da = r.dpre.ptr + t * n * G;
    const T* h = r.hs.ptr + t * n * H;
    if (!lstm)
      k_rnn_back<T><<<blocks_for(n * H), kThreads, 0, st>>>(r.dh.ptr, h, da, n * H);
    else
      k_lstm_back<T><<<blocks_for(n * H), kThreads, 0, st>>>(r.pre.ptr + t * n * G, r.tcs.ptr + t * n * H,
                                                              t > 0 ? r.cs.ptr + (t - 1) * n * H : nullptr, r.dh.ptr,
                                                              r.dc.ptr, da, n, H);
    if (t > 0) rm_gemm<T>(d_->handle, false, false, n, H, G, T(1), da, G, Wh, H, T(0), r.dhn.ptr, H, "gemm (dh)");
  }
  rm_gemm<T>(d_->handle, true, false, G, I, Tn * n, T(1), r.dpre.ptr, G, r.xtm.ptr, I, T(0), g, I, "gemm (dWx)");
  T* gWh = g + G * I;
  if (Tn > 1)
    rm_gemm<T>(d_->handle, true, false, G, H, (Tn - 1) * n, T(1), r.dpre.ptr + n * G, G, r.hs.ptr, H, T(0), gWh, H,
               "gemm (dWh)");
  else
    PHYSDL_CUDA_CHECK(cudaMemsetAsync(gWh, 0, sizeof(T) * std::size_t(G * H), st));
  k_colsum<T><<<blocks_for(G), kThreads, 0, st>>>(r.dpre.ptr, gWh + G * H, Tn * n, G);
  if (dx) {
    rm_gemm<T>(d_->handle, false, false, Tn * n, I, G, T(1), r.dpre.ptr, G, Wx, I, T(0), r.dxtm.ptr, I, "gemm (dx)");
    k_time_major<T><<<blocks_for(n * Tn * I), kThreads, 0, st>>>(r.dxtm.ptr, dx, n, Tn, I, false);
  }
}

template <class T>
void Network<T>::forward(const T* x, long n, T* y) {
  if (n < 1) throw std::invalid_argument("forward needs at least one sample");
  upload_if_dirty();
  ensure_capacity(n);
  stage(x, n, -1, nullptr, nullptr);
  enqueue_forward(n);
  PHYSDL_CUDA_CHECK(cudaMemcpyAsync(y, d_->acts.back().ptr, sizeof(T) * std::size_t(n * sizes_.back()),
                                    cudaMemcpyDeviceToHost, d_->stream));
  PHYSDL_CUDA_CHECK(cudaStreamSynchronize(d_->stream));
  check_launch("nn forward");
}

namespace {
void raise_loss_error(int err) {
  if (err == 1) throw std::invalid_argument("y: labels must be in [0, C) or -100 (ignored)");
  if (err == 2) throw std::invalid_argument("y: every label is -100 (ignored); nothing to fit");
}
}  // namespace

template <class T>
double Network<T>::gradients(const T* x, long n, int loss, const T* targets, const std::int64_t* labels, T* dx) {
  if (n < 1) throw std::invalid_argument("gradients need at least one sample");
  if (loss < pk::kMSE || loss > pk::kSoftmaxCE) throw std::invalid_argument("unknown loss code " + std::to_string(loss));
  upload_if_dirty();
  ensure_capacity(n);
  stage(x, n, loss, targets, labels);
  enqueue_forward(n);
  enqueue_loss_backward(n, loss, dx != nullptr);
  PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->hloss.ptr, d_->loss.ptr, sizeof(double), cudaMemcpyDeviceToHost, d_->stream));
  PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->herr.ptr, d_->err.ptr, sizeof(int), cudaMemcpyDeviceToHost, d_->stream));
  if (dx)
    PHYSDL_CUDA_CHECK(cudaMemcpyAsync(dx, dx_, sizeof(T) * std::size_t(n * sizes_.front()), cudaMemcpyDeviceToHost,
                                      d_->stream));
  PHYSDL_CUDA_CHECK(cudaStreamSynchronize(d_->stream));
  check_launch("nn gradients");
  raise_loss_error(*d_->herr.ptr);
  return d_->hloss.ptr[0];
}

template <class T>
double Network<T>::train(const T* x, long n, int loss, const T* targets, const std::int64_t* labels,
                         Optimizer<T>& opt) {
  if (n < 1) throw std::invalid_argument("a training step needs at least one sample");
  if (loss < pk::kMSE || loss > pk::kSoftmaxCE) throw std::invalid_argument("unknown loss code " + std::to_string(loss));
  if (opt.size() != np_)
    throw std::invalid_argument("optimizer was built for " + std::to_string(opt.size()) + " parameters, not " +
                                std::to_string(np_));
  upload_if_dirty();
  ensure_capacity(n);
  if (graph_opt_ != opt.id_) {
    clear_graphs();
    graph_opt_ = opt.id_;
  }
  stage(x, n, loss, targets, labels);
  opt.upload_moments();
  const long t_before = opt.t_;
  opt.t_ += 1;
  opt.stage_hyper();
  auto enqueue = [&] {
    enqueue_forward(n);
    enqueue_loss_backward(n, loss, false);
    PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->hloss.ptr, d_->loss.ptr, sizeof(double), cudaMemcpyDeviceToHost, d_->stream));
    PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->herr.ptr, d_->err.ptr, sizeof(int), cudaMemcpyDeviceToHost, d_->stream));
    opt.enqueue_step(d_->stream, d_->params.ptr, d_->grads.ptr);
  };
  const auto key = std::make_pair(n, loss);
  auto it = graphs_.find(key);
  try {
    if (it == graphs_.end()) {
      // first step of this shape runs eagerly (cuBLAS settles its kernels); the next one is captured
      enqueue();
      graphs_[key] = nullptr;
    } else if (it->second == nullptr) {
      cudaGraph_t g = nullptr;
      PHYSDL_CUDA_CHECK(cudaStreamBeginCapture(d_->stream, cudaStreamCaptureModeThreadLocal));
      try {
        enqueue();
      } catch (...) {
        cudaStreamEndCapture(d_->stream, &g);
        if (g) cudaGraphDestroy(g);
        throw;
      }
      PHYSDL_CUDA_CHECK(cudaStreamEndCapture(d_->stream, &g));
      cudaGraphExec_t exec = nullptr;
      const cudaError_t e = cudaGraphInstantiate(&exec, g, 0);
      cudaGraphDestroy(g);
      PHYSDL_CUDA_CHECK(e);
      it->second = exec;
      PHYSDL_CUDA_CHECK(cudaGraphLaunch(exec, d_->stream));
    } else {
      PHYSDL_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(it->second), d_->stream));
    }
    PHYSDL_CUDA_CHECK(cudaStreamSynchronize(d_->stream));
    check_launch("nn training step");
  } catch (...) {
    opt.t_ = t_before;
    throw;
  }
  device_newer_ = true;
  if (*d_->herr.ptr) {
    opt.t_ = t_before;  // the loss refused the labels: the update used zero gradients; report it
    raise_loss_error(*d_->herr.ptr);
  }
  return d_->hloss.ptr[0];
}

template <class T>
void Network<T>::backward(const T* x, long n, const T* dy, T* dx) {
  if (n < 1) throw std::invalid_argument("backward needs at least one sample");
  upload_if_dirty();
  ensure_capacity(n);
  stage(x, n, -1, nullptr, nullptr);
  enqueue_forward(n);
  PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->d0.ptr, dy, sizeof(T) * std::size_t(n * sizes_.back()), cudaMemcpyHostToDevice,
                                    d_->stream));
  enqueue_backward(n, dx != nullptr);
  if (dx)
    PHYSDL_CUDA_CHECK(cudaMemcpyAsync(dx, dx_, sizeof(T) * std::size_t(n * sizes_.front()), cudaMemcpyDeviceToHost,
                                      d_->stream));
  PHYSDL_CUDA_CHECK(cudaStreamSynchronize(d_->stream));
  check_launch("nn backward");
}

template <class T>
void Network<T>::apply_gradients(const T* g, Optimizer<T>& opt) {
  if (opt.size() != np_)
    throw std::invalid_argument("optimizer was built for " + std::to_string(opt.size()) + " parameters, not " +
                                std::to_string(np_));
  upload_if_dirty();
  opt.upload_moments();
  PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->grads.ptr, g, sizeof(T) * std::size_t(np_), cudaMemcpyHostToDevice, d_->stream));
  opt.t_ += 1;
  opt.stage_hyper();
  opt.enqueue_step(d_->stream, d_->params.ptr, d_->grads.ptr);
  PHYSDL_CUDA_CHECK(cudaStreamSynchronize(d_->stream));
  check_launch("nn optimizer step");
  device_newer_ = true;
}

// ------------------------------------------------------------------ optimizer
template <class T>
Optimizer<T>::Optimizer(int kind, double lr, double momentum, double beta1, double beta2, double eps,
                        double weight_decay, double clip_norm, bool nesterov, long nparams)
    : kind_(kind), lr_(lr), momentum_(momentum), beta1_(beta1), beta2_(beta2), eps_(eps), wd_(weight_decay),
      clip_(clip_norm), nesterov_(nesterov), n_(nparams), d_(new Impl) {
  static std::atomic<long> next_id{0};
  id_ = next_id++;
  if (kind != pk::kSGD && kind != pk::kAdam) throw std::invalid_argument("optimizer kind must be SGD or Adam");
  if (nparams < 0) throw std::invalid_argument("nparams must be >= 0");
  d_->m.reset(std::size_t(n_));
  d_->v.reset(std::size_t(n_));
  d_->hyper.reset(1);
  d_->hhyper.reset(1);
  d_->norm2.reset(1);
  if (n_) {
    PHYSDL_CUDA_CHECK(cudaMemset(d_->m.ptr, 0, sizeof(T) * std::size_t(n_)));
    PHYSDL_CUDA_CHECK(cudaMemset(d_->v.ptr, 0, sizeof(T) * std::size_t(n_)));
  }
}

template <class T>
Optimizer<T>::~Optimizer() = default;

template <class T>
void Optimizer<T>::sync_host_moments() {
  if (d_->host_newer) return;
  host_m_.resize(std::size_t(n_));
  host_v_.resize(std::size_t(n_));
  if (n_) {
    PHYSDL_CUDA_CHECK(cudaMemcpy(host_m_.data(), d_->m.ptr, sizeof(T) * std::size_t(n_), cudaMemcpyDeviceToHost));
    PHYSDL_CUDA_CHECK(cudaMemcpy(host_v_.data(), d_->v.ptr, sizeof(T) * std::size_t(n_), cudaMemcpyDeviceToHost));
  }
  d_->host_newer = true;  // handed out: uploaded before the next step
}

template <class T>
T* Optimizer<T>::host_m() {
  sync_host_moments();
  return host_m_.data();
}

template <class T>
T* Optimizer<T>::host_v() {
  sync_host_moments();
  return host_v_.data();
}

template <class T>
void Optimizer<T>::upload_moments() {
  if (!d_->host_newer) return;
  if (n_) {
    PHYSDL_CUDA_CHECK(cudaMemcpy(d_->m.ptr, host_m_.data(), sizeof(T) * std::size_t(n_), cudaMemcpyHostToDevice));
    PHYSDL_CUDA_CHECK(cudaMemcpy(d_->v.ptr, host_v_.data(), sizeof(T) * std::size_t(n_), cudaMemcpyHostToDevice));
  }
  d_->host_newer = false;
}

template <class T>
void Optimizer<T>::stage_hyper() {
  Hyper<T>& h = *d_->hhyper.ptr;
  h.lr = T(lr_);
  h.momentum = T(momentum_);
  h.omb1 = T(1.0 - beta1_);
  h.b2 = T(beta2_);
  h.omb2 = T(1.0 - beta2_);
  const double bc1 = 1.0 - std::pow(beta1_, double(t_));
  const double bc2 = 1.0 - std::pow(beta2_, double(t_));
  h.step_size = T(lr_ / bc1);
  h.bc2s = T(std::sqrt(bc2));
  h.eps = T(eps_);
  h.wd = T(wd_);
  h.clip = clip_;
  h.t = t_;
}

template <class T>
void Optimizer<T>::enqueue_step(void* stream_v, T* params, T* grads) {
  auto stream = static_cast<cudaStream_t>(stream_v);
  PHYSDL_CUDA_CHECK(cudaMemcpyAsync(d_->hyper.ptr, d_->hhyper.ptr, sizeof(Hyper<T>), cudaMemcpyHostToDevice, stream));
  if (clip_ > 0.0) k_sumsq<T><<<1, kThreads, 0, stream>>>(grads, n_, d_->norm2.ptr);
  k_update<T><<<blocks_for(n_), kThreads, 0, stream>>>(kind_, nesterov_, d_->hyper.ptr, d_->norm2.ptr, params, grads,
                                                        d_->m.ptr, d_->v.ptr, n_);
}

template class Network<float>;
template class Network<double>;
template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace physdl::cuda::nn
