// physdl._cuda: device query and the CUDA kernels.  Built only with PHYSDL_CUDA.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "cuda_api.hpp"

namespace py = pybind11;

namespace physdl::cuda {
void register_cuda_lattice(py::module_& m);
void register_cuda_tensornet(py::module_& m);
void register_cuda_nn(py::module_& m);
}

namespace {
template <class T>
using carray = py::array_t<T, py::array::c_style>;

template <class T, class F>
void fill(F f, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, carray<T> out) {
  if (!out.writeable()) throw py::value_error("out must be writeable");
  T* p = out.mutable_data();
  const auto n = static_cast<std::size_t>(out.size());
  py::gil_scoped_release nogil;
  f(seed, stream, offset, p, n);
}
}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "physdl CUDA kernels (private; use the physdl package)";
  m.attr("architectures") = PHYSDL_CUDA_ARCHS;
  m.def("device_count", [] {
    std::string reason;
    const int n = physdl::cuda::device_count(reason);
    return py::make_tuple(n, reason);
  });
  m.def("device_info", [](int index) {
    const auto d = physdl::cuda::device_info(index);
    py::dict r;
    r["index"] = d.index;
    r["name"] = d.name;
    r["compute_capability"] = py::make_tuple(d.major, d.minor);
    r["multiprocessors"] = d.multiprocessors;
    r["total_memory"] = d.total_memory;
    r["free_memory"] = d.free_memory;
    return r;
  });
  m.def("runtime_version", &physdl::cuda::runtime_version);

  physdl::cuda::register_cuda_lattice(m);
  physdl::cuda::register_cuda_tensornet(m);
  physdl::cuda::register_cuda_nn(m);

  auto r = m.def_submodule("random", "Philox4x32-10 on the device");
  r.def("fill_uint32", [](std::uint64_t s, std::uint64_t st, std::uint64_t o, carray<std::uint32_t> out) {
    fill<std::uint32_t>(physdl::cuda::fill_uint32, s, st, o, out);
  });
  r.def("fill_uniform_float", [](std::uint64_t s, std::uint64_t st, std::uint64_t o, carray<float> out) {
    fill<float>(physdl::cuda::fill_uniform_float, s, st, o, out);
  });
  r.def("fill_uniform_double", [](std::uint64_t s, std::uint64_t st, std::uint64_t o, carray<double> out) {
    fill<double>(physdl::cuda::fill_uniform_double, s, st, o, out);
  });
  r.def("fill_normal_double", [](std::uint64_t s, std::uint64_t st, std::uint64_t o, carray<double> out) {
    fill<double>(physdl::cuda::fill_normal_double, s, st, o, out);
  });
}
