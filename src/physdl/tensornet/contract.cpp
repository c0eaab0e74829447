#include "physdl/tensornet/contract.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "physdl/tensornet/blas.hpp"
#include "physdl/tensornet/small_gemm.hpp"

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

// The kernel arguments of a product of two matrices in (batch, rows, cols) form.
template <class T>
inline detail::SmallArgs small_args(const Mat<T>& A, const Mat<T>& B) {
  detail::SmallArgs g;
  g.nb = A.nb;
  g.m = A.r;
  g.k = A.c;
  g.n = B.c;
  g.a_bs = A.nb > 1 ? A.sb : 0;
  g.a_rs = A.trans ? 1 : A.ld;
  g.a_cs = A.trans ? A.ld : 1;
  g.b_bs = B.nb > 1 ? B.sb : 0;
  g.b_rs = B.trans ? 1 : B.ld;
  g.b_cs = B.trans ? B.ld : 1;
  return g;
}

template <class T>
void run_step(const Mat<T>& A, const Mat<T>& B, T* C, long small) {
  const long m = A.r, k = A.c, n = B.c;
  const long nb = A.nb;
  if (m * n * k <= small) {
    const detail::SmallArgs g = small_args(A, B);
    detail::pick_small_kernel<T>(g)(g, A.p, B.p, C);
    return;
  }
  for (long b = 0; b < nb; ++b)
    gemm<T>(A.trans, B.trans, m, n, k, A.p + b * A.sb, A.ld, B.p + b * B.sb, B.ld, C + b * m * n, n);
}

// Offsets of every entry of dims d in row-major order (the last dim fastest), as the gathers walk them.
void enumerate(const Dims& d, std::vector<long>& out) {
  long total = 1;
  for (int i = 0; i < d.n; ++i) total *= d.size[i];
  out.assign(size_t(total), 0);
  if (d.n == 0) return;
  long idx[kMaxRank] = {0};
  long off = 0;
  for (long t = 0; t < total; ++t) {
    out[size_t(t)] = off;
    for (int k = d.n - 1; k >= 0; --k) {
      off += d.stride[k];
      if (++idx[k] < d.size[k]) break;
      off -= d.stride[k] * d.size[k];
      idx[k] = 0;
    }
  }
}

// dst[i] = src[off[i]], or with summed dims the sum over soff in order (as gather/sum_over).
template <class T>
inline void gather_table(const T* __restrict src, const long* __restrict off, long n, const long* __restrict soff,
                         long ns, T* __restrict dst) {
  if (ns == 0) {
    for (long i = 0; i < n; ++i) dst[i] = src[off[i]];
    return;
  }
  for (long i = 0; i < n; ++i) {
    const T* q = src + off[i];
    T acc(0);
    for (long j = 0; j < ns; ++j) acc += q[soff[j]];
    dst[i] = acc;
  }
}

// An operand of a small per-sample step: read in place through (batch, row, col) strides, or gathered
// through precomputed offset tables (a permutation, diagonal or sum) into a contiguous block.  Planned
// once per call from the slot's strides, which are the same for every sample.
struct SmallOp {
  bool direct = true;
  long nb = 1, r = 1, c = 1, bs = 0, rs = 0, cs = 0;
  std::vector<long> off, soff;
};

constexpr long kMaxTable = 1L << 15;  // largest gathered operand of the small path (entries)

