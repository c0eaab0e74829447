// physdl._cuda.lattice: the device-resident multi-spin lattice (no logic: unpack and call).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "cuda_api.hpp"

namespace py = pybind11;

namespace physdl::cuda {

void register_cuda_lattice(py::module_& root) {
  auto m = root.def_submodule("lattice", "multi-spin checkerboard Ising on the device");
  using Words = py::array_t<std::uint64_t, py::array::c_style>;
  py::class_<MultispinLattice>(m, "MultispinLattice")
      .def(py::init([](std::uint64_t ly, std::uint64_t lx, Words words) {
             if (static_cast<std::uint64_t>(words.size()) != MultispinLattice::words_for(ly, lx))
               throw py::value_error("words has the wrong size for this lattice");
             return new MultispinLattice(ly, lx, words.data());
           }),
           py::arg("ly"), py::arg("lx"), py::arg("words"))
      .def_static("bytes_needed", &MultispinLattice::bytes_needed)
      .def_property_readonly("nwords", &MultispinLattice::nwords)
      .def("upload",
           [](MultispinLattice& self, Words words) {
             if (static_cast<std::uint64_t>(words.size()) != self.nwords())
               throw py::value_error("words has the wrong size for this lattice");
             self.upload(words.data());
           })
      .def("download",
           [](const MultispinLattice& self) {
             Words out(static_cast<py::ssize_t>(self.nwords()));
             self.download(out.mutable_data());
             return out;
           })
      .def("measure",
           [](MultispinLattice& self, double J, double h) {
             double e = 0;
             std::int64_t mag = 0;
             self.measure(J, h, e, mag);
             return py::make_tuple(e, mag);
           })
      .def(
          "sweeps",
          [](MultispinLattice& self, int update, py::array_t<std::uint64_t, py::array::c_style> thresholds, double J,
             double h, std::uint64_t seed, std::uint64_t chain, std::uint64_t sweep0, std::int64_t nsweeps,
             std::int64_t measure_every, bool tuned) {
            const py::ssize_t want = update == 0 ? 10 : 5;
            if (thresholds.size() != want) throw py::value_error("thresholds has the wrong length for this update");
            if (nsweeps < 0 || measure_every < 0) throw py::value_error("nsweeps and measure_every must be >= 0");
            const std::int64_t nmeas = measure_every > 0 ? nsweeps / measure_every : 0;
            py::array_t<double> energy(nmeas);
            py::array_t<std::int64_t> mag(nmeas);
            double* e = energy.mutable_data();
            std::int64_t* mm = mag.mutable_data();
            const std::uint64_t* th = thresholds.data();
            {
              py::gil_scoped_release nogil;
              self.sweeps(update, th, J, h, seed, chain, sweep0, nsweeps, measure_every, e, mm, tuned);
            }
            return py::make_tuple(energy, mag);
          },
          py::arg("update"), py::arg("thresholds"), py::arg("J"), py::arg("h"), py::arg("seed"), py::arg("chain"),
          py::arg("sweep0"), py::arg("nsweeps"), py::arg("measure_every"), py::arg("tuned") = true);
}

}  // namespace physdl::cuda
