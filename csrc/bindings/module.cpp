// physdl._core: the private compiled module.  One register_<area> per file.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "common.hpp"
#include "physdl/core/build_info.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "physdl compiled core (private; use the physdl package)";

  m.def("build_info", [] {
    const auto b = physdl::build_info();
    py::dict d;
    d["version"] = b.version;
    d["compiler"] = b.compiler;
    d["cxx_flags"] = b.cxx_flags;
    d["build_type"] = b.build_type;
    d["openmp"] = b.openmp;
    d["native"] = b.native;
    return d;
  });
  m.def("max_threads", &physdl::max_threads, "Threads used by the core's parallel loops.");
  m.def("set_num_threads", &physdl::set_num_threads, py::arg("n"));

  physdl::bindings::register_random(m);
  physdl::bindings::register_lattice(m);
  physdl::bindings::register_nn(m);
  physdl::bindings::register_holography(m);
  physdl::bindings::register_dynamics(m);
  physdl::bindings::register_tensornet(m);
  physdl::bindings::register_inverse(m);
  physdl::bindings::register_ebm(m);
  physdl::bindings::register_quantum(m);
  physdl::bindings::register_capsules(m);
}
