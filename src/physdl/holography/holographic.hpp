// The holographic network of book ch. 12: the bulk scalar field's equation of motion, discretised in
// the emergent coordinate eta, as a deep network whose layer weights are the metric h(eta^(n)).
//
//   phi_{n+1} = phi_n + d * pi_n                                           (eq. 12.5)
//   pi_{n+1}  = pi_n  + d * (-h_n pi_n + m2 phi_n + lam phi_n^3)           (eq. 12.6, V = lam phi^4 / 4)
//
// with d = (eta_fin - eta_ini) / N < 0 (the network runs from the AdS boundary eta_ini to the horizon
// cutoff eta_fin) and eta_n = eta_ini + n d the coordinate of layer n.  The input layer maps boundary
// data to (phi_0, pi_0): either directly, or from QCD data (quark mass m_q [GeV], chiral condensate
// [GeV^3]) by eq. 12.22-12.24 with the AdS radius R [GeV^-1] and lam.  The output is the horizon
// condition F (eq. 12.12: F = pi_N; or eq. 12.11: F = 2 pi_N / eta_fin - m2 phi_N - lam phi_N^3)
// squashed to y in [0, 1): y = tanh(|F|) (the book's tanh, lines 4330-4340), or a smooth window
// y = 1 + (tanh(s (F - eps)) - tanh(s (F + eps))) / 2 (about 0 for |F| < eps, 1 outside).
// Loss: mean over the batch of (y - label)^2 (label 0 = positive data, 1 = negative), plus the
// regularisers of eq. 12.14/12.25 (smoothness), 12.26 (h at the boundary near d) and 12.17 (h near
// 1/eta at the horizon).
//
// Gradients with respect to h, lam and R are computed by the hand-derived adjoint of the recurrence
// (reverse sweep through the stored phi_n, pi_n), and training (Adam, minibatches shuffled by Philox)
// runs whole epochs inside one call, with independent trials in parallel (OpenMP).
//
// Parameter vector layout: p[0 .. N-1] = h_n, p[N] = lam, p[N+1] = R.
#pragma once

#include <cstdint>

namespace physdl::holography {

enum class InputMap : int { direct = 0, qcd = 1 };
enum class Horizon : int { pi = 0, full = 1 };
enum class Output : int { tanh_abs = 0, window = 1 };

struct Config {
  int n_layers = 10;
  double eta_ini = 1.0;
  double eta_fin = 0.1;
  double m2 = -1.0;
  InputMap input_map = InputMap::direct;
  double nc = 3.0;  // colours in the QCD dictionary (eq. 12.22)
  Horizon horizon = Horizon::pi;
  Output output = Output::tanh_abs;
  double eps = 0.1, sharpness = 10.0;  // window output
  double c_smooth = 0.0;   // eq. 12.14 / 12.25
  double c_bdry = 0.0;     // eq. 12.26, pulls h_0 to d_bdry
  double d_bdry = 4.0;
  double c_horizon = 0.0;  // eq. 12.17, pulls h_{N-1} to 1 / eta_{N-1}
};

struct TrainOptions {
  long epochs = 100;
  long batch = 10;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8;
  std::uint64_t seed = 0, stream = 0;
  // which of h / lam / R are trained
  bool train_h = true, train_lam = false, train_R = false;
  bool lam_nonnegative = true;  // projected step: lam = max(lam, 0)
};

// Number of parameters: N + 2.
inline long n_params(const Config& c) { return static_cast<long>(c.n_layers) + 2; }

// Throws std::invalid_argument on an unusable configuration (checked again here for C++ hosts).
void check_config(const Config& c);

// Boundary values (phi_0, pi_0) of n inputs x[n, 2].
void input_layer(const Config& c, const double* p, const double* x, long n, double* phi0, double* pi0);

// Forward pass of n inputs: F[n] and y[n]; traj (optional, may be null) receives phi_k, pi_k for k = 0..N
// as traj[(i * (N + 1) + k) * 2 + {0, 1}].
void forward(const Config& c, const double* p, const double* x, long n, double* F, double* y, double* traj);

// Mean data loss + regularisers over n samples, and its gradient grad[N + 2] (all parameters; the
// caller masks what it does not train).  Returns the total; data_loss (optional) the data part.
double loss_grad(const Config& c, const double* p, const double* x, const double* labels, long n, double* grad,
                 double* data_loss);

// Trains `trials` independent parameter vectors p[trials, N + 2] with Adam state m, v[trials, N + 2]
// and step counts steps[trials], from epoch `epoch0` for opt.epochs epochs on the data x[n, 2],
// labels[n].  Trial t shuffles with Philox stream opt.stream + t; epoch e's order depends only on
// (seed, stream, e), so a run resumed at any epoch equals an uninterrupted one bit for bit.
// history[trials, opt.epochs] receives the mean training loss of each epoch.  `stop` (optional) is
// polled between epochs; when it returns true the call ends after a whole epoch and returns the
// number of epochs done (otherwise opt.epochs).
long train(const Config& c, double* p, double* m, double* v, long* steps, long trials, const double* x,
           const double* labels, long n, const TrainOptions& opt, long epoch0, double* history,
           bool (*stop)() = nullptr);

}  // namespace physdl::holography
