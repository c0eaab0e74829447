// CUDA twin of the dense part of the nn engine (src/physdl/nn): Dense, element-wise and recurrent
// (RNN, LSTM, time loop inside the step's graph) layers, the
// four losses and the two optimizers, with parameters, optimizer state and workspaces resident on the
// device.  One training step (input copy, forward, loss, backward, clipping, weight decay, update,
// loss copy back) is captured once per (batch size, loss) as a CUDA graph and replayed.
//
// The host sees the parameters through a mirror (params()): it is refreshed from the device when asked
// for after the device changed them, and uploaded again before the next device operation once it has
// been handed out (the caller may have written to it).  The layer, loss and optimizer codes are those
// of physdl/nn/layer_kinds.hpp, and the arithmetic follows the CPU engine's definitions (the same loss
// reductions, the torch.optim update rules, clip_grad_norm_ with 1e-6).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace physdl::cuda::nn {

/// Why the CUDA nn engine cannot run here ("" when it can): no device, or no cuBLAS.
std::string unavailable_reason();

/// Layer kinds the CUDA engine implements (the rest raise std::invalid_argument naming the layer).
bool supports_layer(int kind);

template <class T>
class Optimizer;

template <class T>
class Network {
 public:
  Network(const std::vector<int>& kinds, const std::vector<std::vector<long>>& settings,
          const std::vector<long>& in_shape, long max_batch);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  long num_params() const { return np_; }
  long param_offset(int layer) const;
  long param_count(int layer) const;
  long in_size() const { return sizes_.front(); }
  long out_size() const { return sizes_.back(); }
  long classes() const { return classes_; }

  /// Host mirror of the parameters, current with the device; the caller may write to it (it is
  /// uploaded before the next device operation).
  T* host_params();
  /// Host copy of the gradients of the last gradients()/train() call.
  T* host_grads();

  void forward(const T* x, long n, T* y);
  /// Loss and gradients (into the device gradient buffer; host_grads() reads them); with dx, also the
  /// gradient with respect to the input (n x in_size, host).
  double gradients(const T* x, long n, int loss, const T* targets, const std::int64_t* labels, T* dx = nullptr);
  /// Vector-Jacobian product for a host output gradient dy (gradients into the device buffer); with dx,
  /// also the input gradient (host).
  void backward(const T* x, long n, const T* dy, T* dx);
  /// One training step as a replayed CUDA graph; returns the minibatch loss before the update.
  double train(const T* x, long n, int loss, const T* targets, const std::int64_t* labels, Optimizer<T>& opt);
  /// The optimizer step on the given host gradients.
  void apply_gradients(const T* g, Optimizer<T>& opt);
  /// Number of CUDA graphs instantiated so far (one per batch size and loss).
  long graphs() const { return long(graphs_.size()); }

  struct Impl;

 private:
  friend class Optimizer<T>;
  void upload_if_dirty();
  void ensure_capacity(long n);
  void stage(const T* x, long n, int loss, const T* targets, const std::int64_t* labels);
  void enqueue_forward(long n);
  void enqueue_loss_backward(long n, int loss, bool input_grad);
  void enqueue_backward(long n, bool input_grad);
  void forward_recurrent(std::size_t layer, const T* x, T* y, long n);
  void backward_recurrent(std::size_t layer, const T* dy, T* dx, long n);  // from the output gradient in the first ping-pong buffer
  void clear_graphs();

  std::vector<int> kinds_;
  std::vector<std::vector<long>> settings_;
  std::vector<long> sizes_;    // per-sample sizes: input, then each layer's output
  std::vector<long> poff_, pcnt_;
  long np_ = 0;
  long classes_ = 1;
  T* dx_ = nullptr;            // device input gradient of the last backward           // last axis of the output (softmax cross entropy classes)
  long cap_ = 0;               // batch capacity of the workspaces
  std::vector<T> host_params_, host_grads_;
  bool host_newer_ = false, device_newer_ = false;
  std::unique_ptr<Impl> d_;
  std::map<std::pair<long, int>, void*> graphs_;  // (n, loss) -> cudaGraphExec_t
  long graph_opt_ = -1;                            // id of the optimizer the graphs were captured with
};

template <class T>
class Optimizer {
 public:
  Optimizer(int kind, double lr, double momentum, double beta1, double beta2, double eps, double weight_decay,
            double clip_norm, bool nesterov, long nparams);
  ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  void set_lr(double lr) { lr_ = lr; }
  long steps() const { return t_; }
  void set_steps(long t) { t_ = t; }
  long size() const { return n_; }
  /// Host copies of the first and second moments (the SGD momentum buffer is m).
  T* host_m();
  T* host_v();
  /// Upload host moments written by the caller (after host_m()/host_v()).
  void upload_moments();

  struct Impl;

 private:
  friend class Network<T>;
  void enqueue_step(void* stream, T* params, T* grads);  // reads the hyper-parameters staged by stage_hyper
  void stage_hyper();
  void sync_host_moments();
  int kind_;
  double lr_, momentum_, beta1_, beta2_, eps_, wd_, clip_;
  bool nesterov_;
  long n_;
  long t_ = 0;
  long id_;  // unique per optimizer object (graphs hold its buffers' addresses)
  std::vector<T> host_m_, host_v_;
  std::unique_ptr<Impl> d_;
};

}  // namespace physdl::cuda::nn
