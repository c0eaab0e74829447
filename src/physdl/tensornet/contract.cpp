#include "physdl/tensornet/contract.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "physdl/tensornet/blas.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace physdl::tensornet {

namespace {

void fail(const std::string& msg) { throw std::invalid_argument("tensornet program: " + msg); }

long label_size(const std::vector<long>& shape, const Label& l, const std::string& where) {
  if (l.empty()) fail(where + ": a label with no source axis");
  long s = -1;
  for (int ax : l) {
    if (ax < 0 || ax >= int(shape.size())) fail(where + ": source axis out of range");
    if (s >= 0 && shape[ax] != s) fail(where + ": a diagonal over axes of different sizes");
    s = shape[ax];
  }
  return s;
}

long group_size(const std::vector<long>& shape, const std::vector<Label>& g, const std::string& where,
                std::vector<long>* sizes = nullptr) {
  long p = 1;
  for (const auto& l : g) {
    const long s = label_size(shape, l, where);
    if (sizes) sizes->push_back(s);
    p *= s;
  }
  return p;
}

void check_operand(const std::vector<std::vector<long>>& shapes, int avail, const OperandSpec& op,
                   const std::string& where) {
  if (op.slot < 0 || op.slot >= avail) fail(where + ": slot used before it is made");
  const auto& sh = shapes[op.slot];
  std::vector<int> used(sh.size(), 0);
  for (const auto* g : {&op.batch, &op.rows, &op.cols, &op.sums})
    for (const auto& l : *g) {
      label_size(sh, l, where);
      for (int ax : l) used[ax]++;
    }
  for (int u : used)
    if (u != 1) fail(where + ": every source axis must be used exactly once");
  if (op.batch.size() + op.rows.size() + op.cols.size() + op.sums.size() > size_t(kMaxRank))
    fail(where + ": too many labels");
}

}  // namespace

Program::Program(int n_inputs, std::vector<std::vector<long>> slot_shapes, std::vector<StepSpec> steps,
                 OperandSpec final_op)
    : n_inputs_(n_inputs), shapes_(std::move(slot_shapes)), steps_(std::move(steps)), final_(std::move(final_op)) {
  if (n_inputs < 1) fail("needs at least one input");
  if (int(shapes_.size()) != n_inputs + int(steps_.size())) fail("one slot shape per input and per step");
  for (const auto& s : shapes_) {
    if (s.size() > size_t(kMaxRank)) fail("a tensor of rank above 64");
    for (long d : s)
      if (d < 1) fail("dimensions must be >= 1");
  }
  for (size_t i = 0; i < steps_.size(); ++i) {
    const auto& st = steps_[i];
    const int avail = n_inputs + int(i);
    const std::string w = "step " + std::to_string(i);
    check_operand(shapes_, avail, st.a, w + " operand a");
    check_operand(shapes_, avail, st.b, w + " operand b");
    std::vector<long> ab, bb, ak, bk, am, bn;
    group_size(shapes_[st.a.slot], st.a.batch, w, &ab);
    group_size(shapes_[st.b.slot], st.b.batch, w, &bb);
    group_size(shapes_[st.a.slot], st.a.cols, w, &ak);
    group_size(shapes_[st.b.slot], st.b.rows, w, &bk);
    group_size(shapes_[st.a.slot], st.a.rows, w, &am);
    group_size(shapes_[st.b.slot], st.b.cols, w, &bn);
    if (ab != bb) fail(w + ": batch labels of a and b differ in size");
    if (ak != bk) fail(w + ": contracted labels of a and b differ in size");
    std::vector<long> res = ab;
    res.insert(res.end(), am.begin(), am.end());
    res.insert(res.end(), bn.begin(), bn.end());
    if (res != shapes_[avail]) fail(w + ": result slot shape is not batch + rows(a) + cols(b)");
  }
  check_operand(shapes_, int(shapes_.size()), final_, "final");
  if (!final_.batch.empty() || !final_.cols.empty()) fail("final operand has only rows");
  group_size(shapes_[final_.slot], final_.rows, "final", &out_shape_);
  if (!steps_.empty() && final_.slot != int(shapes_.size()) - 1) fail("final operand must read the last slot");
}

long Program::out_size() const {
  long p = 1;
  for (long d : out_shape_) p *= d;
  return p;
}

