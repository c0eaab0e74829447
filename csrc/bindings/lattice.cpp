#include "common.hpp"

namespace physdl::bindings {

void register_lattice(py::module_& root) {
  root.def_submodule("lattice", "lattice kernels");
}

}  // namespace physdl::bindings
