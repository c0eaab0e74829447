// physdl._core._capi: the C API table (physdl/capi/capi.h) as a capsule, for Cython extensions
// (python/physdl/capi.pxd imports it with PyCapsule_Import); physdl._core._nn_handle: a capsule
// "physdl._core.nn_handle" holding a physdl_nn_handle to a Sequential's engine (and its optimizer
// state), which keeps both Python objects alive as long as the capsule lives.
#include <pybind11/pybind11.h>

#include <memory>

#include "common.hpp"
#include "physdl/capi/capi.h"
#include "physdl/capi/handles.hpp"

namespace py = pybind11;

namespace physdl::bindings {

namespace {
struct NnHolder {
  physdl_nn_handle h;
  py::object engine, optimizer;  // references: the handle's pointers stay valid
};

struct TnHolder {
  physdl_tn_program h;
  py::object program;
};

template <class T>
bool fill(NnHolder& k, const py::object& engine, const py::object& opt, int itemsize) {
  if (!py::isinstance<nn::Network<T>>(engine)) return false;
  k.h.itemsize = itemsize;
  nn::Network<T>* net = &engine.cast<nn::Network<T>&>();
  nn::Optimizer<T>* o = nullptr;
  if (!opt.is_none()) {
    if (!py::isinstance<nn::Optimizer<T>>(opt))
      throw py::type_error("the optimizer state is not of the model's dtype");
    o = &opt.cast<nn::Optimizer<T>&>();
  }
  if constexpr (sizeof(T) == 8) {
    k.h.net64 = net, k.h.opt64 = o;
  } else {
    k.h.net32 = net, k.h.opt32 = o;
  }
  return true;
}
}  // namespace

void register_capsules(py::module_& m) {
  auto* table = const_cast<physdl_capi*>(physdl_capi_table());
  m.attr("_capi") = py::capsule(static_cast<void*>(table), "physdl._core._capi");
  m.attr("_capi_version") = PHYSDL_CAPI_VERSION;
  m.def(
      "_nn_handle",
      [](py::object engine, py::object optimizer) {
        auto k = std::make_unique<NnHolder>();
        if (!fill<double>(*k, engine, optimizer, 8) && !fill<float>(*k, engine, optimizer, 4))
          throw py::type_error("not a cpp-backend nn engine (physdl._core.nn.Network64 / Network32)");
        k->engine = engine;
        k->optimizer = optimizer;
        NnHolder* raw = k.release();
        py::capsule cap(static_cast<void*>(&raw->h), "physdl._core.nn_handle", [](PyObject* c) {
          // runs with the GIL held (capsule destructor): drops the references
          delete static_cast<NnHolder*>(PyCapsule_GetContext(c));
        });
        if (PyCapsule_SetContext(cap.ptr(), raw) != 0) {
          delete raw;
          throw py::error_already_set();
        }
        return cap;
      },
      py::arg("engine"), py::arg("optimizer") = py::none(),
      "A capsule 'physdl._core.nn_handle' with a physdl_nn_handle* to this engine (for physdl.capi.nn_handle).");
  m.def(
      "_tn_handle",
      [](py::object program) {
        if (!py::isinstance<physdl::tensornet::Program>(program))
          throw py::type_error("not a compiled contraction program (physdl._core.tensornet.Program)");
        auto k = std::make_unique<TnHolder>();
        k->h.prog = &program.cast<const physdl::tensornet::Program&>();
        k->program = program;
        TnHolder* raw = k.release();
        py::capsule cap(static_cast<void*>(&raw->h), "physdl._core.tn_program",
                        [](PyObject* c) { delete static_cast<TnHolder*>(PyCapsule_GetContext(c)); });
        if (PyCapsule_SetContext(cap.ptr(), raw) != 0) {
          delete raw;
          throw py::error_already_set();
        }
        return cap;
      },
      py::arg("program"),
      "A capsule 'physdl._core.tn_program' with a physdl_tn_program* (for physdl.capi.tn_handle).");
}

}  // namespace physdl::bindings