// false when the operand is too large for a table
bool plan_small(const std::vector<long>& shape, const long* strides, const OperandSpec& op, SmallOp& so) {
  Dims d, sd;
  add_group(d, shape, strides, op.batch);
  const int nbd = d.n;
  add_group(d, shape, strides, op.rows);
  const int nrd = d.n;
  add_group(d, shape, strides, op.cols);
  so.nb = so.r = so.c = 1;
  for (int i = 0; i < nbd; ++i) so.nb *= d.size[i];
  for (int i = nbd; i < nrd; ++i) so.r *= d.size[i];
  for (int i = nrd; i < d.n; ++i) so.c *= d.size[i];
  long nb, r, c;
  if (op.sums.empty() && merge(d, 0, nbd, nb, so.bs) && merge(d, nbd, nrd, r, so.rs) && merge(d, nrd, d.n, c, so.cs)) {
    so.direct = true;
    if (so.nb <= 1) so.bs = 0;
    return true;
  }
  if (so.nb * so.r * so.c > kMaxTable) return false;
  add_group(sd, shape, strides, op.sums);
  long nsum = 1;
  for (int i = 0; i < sd.n; ++i) nsum *= sd.size[i];
  if (nsum > kMaxTable) return false;
  so.direct = false;
  enumerate(d, so.off);
  if (sd.n > 0) enumerate(sd, so.soff);
  so.bs = so.r * so.c;
  so.rs = so.c;
  so.cs = 1;
  return true;
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
  const long small = small_gemm_threshold();

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
      run_step(shared_mat[2 * i], shared_mat[2 * i + 1], shared_buf[ni + i].data(), small);
    }
  }

  const long osz = prog.out_size();
  const auto& fin = prog.final_op();
  auto slot_strides = [&](int slot) -> const long* {
    return slot < ni ? inputs[slot].strides.data() : cstr[slot].data();
  };
  // The per-sample program, planned once for the whole batch: for every step that depends on a sample,
  // either a small product (kernel picked for its sizes, operands in place or through offset tables) or a
  // general one (BLAS, operands laid out as before).  Nothing in the sample loop depends on more than the
  // slot pointers.
  struct Run {
    int out = 0;
    bool small = false;
    detail::SmallArgs g;
    detail::small_kernel_fn<T> fn = nullptr;
    int slot[2] = {0, 0};
    const T* fixed[2] = {nullptr, nullptr};  // shared operands (prepared once)
    SmallOp op[2];
    long work[2] = {0, 0};  // entries of the work buffer of each gathered operand
  };
  std::vector<Run> runs;
  std::vector<OpPlan<T>> gplans;  // operand layouts of the general steps, two per run
  for (size_t i = 0; i < steps.size(); ++i) {
    if (shared[ni + i]) continue;
    const auto& st = steps[i];
    Run r;
    r.out = ni + int(i);
    const OperandSpec* ops[2] = {&st.a, &st.b};
    long dims[2][3];  // nb, rows, cols of each operand
    bool fits = true;
    for (int w = 0; w < 2; ++w) {
      const OperandSpec& op = *ops[w];
      r.slot[w] = op.slot;
      if (shared[op.slot]) {
        const Mat<T>& m = shared_mat[2 * i + w];
        r.fixed[w] = m.p;
        r.op[w].direct = true;
        r.op[w].nb = m.nb;
        r.op[w].r = m.r;
        r.op[w].c = m.c;
        r.op[w].bs = m.nb > 1 ? m.sb : 0;
        r.op[w].rs = m.trans ? 1 : m.ld;
        r.op[w].cs = m.trans ? m.ld : 1;
      } else if (!plan_small(prog.slot_shape(op.slot), slot_strides(op.slot), op, r.op[w])) {
        fits = false;
      }
      dims[w][0] = r.op[w].nb;
      dims[w][1] = r.op[w].r;
      dims[w][2] = r.op[w].c;
    }
    r.small = fits && dims[0][1] * dims[0][2] * dims[1][2] <= small;
    if (r.small) {
      detail::SmallArgs& g = r.g;
      g.nb = dims[0][0];
      g.m = dims[0][1];
      g.k = dims[0][2];
      g.n = dims[1][2];
      g.a_bs = r.op[0].bs;
      g.a_rs = r.op[0].rs;
      g.a_cs = r.op[0].cs;
      g.b_bs = r.op[1].bs;
      g.b_rs = r.op[1].rs;
      g.b_cs = r.op[1].cs;
      r.fn = detail::pick_small_kernel<T>(g);
      for (int w = 0; w < 2; ++w) r.work[w] = r.op[w].direct ? 0 : long(r.op[w].off.size());
    }
    gplans.emplace_back();
    gplans.emplace_back();
    if (!r.small) {
      for (int w = 0; w < 2; ++w)
        if (!shared[ops[w]->slot]) {
          gplans[2 * runs.size() + w] =
              plan_operand<T>(prog.slot_shape(ops[w]->slot), slot_strides(ops[w]->slot), *ops[w]);
          r.work[w] = op_size(*ops[w]);
        }
    }
    runs.push_back(std::move(r));
  }
  Dims fin_o, fin_s;
  add_group(fin_o, prog.slot_shape(fin.slot), slot_strides(fin.slot), fin.rows);
  add_group(fin_s, prog.slot_shape(fin.slot), slot_strides(fin.slot), fin.sums);
  long fin_nsum = 1;
  for (int i = 0; i < fin_s.n; ++i) fin_nsum *= fin_s.size[i];
  const bool fin_table = osz <= kMaxTable && fin_nsum <= kMaxTable;
  std::vector<long> fin_off, fin_soff;
  if (fin_table) {
    enumerate(fin_o, fin_off);
    if (fin_s.n > 0) enumerate(fin_s, fin_soff);
  }
  // per-sample inputs: base pointer, sample stride and sliced axes
  struct In {
    const T* base;
    long sample_stride;
    long nsel;
    const long* sel_stride;
    const std::int64_t* sel_index;
  };
  std::vector<In> ins(ni);
  for (int i = 0; i < ni; ++i)
    ins[i] = In{inputs[i].base, inputs[i].sample_stride, long(inputs[i].select_sizes.size()),
                inputs[i].select_strides.data(), inputs[i].select_index};
  auto body = [&](long s0, long s1) {
    std::vector<std::vector<T>> buf(ns);
    std::vector<std::vector<T>> work(2 * runs.size());
    for (size_t j = 0; j < runs.size(); ++j) {
      buf[runs[j].out].resize(size_t(slot_size[runs[j].out]));
      for (int w = 0; w < 2; ++w) work[2 * j + w].resize(size_t(runs[j].work[w]));
    }
    std::vector<const T*> ptr(ns + 2 * runs.size(), nullptr);
    for (int s = ni; s < ns; ++s) ptr[s] = shared[s] ? shared_buf[s].data() : buf[s].data();
    // this thread's program: every pointer the sample loop needs resolved, so that a small step is a
    // pointer load per operand, an optional table gather and one kernel call
    struct Exec {
      detail::small_kernel_fn<T> fn;  // null: a general step (runs[j])
      const detail::SmallArgs* g;
      const T* const* src[2];  // slot pointer (or the fixed pointer of a shared operand)
      const long* off[2];      // gather table, null when read in place
      long noff[2];
      const long* soff[2];
      long nsoff[2];
      T* work[2];
      T* c;
    };
    std::vector<Exec> ex(runs.size());
    for (size_t j = 0; j < runs.size(); ++j) {
      const Run& r = runs[j];
      Exec& e = ex[j];
      e.fn = r.small ? r.fn : nullptr;
      e.g = &r.g;
      for (int w = 0; w < 2; ++w) {
        if (r.fixed[w]) {
          ptr[ns + 2 * j + w] = r.fixed[w];
          e.src[w] = &ptr[ns + 2 * j + w];
        } else {
          e.src[w] = &ptr[r.slot[w]];
        }
        const bool tab = r.small && !r.op[w].direct;
        e.off[w] = tab ? r.op[w].off.data() : nullptr;
        e.noff[w] = tab ? long(r.op[w].off.size()) : 0;
        e.soff[w] = tab ? r.op[w].soff.data() : nullptr;
        e.nsoff[w] = tab ? long(r.op[w].soff.size()) : 0;
        e.work[w] = work[2 * j + w].data();
      }
      e.c = buf[r.out].data();
    }
    const In* in = ins.data();
    const Exec* xs = ex.data();
    const size_t nr = ex.size();
    const T** pin = ptr.data();
    for (long s = s0; s < s1; ++s) {
      for (int i = 0; i < ni; ++i) {
        const In& u = in[i];
        long off = s * u.sample_stride;
        const std::int64_t* idx = u.sel_index + s * u.nsel;
        for (long j = 0; j < u.nsel; ++j) off += long(idx[j]) * u.sel_stride[j];
        pin[i] = u.base + off;
      }
      for (size_t j = 0; j < nr; ++j) {
        const Exec& e = xs[j];
        if (e.fn) {
          const T* pa = *e.src[0];
          const T* pb = *e.src[1];
          if (e.off[0]) {
            gather_table(pa, e.off[0], e.noff[0], e.soff[0], e.nsoff[0], e.work[0]);
            pa = e.work[0];
          }
          if (e.off[1]) {
            gather_table(pb, e.off[1], e.noff[1], e.soff[1], e.nsoff[1], e.work[1]);
            pb = e.work[1];
          }
          e.fn(*e.g, pa, pb, e.c);
        } else {
          const Run& r = runs[j];
          const Mat<T> A = r.fixed[0] ? shared_mat[2 * size_t(r.out - ni)]
                                      : apply_plan(gplans[2 * j], ptr[r.slot[0]], e.work[0]);
          const Mat<T> B = r.fixed[1] ? shared_mat[2 * size_t(r.out - ni) + 1]
                                      : apply_plan(gplans[2 * j + 1], ptr[r.slot[1]], e.work[1]);
          run_step(A, B, e.c, small);
        }
      }
      if (fin_table) {
        gather_table(ptr[fin.slot], fin_off.data(), osz, fin_soff.data(), long(fin_soff.size()), out + s * osz);
      } else {
        gather(ptr[fin.slot], fin_o, fin_s, out + s * osz);
      }
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
