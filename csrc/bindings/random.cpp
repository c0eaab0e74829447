#include <array>
#include <cstdint>

#include "common.hpp"
#include "physdl/random/philox.hpp"
#include "physdl/random/random.hpp"

namespace physdl::bindings {

namespace {
// out[...] = the fill's values for (seed, stream, offset), without the GIL.
template <class T>
void def_fill(py::module_& m, const char* name,
              void (*fill)(std::uint64_t, std::uint64_t, std::uint64_t, T*, std::size_t)) {
  m.def(
      name,
      [fill](std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, carray<T> out) {
        auto* p = mutable_data(out, "out");
        const auto n = static_cast<std::size_t>(out.size());
        py::gil_scoped_release nogil;
        fill(seed, stream, offset, p, n);
      },
      py::arg("seed"), py::arg("stream"), py::arg("offset"), py::arg("out"));
}
}  // namespace

void register_random(py::module_& root) {
  auto m = root.def_submodule("random", "Philox4x32-10 kernels");

  m.def(
      "philox4x32",
      [](std::array<std::uint32_t, 4> ctr, std::array<std::uint32_t, 2> key, int rounds) {
        const auto r = physdl::random::philox4x32(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], rounds);
        return std::array<std::uint32_t, 4>{r.v[0], r.v[1], r.v[2], r.v[3]};
      },
      py::arg("counter"), py::arg("key"), py::arg("rounds") = 10, "One Philox4x32 block.");

  def_fill<std::uint32_t>(m, "fill_uint32", physdl::random::fill_uint32);
  def_fill<double>(m, "fill_uniform_double", physdl::random::fill_uniform_double);
  def_fill<float>(m, "fill_uniform_float", physdl::random::fill_uniform_float);
  def_fill<double>(m, "fill_normal_double", physdl::random::fill_normal_double);
}

}  // namespace physdl::bindings
