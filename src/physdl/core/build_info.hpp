// What the core was built with, and the OpenMP thread controls.
#pragma once

#include <string>

namespace physdl {

struct BuildInfo {
  std::string version;
  std::string compiler;
  std::string cxx_flags;
  std::string build_type;
  bool openmp;
  bool native;
};

BuildInfo build_info();

/// Threads the core's parallel loops use (1 without OpenMP).
int max_threads();
/// Set the threads for the core's parallel loops; n >= 1.
void set_num_threads(int n);

}  // namespace physdl