double Program::flops() const {
  double f = 0;
  for (const auto& st : steps_) {
    const auto& sa = shapes_[st.a.slot];
    const auto& sb = shapes_[st.b.slot];
    f += double(group_size(sa, st.a.batch, "")) * double(group_size(sa, st.a.rows, "")) *
         double(group_size(sa, st.a.cols, "")) * double(group_size(sb, st.b.cols, ""));
  }
  return f;
}

namespace {

template <class T>
struct View {
  const T* p;
  const std::vector<long>* shape;
  const long* stride;
};

struct Dims {
  int n = 0;
  long size[kMaxRank];
  long stride[kMaxRank];
};

// Logical dims of a group: size and (summed over a diagonal's axes) stride.
inline void add_group(Dims& d, const std::vector<long>& shape, const long* stride, const std::vector<Label>& g) {
  for (const auto& l : g) {
    long st = 0;
    for (int ax : l) st += stride[ax];
    d.size[d.n] = shape[l[0]];
    d.stride[d.n] = st;
    ++d.n;
  }
}

// Merge a run of dims into one (size, stride); false when the strides do not nest.
inline bool merge(const Dims& d, int lo, int hi, long& size, long& stride) {
  size = 1;
  stride = 0;
  bool have = false;
  long prev_stride = 0;
  for (int i = hi - 1; i >= lo; --i) {
    if (d.size[i] == 1) continue;
    if (!have) {
      stride = d.stride[i];
      prev_stride = d.stride[i] * d.size[i];
      have = true;
    } else {
      if (d.stride[i] != prev_stride) return false;
      prev_stride = d.stride[i] * d.size[i];
    }
    size *= d.size[i];
  }
  return true;
}

template <class T>
inline T sum_over(const T* p, const Dims& s) {
  if (s.n == 0) return *p;
  long idx[kMaxRank] = {0};
  long off = 0;
  T acc(0);
  const int last = s.n - 1;
  const long inner = s.size[last], istr = s.stride[last];
  while (true) {
    const T* q = p + off;
    for (long i = 0; i < inner; ++i) acc += q[i * istr];
    int k = last - 1;
    for (; k >= 0; --k) {
      off += s.stride[k];
      if (++idx[k] < s.size[k]) break;
      off -= s.stride[k] * s.size[k];
      idx[k] = 0;
    }
    if (k < 0) break;
  }
  return acc;
}

// dst (contiguous, dims o in order) = sum over dims s of src.
template <class T>
void gather(const T* src, const Dims& o, const Dims& s, T* dst) {
  if (o.n == 0) {
    dst[0] = sum_over(src, s);
    return;
  }
  long idx[kMaxRank] = {0};
  long off = 0;
  const int last = o.n - 1;
  const long inner = o.size[last], istr = o.stride[last];
  while (true) {
    const T* q = src + off;
    if (s.n == 0) {
      if (istr == 1) {
        std::memcpy(static_cast<void*>(dst), static_cast<const void*>(q), sizeof(T) * size_t(inner));
      } else {
        for (long i = 0; i < inner; ++i) dst[i] = q[i * istr];
      }
    } else {
      for (long i = 0; i < inner; ++i) dst[i] = sum_over(q + i * istr, s);
    }
    dst += inner;
    int k = last - 1;
    for (; k >= 0; --k) {
      off += o.stride[k];
      if (++idx[k] < o.size[k]) break;
      off -= o.stride[k] * o.size[k];
      idx[k] = 0;
    }
    if (k < 0) break;
  }
}

template <class T>
struct Mat {
  const T* p;
  long nb, r, c, sb, ld;
  bool trans;
};

// How an operand comes into (batch, rows, cols) form: read in place when the strides allow, else gathered
// into a work buffer.  The choice depends on the slot's shape and strides only, which are the same for every
// sample of a batch, so it is made once per call and applied to each sample's base pointer.
template <class T>
struct OpPlan {
  bool direct = false;
  Mat<T> m{};
  Dims d, s;
};

template <class T>
OpPlan<T> plan_operand(const std::vector<long>& shape, const long* strides, const OperandSpec& op) {
  OpPlan<T> pl;
  Dims& d = pl.d;
  add_group(d, shape, strides, op.batch);
  const int nbd = d.n;
  add_group(d, shape, strides, op.rows);
  const int nrd = d.n;
  add_group(d, shape, strides, op.cols);
  bool simple = op.sums.empty();
  if (simple)
    for (const auto* g : {&op.batch, &op.rows, &op.cols})
      for (const auto& l : *g)
        if (l.size() != 1) simple = false;
  long nb, sb, r, sr, c, sc;
  if (simple && merge(d, 0, nbd, nb, sb) && merge(d, nbd, nrd, r, sr) && merge(d, nrd, d.n, c, sc)) {
    if (nb <= 1) sb = 0;
    if (c <= 1 || sc == 1) {
      const long ld = (r <= 1) ? std::max(c, 1L) : sr;
      if (ld >= std::max(c, 1L)) {
        pl.direct = true;
        pl.m = Mat<T>{nullptr, nb, r, c, sb, ld, false};
        return pl;
      }
    }
    if (r <= 1 || sr == 1) {
      const long ld = (c <= 1) ? std::max(r, 1L) : sc;
      if (ld >= std::max(r, 1L)) {
        pl.direct = true;
        pl.m = Mat<T>{nullptr, nb, r, c, sb, ld, true};
        return pl;
      }
    }
  }
  nb = r = c = 1;
  for (int i = 0; i < nbd; ++i) nb *= d.size[i];
  for (int i = nbd; i < nrd; ++i) r *= d.size[i];
  for (int i = nrd; i < d.n; ++i) c *= d.size[i];
  add_group(pl.s, shape, strides, op.sums);
  pl.m = Mat<T>{nullptr, nb, r, c, r * c, std::max(c, 1L), false};
  return pl;
}

template <class T>
inline Mat<T> apply_plan(const OpPlan<T>& pl, const T* p, T* work) {
  Mat<T> m = pl.m;
  if (pl.direct) {
    m.p = p;
  } else {
    gather(p, pl.d, pl.s, work);
    m.p = work;
  }
  return m;
}

template <class T>
Mat<T> prepare(const View<T>& v, const OperandSpec& op, T* work) {
  return apply_plan(plan_operand<T>(*v.shape, v.stride, op), v.p, work);
}

// C[m,N] = A[m,K] B[K,N], N and K fixed so the compiler unrolls and vectorises; the same order of the sums
// over K as the direct loop of the core.
template <class T, int N, int K>
void small_nn(long m, const T* a, long lda, const T* b, long ldb, T* c) {
  T bl[K][N];
  for (int p = 0; p < K; ++p)
    for (int j = 0; j < N; ++j) bl[p][j] = b[p * ldb + j];
  for (long i = 0; i < m; ++i) {
    T acc[N];
    for (int j = 0; j < N; ++j) acc[j] = T(0);
    const T* ai = a + i * lda;
    for (int p = 0; p < K; ++p) {
      const T aip = ai[p];
      for (int j = 0; j < N; ++j) acc[j] += aip * bl[p][j];
    }
    for (int j = 0; j < N; ++j) c[i * N + j] = acc[j];
  }
}

template <class T>
using small_fn = void (*)(long, const T*, long, const T*, long, T*);

// The fixed-size kernel for n, k in {2, 4, 8} (row-major, neither operand transposed), else null.
template <class T>
small_fn<T> small_kernel(long n, long k) {
  auto code = [](long v) { return v == 2 ? 0 : v == 4 ? 1 : v == 8 ? 2 : -1; };
  const int cn = code(n), ck = code(k);
  if (cn < 0 || ck < 0) return nullptr;
  static const small_fn<T> table[3][3] = {
      {small_nn<T, 2, 2>, small_nn<T, 2, 4>, small_nn<T, 2, 8>},
      {small_nn<T, 4, 2>, small_nn<T, 4, 4>, small_nn<T, 4, 8>},
      {small_nn<T, 8, 2>, small_nn<T, 8, 4>, small_nn<T, 8, 8>}};
  return table[cn][ck];
}

template <class T>
void run_step(const Mat<T>& A, const Mat<T>& B, T* C) {
  const long m = A.r, k = A.c, n = B.c;
  const long nb = A.nb;
  if (!A.trans && !B.trans && m * n * k <= small_gemm_threshold()) {
    if (const small_fn<T> f = small_kernel<T>(n, k)) {
      for (long b = 0; b < nb; ++b) f(m, A.p + b * A.sb, A.ld, B.p + b * B.sb, B.ld, C + b * m * n);
      return;
    }
  }
  if (m == 1 && n == 1) {  // batched dot products
    for (long b = 0; b < nb; ++b) {
      const T* a = A.p + b * A.sb;
      const T* bb = B.p + b * B.sb;
      const long sa = A.trans ? A.ld : 1, sbk = B.trans ? 1 : B.ld;
      T acc(0);
      for (long p = 0; p < k; ++p) acc += a[p * sa] * bb[p * sbk];
      C[b] = acc;
    }
    return;
  }
  for (long b = 0; b < nb; ++b)
    gemm<T>(A.trans, B.trans, m, n, k, A.p + b * A.sb, A.ld, B.p + b * B.sb, B.ld, C + b * m * n, n);
}

long prod(const std::vector<long>& s) {
  long p = 1;
  for (long d : s) p *= d;
  return p;
}

}  // namespace

