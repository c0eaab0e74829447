#include "common.hpp"

namespace physdl::bindings {

void register_nn(py::module_& root) {
  root.def_submodule("nn", "nn kernels");
}

}  // namespace physdl::bindings
