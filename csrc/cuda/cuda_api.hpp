// Host-side interface of the CUDA kernels: plain C++ types only, so the
// binding code compiles with the ordinary C++ compiler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace physdl::cuda {

struct DeviceInfo {
  int index;
  std::string name;
  int major, minor;
  int multiprocessors;
  std::size_t total_memory;
  std::size_t free_memory;
};

/// Number of usable devices; 0 with `reason` set when CUDA cannot be used here.
int device_count(std::string& reason);
DeviceInfo device_info(int index);
std::string runtime_version();

/// Same words / uniforms / normals as physdl::random::fill_* on the host, written to host memory
/// (drawn on the device, then copied back).
void fill_uint32(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                 std::uint32_t* host_out, std::size_t n);
void fill_uniform_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                         double* host_out, std::size_t n);
void fill_uniform_float(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        float* host_out, std::size_t n);
void fill_normal_double(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        double* host_out, std::size_t n);

/// A multi-spin coded square lattice resident on the device (layout: physdl/lattice/multispin.hpp).
/// Sweeps run on the device; energy and magnetisation are reduced there; the words travel to the
/// host only through `download`.
class MultispinLattice {
 public:
  /// Needs 2 * ly * words_per_row(lx) words; checks free device memory first (std::length_error).
  MultispinLattice(std::uint64_t ly, std::uint64_t lx, const std::uint64_t* host_words);
  ~MultispinLattice();
  MultispinLattice(const MultispinLattice&) = delete;
  MultispinLattice& operator=(const MultispinLattice&) = delete;

  static std::size_t bytes_needed(std::uint64_t ly, std::uint64_t lx);
  static std::uint64_t words_for(std::uint64_t ly, std::uint64_t lx);
  std::uint64_t nwords() const;
  void upload(const std::uint64_t* host_words);
  void download(std::uint64_t* host_words) const;
  void measure(double J, double h, double& energy, std::int64_t& mag);
  /// Same arguments and results as physdl::lattice::multispin_sweeps on the host.  tuned = false runs
  /// the plain per-word port of the header's reference update (same lattice; the benchmark's baseline).
  void sweeps(int update, const std::uint64_t* thresholds, double J, double h, std::uint64_t seed,
              std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps, std::int64_t measure_every,
              double* energy, std::int64_t* mag, bool tuned = true);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace physdl::cuda