template <class T>
void execute(const Program& prog, const std::vector<InputView<T>>& inputs, long n_samples, T* out, bool parallel) {
  const int ni = prog.n_inputs(), ns = prog.n_slots();
  if (int(inputs.size()) != ni) throw std::invalid_argument("execute: wrong number of inputs");
  if (n_samples < 0) throw std::invalid_argument("execute: negative number of samples");
  std::vector<char> shared(ns, 0);
  for (int i = 0; i < ni; ++i) {
    const auto& in = inputs[i];
    if (in.strides.size() != prog.slot_shape(i).size())
      throw std::invalid_argument("execute: input " + std::to_string(i) + " has the wrong rank");
    if (in.select_strides.size() != in.select_sizes.size())
      throw std::invalid_argument("execute: select strides and sizes differ in length");
    const size_t nsel = in.select_sizes.size();
    if (nsel && in.select_index == nullptr) throw std::invalid_argument("execute: select index missing");
    for (long s = 0; s < n_samples; ++s)
      for (size_t j = 0; j < nsel; ++j) {
        const std::int64_t v = in.select_index[s * long(nsel) + long(j)];
        if (v < 0 || v >= in.select_sizes[j])
          throw std::out_of_range("execute: index " + std::to_string(v) + " of input " + std::to_string(i) +
                                  " outside 0.." + std::to_string(in.select_sizes[j] - 1));
      }
    shared[i] = (in.sample_stride == 0 && nsel == 0) ? 1 : 0;
  }
  const auto& steps = prog.steps();
  for (size_t i = 0; i < steps.size(); ++i) shared[ni + i] = shared[steps[i].a.slot] && shared[steps[i].b.slot];

  // contiguous strides of every intermediate
  std::vector<std::vector<long>> cstr(ns);
  for (int s = ni; s < ns; ++s) {
    const auto& sh = prog.slot_shape(s);
    cstr[s].assign(sh.size(), 1);
    for (int d = int(sh.size()) - 2; d >= 0; --d) cstr[s][d] = cstr[s][d + 1] * sh[d + 1];
  }
  std::vector<long> slot_size(ns);
  for (int s = 0; s < ns; ++s) slot_size[s] = prod(prog.slot_shape(s));
  auto op_size = [&](const OperandSpec& op) {
    const auto& sh = prog.slot_shape(op.slot);
    long p = 1;
    for (const auto* g : {&op.batch, &op.rows, &op.cols})
      for (const auto& l : *g) p *= sh[l[0]];
    return p;
  };

  // shared part: steps on shared slots, and the prepared form of shared operands
  std::vector<std::vector<T>> shared_buf(ns);
  std::vector<std::vector<T>> shared_work(2 * steps.size());
  std::vector<Mat<T>> shared_mat(2 * steps.size());
  auto shared_view = [&](int slot) {
    if (slot < ni) return View<T>{inputs[slot].base, &prog.slot_shape(slot), inputs[slot].strides.data()};
    return View<T>{shared_buf[slot].data(), &prog.slot_shape(slot), cstr[slot].data()};
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto& st = steps[i];
    for (int w = 0; w < 2; ++w) {
      const OperandSpec& op = w == 0 ? st.a : st.b;
      if (!shared[op.slot]) continue;
      shared_work[2 * i + w].resize(size_t(op_size(op)));
      shared_mat[2 * i + w] = prepare(shared_view(op.slot), op, shared_work[2 * i + w].data());
    }
    if (shared[ni + i]) {
      shared_buf[ni + i].resize(size_t(slot_size[ni + i]));
      run_step(shared_mat[2 * i], shared_mat[2 * i + 1], shared_buf[ni + i].data());
    }
  }

  const long osz = prog.out_size();
  const auto& fin = prog.final_op();
  // layouts of the per-sample operands and of the output, planned once for the whole batch
  auto slot_strides = [&](int slot) -> const long* {
    return slot < ni ? inputs[slot].strides.data() : cstr[slot].data();
  };
  std::vector<OpPlan<T>> plans(2 * steps.size());
  for (size_t i = 0; i < steps.size(); ++i)
    for (int w = 0; w < 2; ++w) {
      const OperandSpec& op = w == 0 ? steps[i].a : steps[i].b;
      if (!shared[ni + i] && !shared[op.slot])
        plans[2 * i + w] = plan_operand<T>(prog.slot_shape(op.slot), slot_strides(op.slot), op);
    }
  Dims fin_o, fin_s;
  add_group(fin_o, prog.slot_shape(fin.slot), slot_strides(fin.slot), fin.rows);
  add_group(fin_s, prog.slot_shape(fin.slot), slot_strides(fin.slot), fin.sums);
  auto body = [&](long s0, long s1) {
    std::vector<std::vector<T>> buf(ns), work(2 * steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
      if (!shared[ni + i]) buf[ni + i].resize(size_t(slot_size[ni + i]));
      for (int w = 0; w < 2; ++w) {
        const OperandSpec& op = w == 0 ? steps[i].a : steps[i].b;
        if (!shared[op.slot]) work[2 * i + w].resize(size_t(op_size(op)));
      }
    }
    std::vector<const T*> ptr(ns, nullptr);
    for (int s = ni; s < ns; ++s) ptr[s] = shared[s] ? shared_buf[s].data() : buf[s].data();
    for (long s = s0; s < s1; ++s) {
      for (int i = 0; i < ni; ++i) {
        const auto& in = inputs[i];
        long off = s * in.sample_stride;
        const size_t nsel = in.select_sizes.size();
        for (size_t j = 0; j < nsel; ++j) off += in.select_index[s * long(nsel) + long(j)] * in.select_strides[j];
        ptr[i] = in.base + off;
      }
      for (size_t i = 0; i < steps.size(); ++i) {
        if (shared[ni + i]) continue;
        const auto& st = steps[i];
        const Mat<T> A = shared[st.a.slot] ? shared_mat[2 * i] : apply_plan(plans[2 * i], ptr[st.a.slot], work[2 * i].data());
        const Mat<T> B = shared[st.b.slot] ? shared_mat[2 * i + 1]
                                           : apply_plan(plans[2 * i + 1], ptr[st.b.slot], work[2 * i + 1].data());
        run_step(A, B, buf[ni + i].data());
      }
      gather(ptr[fin.slot], fin_o, fin_s, out + s * osz);
    }
  };
#ifdef _OPENMP
  if (parallel && n_samples > 1 && omp_get_max_threads() > 1) {
    std::string err;
#pragma omp parallel
    {
      const long nt = omp_get_num_threads(), t = omp_get_thread_num();
      const long s0 = n_samples * t / nt, s1 = n_samples * (t + 1) / nt;
      try {
        body(s0, s1);
      } catch (const std::exception& e) {
#pragma omp critical
        err = e.what();
      }
    }
    if (!err.empty()) throw std::runtime_error(err);
    return;
  }
#endif
  (void)parallel;
  body(0, n_samples);
}

template void execute<float>(const Program&, const std::vector<InputView<float>>&, long, float*, bool);
template void execute<double>(const Program&, const std::vector<InputView<double>>&, long, double*, bool);
template void execute<std::complex<float>>(const Program&, const std::vector<InputView<std::complex<float>>>&, long,
                                           std::complex<float>*, bool);
template void execute<std::complex<double>>(const Program&, const std::vector<InputView<std::complex<double>>>&,
                                            long, std::complex<double>*, bool);

}  // namespace physdl::tensornet
