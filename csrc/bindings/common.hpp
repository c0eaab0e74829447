// Helpers shared by the binding files: array checks that raise Python errors
// naming the argument.  Validation of user input lives in the Python layer;
// these checks only guard the C++ boundary against misuse of the private module.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

namespace physdl::bindings {

namespace py = pybind11;

template <class T>
using carray = py::array_t<T, py::array::c_style>;

template <class T>
inline T* mutable_data(carray<T>& a, const char* name) {
  if (!a.writeable()) throw py::value_error(std::string(name) + " must be writeable");
  return a.mutable_data();
}

// The stop callback of physdl::core::StopPoll for kernels running without the GIL: take it and run
// Python's signal handlers; true when one raised (the exception stays set for the binding to rethrow
// once the kernel has returned).
inline bool poll_signals(void*) {
  const PyGILState_STATE st = PyGILState_Ensure();
  const bool raised = PyErr_CheckSignals() != 0;
  PyGILState_Release(st);
  return raised;
}

}  // namespace physdl::bindings

namespace physdl::bindings {
void register_random(pybind11::module_& m);
void register_lattice(pybind11::module_& m);
void register_nn(pybind11::module_& m);
void register_holography(pybind11::module_& m);
void register_dynamics(pybind11::module_& m);
void register_tensornet(pybind11::module_& m);
void register_inverse(pybind11::module_& m);
void register_ebm(pybind11::module_& m);
void register_quantum(pybind11::module_& m);
void register_capsules(pybind11::module_& m);
}  // namespace physdl::bindings
