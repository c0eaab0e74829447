// Execution of a pairwise contraction plan (book ch. 11.2): every step a (batched) matrix product
// of two operands brought into (batch, rows, cols) layout, all inside one call.
//
// The plan (which pairs, in which order) comes from the caller (the Python package takes it from
// opt_einsum or cotengra).  A Program names slots: slots 0..n_inputs-1 are the inputs, each step
// writes one new slot.  An operand of a step lists, for each of its logical labels, the source axes
// of its slot that carry it (several axes = a diagonal, eq. "ii"), grouped as batch / rows / cols;
// `sums` are labels summed over inside the operand (indices no later tensor needs).  Operands whose
// strides already form a matrix are used in place (BLAS lda); others are gathered into a buffer.
//
// Batched execution runs one Program over S samples: each input is a strided view whose pointer is
// moved per sample by `sample_stride` and by per-sample indices into `select` axes (a one-hot
// physical leg, sliced instead of materialised).  Steps that depend only on shared inputs run once.
// OpenMP splits the samples; results do not depend on the thread count.
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

namespace physdl::tensornet {

constexpr int kMaxRank = 64;

using Label = std::vector<int>;  // source axes of one logical index

struct OperandSpec {
  int slot = 0;
  std::vector<Label> batch, rows, cols, sums;
};

struct StepSpec {
  OperandSpec a, b;  // C[batch, rows(a), cols(b)] = sum_k A[batch, rows, k] B[batch, k, cols]
};

class Program {
 public:
  // slot_shapes: shapes of the inputs then of each step's result (batch + rows(a) + cols(b));
  // final_op: an operand of the last slot whose `rows` are the output labels in order.
  Program(int n_inputs, std::vector<std::vector<long>> slot_shapes, std::vector<StepSpec> steps,
          OperandSpec final_op);
  int n_inputs() const { return n_inputs_; }
  int n_slots() const { return int(shapes_.size()); }
  const std::vector<long>& slot_shape(int s) const { return shapes_[s]; }
  const std::vector<StepSpec>& steps() const { return steps_; }
  const OperandSpec& final_op() const { return final_; }
  const std::vector<long>& out_shape() const { return out_shape_; }
  long out_size() const;
  // Multiply-adds of one execution (sum over steps of nb*m*n*k).
  double flops() const;

 private:
  int n_inputs_;
  std::vector<std::vector<long>> shapes_;
  std::vector<StepSpec> steps_;
  OperandSpec final_;
  std::vector<long> out_shape_;
};

template <class T>
struct InputView {
  const T* base = nullptr;
  std::vector<long> strides;         // element strides of the logical axes (slot_shape of the input)
  long sample_stride = 0;            // element offset per sample (0: shared)
  std::vector<long> select_strides;  // element strides of the sliced axes in base
  std::vector<long> select_sizes;    // their sizes (indices are checked against them)
  const std::int64_t* select_index = nullptr;  // S x n_select, row-major
};

// out: S * out_size elements, sample-major.  Throws std::invalid_argument / std::out_of_range on
// inputs that do not fit the program (before any arithmetic).
template <class T>
void execute(const Program& prog, const std::vector<InputView<T>>& inputs, long n_samples, T* out,
             bool parallel = true);

}  // namespace physdl::tensornet
