#include <array>
#include <cstdint>

#include "common.hpp"
#include "physdl/random/philox.hpp"
#include "physdl/random/random.hpp"

namespace physdl::bindings {

void register_random(py::module_& root) {
  auto m = root.def_submodule("random", "Philox4x32-10 kernels");

  m.def(
      "philox4x32",
      [](std::array<std::uint32_t, 4> ctr, std::array<std::uint32_t, 2> key, int rounds) {
        const auto r = physdl::random::philox4x32(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], rounds);
        return std::array<std::uint32_t, 4>{r.v[0], r.v[1], r.v[2], r.v[3]};
      },
      py::arg("counter"), py::arg("key"), py::arg("rounds") = 10, "One Philox4x32 block.");

  m.def(
      "fill_uint32",
      [](std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, carray<std::uint32_t> out) {
        auto* p = mutable_data(out, "out");
        const auto n = static_cast<std::size_t>(out.size());
        py::gil_scoped_release nogil;
        physdl::random::fill_uint32(seed, stream, offset, p, n);
      },
      py::arg("seed"), py::arg("stream"), py::arg("offset"), py::arg("out"));

  m.def(
      "fill_uniform_double",
      [](std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, carray<double> out) {
        auto* p = mutable_data(out, "out");
        const auto n = static_cast<std::size_t>(out.size());
        py::gil_scoped_release nogil;
        physdl::random::fill_uniform_double(seed, stream, offset, p, n);
      },
      py::arg("seed"), py::arg("stream"), py::arg("offset"), py::arg("out"));

  m.def(
      "fill_uniform_float",
      [](std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, carray<float> out) {
        auto* p = mutable_data(out, "out");
        const auto n = static_cast<std::size_t>(out.size());
        py::gil_scoped_release nogil;
        physdl::random::fill_uniform_float(seed, stream, offset, p, n);
      },
      py::arg("seed"), py::arg("stream"), py::arg("offset"), py::arg("out"));

  m.def(
      "fill_normal_double",
      [](std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, carray<double> out) {
        auto* p = mutable_data(out, "out");
        const auto n = static_cast<std::size_t>(out.size());
        py::gil_scoped_release nogil;
        physdl::random::fill_normal_double(seed, stream, offset, p, n);
      },
      py::arg("seed"), py::arg("stream"), py::arg("offset"), py::arg("out"));
}

}  // namespace physdl::bindings
