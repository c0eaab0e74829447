// Internal helpers shared by the layer-family files of the nn engine (not part of the public API).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "physdl/nn/layer.hpp"

namespace physdl::nn::detail {

inline long prod(const std::vector<long>& s) {
  long p = 1;
  for (long d : s) p *= d;
  return p;
}

inline std::string shape_str(const std::vector<long>& s) {
  std::string r = "(";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

[[noreturn]] inline void fail(const std::string& msg) { throw std::invalid_argument(msg); }

template <class T>
void grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.assign(n, T(0));
}

// a * b, or an error naming `what` when the product of sizes would overflow a long.
inline long checked_mul(long a, long b, const char* what) {
  long r;
  if (__builtin_mul_overflow(a, b, &r)) fail(std::string(what) + " is too large (size overflows a 64-bit integer)");
  return r;
}

// Family factories: each returns nullptr when `kind` is not one of its kinds.
template <class T>
std::unique_ptr<Layer<T>> make_dense_family(int kind, const std::vector<long>& s, const std::vector<long>& ishape);
template <class T>
std::unique_ptr<Layer<T>> make_conv_family(int kind, const std::vector<long>& s, const std::vector<long>& ishape);
template <class T>
std::unique_ptr<Layer<T>> make_recurrent_family(int kind, const std::vector<long>& s, const std::vector<long>& ishape);
template <class T>
std::unique_ptr<Layer<T>> make_attention_family(int kind, const std::vector<long>& s, const std::vector<long>& ishape);

// Loss value and its gradient d (n*m values) w.r.t. the outputs y (losses.cpp).
template <class T>
double loss_and_grad(int loss, const T* y, long m, long c, const T* targets, const std::int64_t* labels, T* d);

}  // namespace physdl::nn::detail
