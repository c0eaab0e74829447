// The one registry of layer and loss kinds of the nn engine.
//
// (and optimizer kinds) Every consumer takes its codes from these tables: the C++ enums below, the binding (which exports
// them to Python as physdl._core.nn.layer_kinds() / loss_kinds()), the Python layer classes and the
// Numba twin (python/physdl/nn/_kinds.py reads them from the binding, or parses this file when the
// compiled core is absent).  To add a kind, add one line here.
//
// X(python class name, C++ enumerator, code)
#pragma once

#define PHYSDL_NN_LAYER_KINDS(X)   \
  X(Dense, kDense, 0)              \
  X(Sigmoid, kSigmoid, 1)          \
  X(Tanh, kTanh, 2)                \
  X(ReLU, kReLU, 3)                \
  X(Step, kStep, 4)                \
  X(Softmax, kSoftmax, 5)          \
  X(HamiltonianReLU, kHReLU, 6)    \
  X(Cube, kCube, 7)                \
  X(Flatten, kFlatten, 8)          \
  X(Softplus, kSoftplus, 9)        \
  X(Conv2d, kConv2d, 10)           \
  X(ConvTranspose2d, kConvT2d, 11) \
  X(MaxPool2d, kMaxPool, 12)       \
  X(AvgPool2d, kAvgPool, 13)       \
  X(RNN, kRNN, 20)                 \
  X(LSTM, kLSTM, 21)               \
  X(Attention, kAttention, 22)

// X(loss name, C++ enumerator, code): mean reduction, PyTorch conventions.
//  mse: mean (y - t)^2;  bce: binary cross entropy on probabilities (log clamped at -100);
//  bce_logits: binary cross entropy on logits;  softmax_ce: softmax cross entropy on logits over
//  the last axis with integer labels (label -100 = ignored).
#define PHYSDL_NN_LOSS_KINDS(X) \
  X(mse, kMSE, 0)               \
  X(bce, kBCE, 1)               \
  X(bce_logits, kBCELogits, 2)  \
  X(softmax_ce, kSoftmaxCE, 3)

// X(optimizer class name, C++ enumerator, code): torch.optim.SGD (momentum, Nesterov), torch.optim.Adam.
#define PHYSDL_NN_OPTIMIZER_KINDS(X) \
  X(SGD, kSGD, 0)                    \
  X(Adam, kAdam, 1)

namespace physdl::nn {

#define PHYSDL_NN_ENUM_(name, id, code) id = code,
enum LayerKind : int { PHYSDL_NN_LAYER_KINDS(PHYSDL_NN_ENUM_) };
enum LossKind : int { PHYSDL_NN_LOSS_KINDS(PHYSDL_NN_ENUM_) };
enum OptimizerKind : int { PHYSDL_NN_OPTIMIZER_KINDS(PHYSDL_NN_ENUM_) };
#undef PHYSDL_NN_ENUM_

// Kinds from this code on are free for layers a host registers (register_layer_kind, layer.hpp).
constexpr int kFirstCustomKind = 1000;

}  // namespace physdl::nn
