// Bindings of the quantum kernels: sizes checked here, physics in src/physdl/quantum.
#include <complex>
#include <cstdint>
#include <string>
#include <type_traits>

#include <pybind11/complex.h>

#include "common.hpp"
#include "physdl/quantum/quantum.hpp"

namespace physdl::bindings {

namespace {

namespace q = physdl::quantum;

q::PauliOperator make_op(int n_sites, carray<std::uint64_t> flips, carray<std::int64_t> offsets,
                         carray<std::uint64_t> zmasks, carray<double> re, carray<double> im) {
  const long G = long(flips.size()), T = long(zmasks.size());
  if (long(offsets.size()) != G + 1) throw py::value_error("offsets must have n_groups + 1 entries");
  if (long(re.size()) != T || long(im.size()) != T) throw py::value_error("coefficients must match zmasks");
  if (n_sites < 1 || n_sites > 64) throw py::value_error("n_sites must be in [1, 64]");
  q::PauliOperator op;
  op.n_sites = n_sites;
  op.flips.assign(flips.data(), flips.data() + G);
  op.offsets.assign(offsets.data(), offsets.data() + G + 1);
  if (op.offsets[0] != 0 || op.offsets[G] != T) throw py::value_error("offsets must run from 0 to n_terms");
  for (long g = 0; g < G; ++g)
    if (op.offsets[g + 1] < op.offsets[g]) throw py::value_error("offsets must be nondecreasing");
  op.zmasks.assign(zmasks.data(), zmasks.data() + T);
  op.coef_re.assign(re.data(), re.data() + T);
  op.coef_im.assign(im.data(), im.data() + T);
  return op;
}

using cplx = std::complex<double>;

// The RBM struct of the kernels for real (double) and complex parameters.
template <class S>
using RbmOf = std::conditional_t<std::is_same_v<S, double>, q::RBM, q::RBMc>;

template <class S>
RbmOf<S> make_rbm(const carray<S>& a, const carray<S>& b, const carray<S>& w) {
  RbmOf<S> r;
  r.n = int(a.size());
  r.m = int(b.size());
  if (r.n < 1 || r.n > 64) throw py::value_error("the RBM needs 1..64 visible units");
  if (long(w.size()) != long(r.n) * r.m) throw py::value_error("W must have shape (m, n)");
  r.a = a.data();
  r.b = b.data();
  r.w = w.data();
  return r;
}

void check_moves(int move, const carray<std::int64_t>& bonds, int n, long n_samples, long sweep, long n_discard) {
  if (move != 0 && move != 1) throw py::value_error("move must be 0 (flip) or 1 (exchange)");
  const long nb = long(bonds.size()) / 2;
  if (move == 1 && (nb < 1 || long(bonds.size()) != 2 * nb)) throw py::value_error("bonds must have shape (E, 2)");
  for (long e = 0; e < 2 * nb; ++e)
    if (bonds.data()[e] < 0 || bonds.data()[e] >= n) throw py::value_error("bond site out of range");
  if (move == 1)
    for (long e = 0; e < nb; ++e)
      if (bonds.data()[2 * e] == bonds.data()[2 * e + 1]) throw py::value_error("a bond joins a site to itself");
  if (n_samples < 1 || sweep < 1 || n_discard < 0) throw py::value_error("bad sample counts");
}


// Per-state kernels (theta, log psi, log-derivatives): out rows of `width` values (0: one value a state).
enum class Width { one, hidden, params };

template <class S, Width W>
auto per_state(void (*kernel)(const RbmOf<S>&, const std::uint64_t*, long, S*)) {
  return [kernel](carray<S> a, carray<S> b, carray<S> w, carray<std::uint64_t> states) {
    const auto r = make_rbm<S>(a, b, w);
    const long c = long(states.size());
    const long width = W == Width::one ? 0 : W == Width::hidden ? r.m : long(r.n) + r.m + long(r.m) * r.n;
    carray<S> out = W == Width::one ? carray<S>{py::ssize_t(c)} : carray<S>({py::ssize_t(c), py::ssize_t(width)});
    auto* o = out.mutable_data();
    const auto* s = states.data();
    py::gil_scoped_release nogil;
    kernel(r, s, c, o);
    return out;
  };
}

template <class S>
auto local_energy(void (*kernel)(const RbmOf<S>&, const q::PauliOperator&, std::uint64_t, const std::uint64_t*, long,
                                 S*)) {
  return [kernel](carray<S> a, carray<S> b, carray<S> w, const q::PauliOperator& op, std::uint64_t sign_mask,
                  carray<std::uint64_t> states) {
    const auto r = make_rbm<S>(a, b, w);
    if (op.n_sites != r.n) throw py::value_error("operator and RBM differ in the number of sites");
    const long c = long(states.size());
    carray<S> out{py::ssize_t(c)};
    auto* o = out.mutable_data();
    const auto* s = states.data();
    py::gil_scoped_release nogil;
    kernel(r, op, sign_mask, s, c, o);
    return out;
  };
}

// The fused VMC step: (samples, eloc, O or None, accepted), and for a complex RBM the chains' final theta.
template <class S>
auto vmc_sample(carray<S> a, carray<S> b, carray<S> w, const q::PauliOperator& op, std::uint64_t sign_mask,
                int move, carray<std::int64_t> bonds, carray<std::uint64_t> states, long n_samples, long sweep,
                long n_discard, std::uint64_t seed, std::uint64_t stream0, std::uint64_t counter0, bool with_O) {
  constexpr bool complex_rbm = !std::is_same_v<S, double>;
  const auto r = make_rbm<S>(a, b, w);
  if (op.n_sites != r.n) throw py::value_error("operator and RBM differ in the number of sites");
  check_moves(move, bonds, r.n, n_samples, sweep, n_discard);
  const long nb = long(bonds.size()) / 2;
  const long C = long(states.size());
  const long P = long(r.n) + r.m + long(r.m) * r.n;
  auto* st = mutable_data(states, "states");
  carray<std::uint64_t> samples({py::ssize_t(C), py::ssize_t(n_samples)});
  carray<S> eloc({py::ssize_t(C), py::ssize_t(n_samples)});
  carray<std::int64_t> acc{py::ssize_t(C)};
  carray<S> theta({py::ssize_t(complex_rbm ? C : 0), py::ssize_t(r.m)});
  py::object Oobj = py::none();
  S* po = nullptr;
  if (with_O) {
    carray<S> O({py::ssize_t(C * n_samples), py::ssize_t(P)});
    po = O.mutable_data();
    Oobj = O;
  }
  auto* ps = samples.mutable_data();
  auto* pe = eloc.mutable_data();
  auto* pa = acc.mutable_data();
  auto* pt = theta.mutable_data();
  const auto* pb = bonds.data();
  {
    py::gil_scoped_release nogil;
    if constexpr (complex_rbm)
      q::rbmc_vmc_sample(r, op, sign_mask, move, pb, nb, st, C, n_samples, sweep, n_discard, seed, stream0, counter0,
                         ps, pe, po, pa, pt);
    else
      q::rbm_vmc_sample(r, op, sign_mask, move, pb, nb, st, C, n_samples, sweep, n_discard, seed, stream0, counter0,
                        ps, pe, po, pa);
  }
  if constexpr (complex_rbm)
    return py::make_tuple(samples, eloc, Oobj, acc, theta);
  else
    return py::make_tuple(samples, eloc, Oobj, acc);
}

}  // namespace

void register_quantum(py::module_& m) {
  py::class_<q::PauliOperator>(m, "PauliOperator", "A compiled sum of Pauli strings (opaque).")
      .def(py::init(&make_op), py::arg("n_sites"), py::arg("flips"), py::arg("offsets"), py::arg("zmasks"),
           py::arg("coef_re"), py::arg("coef_im"))
      .def_property_readonly("n_groups", &q::PauliOperator::n_groups);

  m.def("quantum_sector_states", [](int n, int n_up) {
    if (n < 1 || n > 40) throw py::value_error("n must be in [1, 40] to enumerate a sector");
    if (n_up > n) throw py::value_error("n_up must be <= n");
    std::vector<std::uint64_t> v;
    {
      py::gil_scoped_release nogil;
      v = q::sector_states(n, n_up);
    }
    carray<std::uint64_t> out{py::ssize_t(v.size())};
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
  });
  m.def("quantum_rank", [](carray<std::uint64_t> states, int n, int n_up) {
    carray<std::int64_t> out{py::ssize_t(states.size())};
    auto* o = out.mutable_data();
    const auto* s = states.data();
    const long c = long(states.size());
    py::gil_scoped_release nogil;
    q::rank_states(s, c, n, n_up, o);
    return out;
  });
  m.def("quantum_connected", [](const q::PauliOperator& op, carray<std::uint64_t> states) {
    const long B = long(states.size()), G = op.n_groups();
    carray<std::uint64_t> conn({py::ssize_t(B), py::ssize_t(G)});
    carray<double> re({py::ssize_t(B), py::ssize_t(G)}), im({py::ssize_t(B), py::ssize_t(G)});
    carray<std::int64_t> counts{py::ssize_t(B)};
    std::fill(conn.mutable_data(), conn.mutable_data() + B * G, 0);
    std::fill(re.mutable_data(), re.mutable_data() + B * G, 0.0);
    std::fill(im.mutable_data(), im.mutable_data() + B * G, 0.0);
    auto *pc = conn.mutable_data();
    auto *pr = re.mutable_data(), *pi = im.mutable_data();
    auto* pn = counts.mutable_data();
    const auto* s = states.data();
    {
      py::gil_scoped_release nogil;
      q::connected(op, s, B, pc, pr, pi, pn);
    }
    return py::make_tuple(conn, re, im, counts);
  });
  m.def("quantum_csr", [](const q::PauliOperator& op, carray<std::uint64_t> basis, int n_up) {
    const long D = long(basis.size());
    carray<std::int64_t> indptr{py::ssize_t(D + 1)};
    auto* ip = indptr.mutable_data();
    const auto* bs = basis.data();
    long dropped = 0;
    {
      py::gil_scoped_release nogil;
      dropped = q::csr_count(op, bs, D, n_up, ip + 1);
      ip[0] = 0;
      for (long r = 0; r < D; ++r) ip[r + 1] += ip[r];
    }
    if (dropped > 0)
      throw py::value_error("the operator does not conserve the sector: " + std::to_string(dropped) +
                            " nonzero elements leave it");
    const long nnz = long(ip[D]);
    carray<std::int32_t> indices{py::ssize_t(nnz)};
    carray<double> re{py::ssize_t(nnz)}, im{py::ssize_t(nnz)};
    auto* pi = indices.mutable_data();
    auto* pr = re.mutable_data();
    auto* pm = im.mutable_data();
    {
      py::gil_scoped_release nogil;
      q::csr_fill(op, bs, D, n_up, ip, pi, pr, pm);
    }
    return py::make_tuple(indptr, indices, re, im);
  });
  m.def("quantum_rbm_theta", per_state<double, Width::hidden>(&q::rbm_theta));
  m.def("quantum_rbm_log_psi", per_state<double, Width::one>(&q::rbm_log_psi));
  m.def("quantum_rbm_log_derivs", per_state<double, Width::params>(&q::rbm_log_derivs));
  m.def("quantum_rbm_local_energy", local_energy<double>(&q::rbm_local_energy));
  m.def("quantum_rbm_sample", [](carray<double> a, carray<double> b, carray<double> w, int move,
                                  carray<std::int64_t> bonds, carray<std::uint64_t> states, long n_samples, long sweep,
                                  long n_discard, std::uint64_t seed, std::uint64_t stream0, std::uint64_t counter0) {
    const auto r = make_rbm(a, b, w);
    if (move != 0 && move != 1) throw py::value_error("move must be 0 (flip) or 1 (exchange)");
    const long nb = long(bonds.size()) / 2;
    if (move == 1 && (nb < 1 || long(bonds.size()) != 2 * nb)) throw py::value_error("bonds must have shape (E, 2)");
    for (long e = 0; e < 2 * nb; ++e)
      if (bonds.data()[e] < 0 || bonds.data()[e] >= r.n) throw py::value_error("bond site out of range");
    if (n_samples < 1 || sweep < 1 || n_discard < 0) throw py::value_error("bad sample counts");
    const long C = long(states.size());
    auto* st = mutable_data(states, "states");
    carray<std::uint64_t> samples({py::ssize_t(C), py::ssize_t(n_samples)});
    carray<double> theta({py::ssize_t(C), py::ssize_t(r.m)});
    carray<std::int64_t> acc{py::ssize_t(C)};
    auto* ps = samples.mutable_data();
    auto* pt = theta.mutable_data();
    auto* pa = acc.mutable_data();
    const auto* pb = bonds.data();
    {
      py::gil_scoped_release nogil;
      q::rbm_sample(r, move, pb, nb, st, C, n_samples, sweep, n_discard, seed, stream0, counter0, ps, pt, pa);
    }
    return py::make_tuple(samples, theta, acc);
  });
  m.def("quantum_rbm_vmc_sample", &vmc_sample<double>);
  m.def("quantum_rbm_local_energy_theta", [](carray<double> a, carray<double> b, carray<double> w,
                                              const q::PauliOperator& op, std::uint64_t sign_mask,
                                              carray<std::uint64_t> states, carray<double> theta) {
    const auto r = make_rbm(a, b, w);
    if (op.n_sites != r.n) throw py::value_error("operator and RBM differ in the number of sites");
    const long c = long(states.size());
    if (long(theta.size()) != c * r.m) throw py::value_error("theta must have shape (n_states, m)");
    carray<double> out{py::ssize_t(c)};
    auto* o = out.mutable_data();
    const auto* s = states.data();
    const auto* th = theta.data();
    py::gil_scoped_release nogil;
    q::rbm_local_energy_theta(r, op, sign_mask, s, th, c, o);
    return out;
  });
  m.def("quantum_rbmc_theta", per_state<cplx, Width::hidden>(&q::rbmc_theta));
  m.def("quantum_rbmc_log_psi", per_state<cplx, Width::one>(&q::rbmc_log_psi));
  m.def("quantum_rbmc_log_derivs", per_state<cplx, Width::params>(&q::rbmc_log_derivs));
  m.def("quantum_rbmc_local_energy", local_energy<cplx>(&q::rbmc_local_energy));
  m.def("quantum_rbmc_vmc_sample", &vmc_sample<cplx>);
}

}  // namespace physdl::bindings
