// Throttled stop check of long kernel calls, shared by the lattice sweeps and the LASSO solvers: the
// kernel calls poll() at its safe points (between sweeps, passes, factor columns); at most every
// interval_ns it asks stop(ctx) (the Python bindings check signals there) and, once that says so,
// poll() keeps answering true.  Polling never changes the arithmetic.
#pragma once

#include <chrono>
#include <cstdint>

namespace physdl::core {

struct StopPoll {
  bool (*stop)(void*) = nullptr;
  void* ctx = nullptr;
  std::int64_t interval_ns = 2000000;
  bool stopped = false;  // out: the call returned early

  bool poll() {
    if (stopped) return true;
    if (!stop) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::nanoseconds(interval_ns)) return false;
    last_ = now;
    stopped = stop(ctx);
    return stopped;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace physdl::core
