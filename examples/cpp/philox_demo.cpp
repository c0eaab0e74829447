// Draws Philox numbers through the physdl core, as a C++ simulation code would.
// Usage: philox_demo SEED STREAM N   -> N uniform doubles, then N standard normals, one per line.
// The same (seed, stream) in Python gives the same numbers:
//   physdl.random.uniform(N, seed=SEED, stream=STREAM), physdl.random.normal(N, seed=SEED, stream=STREAM)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "physdl/core/build_info.hpp"
#include "physdl/random/random.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s SEED STREAM N\n", argv[0]);
    return 2;
  }
  const std::uint64_t seed = std::stoull(argv[1]);
  const std::uint64_t stream = std::stoull(argv[2]);
  const std::size_t n = std::stoull(argv[3]);
  std::vector<double> u(n), z(n);
  physdl::random::fill_uniform_double(seed, stream, 0, u.data(), n);
  physdl::random::fill_normal_double(seed, stream, 0, z.data(), n);
  std::fprintf(stderr, "physdl core %s (%s), %d threads\n", physdl::build_info().version.c_str(),
               physdl::build_info().compiler.c_str(), physdl::max_threads());
  for (double x : u) std::printf("%.17g\n", x);
  for (double x : z) std::printf("%.17g\n", x);
  return 0;
}
