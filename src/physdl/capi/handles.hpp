// Internal: what a physdl_nn_handle (physdl/capi/capi.h) points at.  The Python bindings fill it from a
// Sequential's engine (csrc/bindings/capsules.cpp); a C++ host can fill it from its own Network.
#pragma once

#include "physdl/nn/network.hpp"

struct physdl_nn_handle {
  int itemsize = 0;                                    // 4: float32 engine, 8: float64 engine
  physdl::nn::Network<double>* net64 = nullptr;        // itemsize 8
  physdl::nn::Network<float>* net32 = nullptr;         // itemsize 4
  physdl::nn::Optimizer<double>* opt64 = nullptr;      // optional: the training step needs it
  physdl::nn::Optimizer<float>* opt32 = nullptr;
};

#include "physdl/tensornet/contract.hpp"

struct physdl_tn_program {
  const physdl::tensornet::Program* prog = nullptr;  // a compiled physdl.tensornet.Expression
};
