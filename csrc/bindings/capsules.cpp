// physdl._core._capi: the C API table (physdl/capi/capi.h) as a capsule, for Cython extensions
// (python/physdl/capi.pxd imports it with PyCapsule_Import).
#include <pybind11/pybind11.h>

#include "common.hpp"
#include "physdl/capi/capi.h"

namespace py = pybind11;

namespace physdl::bindings {

void register_capsules(py::module_& m) {
  auto* table = const_cast<physdl_capi*>(physdl_capi_table());
  m.attr("_capi") = py::capsule(static_cast<void*>(table), "physdl._core._capi");
  m.attr("_capi_version") = PHYSDL_CAPI_VERSION;
}

}  // namespace physdl::bindings
