/* physdl C API: plain C entry points over the core's kernels, for hosts that cannot call C++
 * (Cython extensions in C mode, C codes).  The Python package exports one table of these
 * functions as the capsule physdl._core._capi (see python/physdl/capi.pxd), so a Cython extension
 * calls exactly the kernels the Python package runs, with no link step.
 *
 * Every function returns PHYSDL_OK (0) or a negative code (an error, or PHYSDL_STOPPED), checks
 * every pointer and length it is given before any kernel runs, and never writes outside the buffers
 * as described by their lengths (lengths count elements, not bytes).  Safe to call without the GIL.
 *
 * Random numbers follow the addressing of physdl/random/philox.hpp: key = seed, counter words =
 * (counter lo, counter hi, stream lo, stream hi); fill routines read blocks offset, offset + 1, ...
 * exactly as physdl.random.uint32/uniform/normal and physdl::random::fill_* do. */
#ifndef PHYSDL_CAPI_H
#define PHYSDL_CAPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes. */
#define PHYSDL_OK 0
#define PHYSDL_ERR_NULL (-1)      /* a required pointer is NULL */
#define PHYSDL_ERR_SHORT (-2)     /* a buffer's length is smaller than the call needs */
#define PHYSDL_ERR_SIZE (-3)      /* a size is negative, zero where not allowed, odd where even is needed, or overflows */
#define PHYSDL_ERR_ENUM (-4)      /* an enum argument (update rule) is out of range */
#define PHYSDL_ERR_VALUE (-5)     /* a value is out of range (a spin not +-1, a non-finite parameter) */
#define PHYSDL_ERR_INTERNAL (-6)  /* the kernel threw (out of memory, ...) */
#define PHYSDL_ERR_TYPE (-7)      /* a handle of another kind or dtype (a float32 model given to a _f64 entry) */
#define PHYSDL_STOPPED (-8)       /* the caller's stop flag was set: the call returned early (version 5) */

/* Update rules (the codes of the lattice kernels). */
#define PHYSDL_METROPOLIS 0
#define PHYSDL_HEAT_BATH 1

/* Losses of the nn training step (the codes of physdl/nn/layer_kinds.hpp). */
#define PHYSDL_NN_MSE 0
#define PHYSDL_NN_BCE 1
#define PHYSDL_NN_BCE_LOGITS 2
#define PHYSDL_NN_SOFTMAX_CE 3

/* LASSO solvers (physdl.inverse.lasso(solver=...)). */
#define PHYSDL_LASSO_CD 0
#define PHYSDL_LASSO_FISTA 1
#define PHYSDL_LASSO_ADMM 2

/* Version of the table below: grows when functions are appended (never reordered, never changed).
 *   1: Philox block and fills, square-lattice table, sweeps and measurement.
 *   2: the nn engine (nn_sizes, nn_forward_f64/f32, nn_train_step_f64/f32).
 *   3: rbm_gibbs_f64/f32, hopfield_async, lasso_solve, vmc_local_energy, tn_sizes, tn_input_size,
 *      tn_execute_f64/f32.
 *   4: any periodic graph in byte storage: graph_table, cluster_p_add, graph_measure, graph_sweeps,
 *      graph_wolff_sweeps, graph_sw_sweeps.
 *   5: lasso_solve_stop (lasso_solve with a stop flag; the code PHYSDL_STOPPED).
 * An extension built against version k runs on any physdl exporting a version >= k. */
#define PHYSDL_CAPI_VERSION 5

/* out[0..3] = Philox4x32-10 block (seed, stream, counter). */
int physdl_philox_block(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t* out, size_t out_len);

/* out[j] for j < n, from blocks offset, offset + 1, ... (n <= out_len). */
int physdl_fill_uint32(uint64_t seed, uint64_t stream, uint64_t offset, uint32_t* out, size_t out_len, size_t n);
int physdl_fill_uniform_float(uint64_t seed, uint64_t stream, uint64_t offset, float* out, size_t out_len, size_t n);
int physdl_fill_uniform_double(uint64_t seed, uint64_t stream, uint64_t offset, double* out, size_t out_len, size_t n);
int physdl_fill_normal_double(uint64_t seed, uint64_t stream, uint64_t offset, double* out, size_t out_len, size_t n);

/* Threshold table of the square-lattice Ising kernels at (update, beta, J, h), as physdl.lattice.Simulation
 * builds it: multispin = 1 gives the multi-spin table (10 entries for Metropolis, 5 for heat bath),
 * multispin = 0 the byte table (10 entries).  *written receives the count (may be NULL). */
int physdl_lattice_table(int multispin, int update, double beta, double J, double h, uint64_t* out,
                         size_t out_len, size_t* written);

/* Words of an ly x lx multi-spin lattice: 2 * ly * ceil(lx / 128); 0 for a bad shape. */
size_t physdl_multispin_words_len(int64_t ly, int64_t lx);

/* nsweeps checkerboard sweeps of a periodic ly x lx Ising lattice (ly, lx even), the same lattice as
 * Simulation(Ising((ly, lx), J, h), beta, update, storage=...) after the same sweeps when seed, chain
 * and sweep0 (the sweeps already done) agree.  table: as physdl_lattice_table gives.  Every
 * measure_every-th sweep (0: none) writes energy[m], mag[m]; both need nsweeps / measure_every entries. */
int physdl_multispin_sweeps(uint64_t* words, size_t words_len, int64_t ly, int64_t lx, int update,
                            const uint64_t* table, size_t table_len, double J, double h, uint64_t seed,
                            uint64_t chain, uint64_t sweep0, int64_t nsweeps, int64_t measure_every,
                            double* energy, size_t energy_len, int64_t* mag, size_t mag_len);
int physdl_byte_sweeps(int8_t* spins, size_t spins_len, int64_t ly, int64_t lx, int update,
                       const uint64_t* table, size_t table_len, double J, double h, uint64_t seed,
                       uint64_t chain, uint64_t sweep0, int64_t nsweeps, int64_t measure_every,
                       double* energy, size_t energy_len, int64_t* mag, size_t mag_len);

/* Energy H = -J sum_<ij> s_i s_j - h sum_i s_i and magnetisation sum_i s_i. */
int physdl_multispin_measure(const uint64_t* words, size_t words_len, int64_t ly, int64_t lx, double J,
                             double h, double* energy, int64_t* mag);
int physdl_byte_measure(const int8_t* spins, size_t spins_len, int64_t ly, int64_t lx, double J, double h,
                        double* energy, int64_t* mag);

/* ---- nn engine (version 2) ----
 * A handle to the engine of a physdl.nn.Sequential built in Python on the cpp backend (and optionally
 * the state of its optimizer), from physdl.capi.nn_handle(model, optimizer) in Cython.  The handle does
 * not lock: do not use the model from another thread (or from Python) during a call. */
typedef struct physdl_nn_handle physdl_nn_handle;

/* itemsize: 4 (float32 model) or 8 (float64); sizes per sample; labels per sample of softmax_ce;
 * parameter count.  has_optimizer: 1 when the handle carries an optimizer state.  Any output may be NULL. */
int physdl_nn_sizes(const physdl_nn_handle* h, int* itemsize, int64_t* input_size, int64_t* output_size,
                    int64_t* label_count, int64_t* num_params, int* has_optimizer);

/* Forward pass of n samples: x holds n * input_size values, out receives n * output_size values;
 * equal bit for bit to Sequential.predict on the same samples. */
int physdl_nn_forward_f64(physdl_nn_handle* h, const double* x, size_t x_len, int64_t n, double* out,
                          size_t out_len);
int physdl_nn_forward_f32(physdl_nn_handle* h, const float* x, size_t x_len, int64_t n, float* out,
                          size_t out_len);

/* One training step on a minibatch of n samples (forward, loss, backward, optimizer update), as
 * Sequential.train_step(x, y, loss, optimizer): targets (n * output_size values) for MSE / BCE /
 * BCE_LOGITS, labels (n * label_count values, -100 ignored) for SOFTMAX_CE; the other pointer may be
 * NULL.  *loss_out (may be NULL) receives the minibatch loss before the update. */
int physdl_nn_train_step_f64(physdl_nn_handle* h, const double* x, size_t x_len, int64_t n, int loss,
                             const double* targets, size_t targets_len, const int64_t* labels,
                             size_t labels_len, double* loss_out);
int physdl_nn_train_step_f32(physdl_nn_handle* h, const float* x, size_t x_len, int64_t n, int loss,
                             const float* targets, size_t targets_len, const int64_t* labels,
                             size_t labels_len, double* loss_out);

/* ---- engines of the other packages (version 3) ---- */

/* k block-Gibbs steps of m chains of an RBM with energy -b.v - c.h - v.W.h (W nv x nh row-major):
 * v (m x nv) in/out, h (m x nh) out; pm = 1: units +-1, 0: units {0, 1}.  Row r draws from stream
 * stream0 + r, steps t0, t0 + 1, ... (physdl/ebm/ebm.hpp), so RBM(...).gibbs(v, k) is this call with
 * seed = rbm.seed, stream0 = the registered stream "boltzmann" (purpose 0) and t0 = the RBM's step
 * counter before the call. */
int physdl_rbm_gibbs_f64(const double* W, size_t W_len, const double* b, size_t b_len, const double* c,
                         size_t c_len, int64_t nv, int64_t nh, int pm, double* v, size_t v_len, double* h,
                         size_t h_len, int64_t m, int64_t k, uint64_t seed, uint64_t stream0, uint64_t t0);
int physdl_rbm_gibbs_f32(const float* W, size_t W_len, const float* b, size_t b_len, const float* c, size_t c_len,
                         int64_t nv, int64_t nh, int pm, float* v, size_t v_len, float* h, size_t h_len, int64_t m,
                         int64_t k, uint64_t seed, uint64_t stream0, uint64_t t0);

/* Asynchronous Hopfield updates (eq. 10.5) of m states S (m x n, entries +-1) with couplings W (n x n):
 * chain r uses stream stream0 + r; energy_sweep (m x (max_sweeps + 1)) the energy after each sweep,
 * sweeps (m) and flips (m) per chain.  tie_keep = 1: sgn(0) keeps the spin, 0: gives -1.
 * n < 2^24, 1 <= max_sweeps < 2^39. */
int physdl_hopfield_async(const double* W, size_t W_len, int64_t n, int8_t* S, size_t S_len, int64_t m,
                          int64_t max_sweeps, int tie_keep, uint64_t seed, uint64_t stream0, double* energy_sweep,
                          size_t energy_sweep_len, int64_t* sweeps, size_t sweeps_len, int64_t* flips,
                          size_t flips_len);

/* LASSO 1/(2n) ||y - X b||^2 + alpha ||b||_1 (b >= 0 when positive) in place on beta (p, the warm
 * start): xt is X^T (p x n row-major).  param: CD: alpha of a previous path point or -1; FISTA: the
 * Lipschitz constant ||X||_2^2 / n or <= 0 (estimated); ADMM: rho or <= 0 (default).  No intercept:
 * centre X and y first for fit_intercept.  *n_iter, *gap may be NULL. */
int physdl_lasso_solve(int solver, const double* xt, size_t xt_len, const double* y, size_t y_len, int64_t n,
                       int64_t p, double alpha, double* beta, size_t beta_len, double tol, int64_t max_iter,
                       int positive, double param, int64_t* n_iter, double* gap);

/* Version 5: physdl_lasso_solve with a stop flag.  The solve reads *stop (another thread sets it to
 * non-zero to stop the call; stop may be NULL: never) before it starts and at its safe points, at
 * most every 2 ms of work (after each pass, every few coordinate updates, factor columns and blocks of
 * the Gram products).  When it finds the flag set it returns PHYSDL_STOPPED and leaves beta, *n_iter
 * and *gap exactly as they were (the solve runs on a private copy of beta); otherwise it is
 * physdl_lasso_solve, with the same results bit for bit. */
int physdl_lasso_solve_stop(int solver, const double* xt, size_t xt_len, const double* y, size_t y_len, int64_t n,
                            int64_t p, double alpha, double* beta, size_t beta_len, double tol, int64_t max_iter,
                            int positive, double param, int64_t* n_iter, double* gap, const volatile int* stop);

/* VMC local energies E_loc(s) of an RBM wave function (eq. 11.4) for count states (bit i = spin i up):
 * params = [a (n), b (m), W (m x n)] as physdl.quantum.RBM.params, the operator compiled into
 * n_groups flip groups (flips, offsets (n_groups + 1), n_terms zmasks and coefficients; real
 * operators only) as PauliSum.numba_args() gives them; sign_mask as RBM.sign_mask. */
int physdl_vmc_local_energy(const double* params, size_t params_len, int n, int m, int64_t n_groups,
                            const uint64_t* flips, const int64_t* offsets, int64_t n_terms, const uint64_t* zmasks,
                            const double* coef_re, const double* coef_im, uint64_t sign_mask,
                            const uint64_t* states, size_t states_len, int64_t count, double* out, size_t out_len);

/* A compiled physdl.tensornet.Expression (cpp backend), from physdl.capi.tn_handle(expr) in Cython. */
typedef struct physdl_tn_program physdl_tn_program;

/* Number of operands and elements of the output; elements of operand i. */
int physdl_tn_sizes(const physdl_tn_program* h, int* n_inputs, int64_t* out_size);
int physdl_tn_input_size(const physdl_tn_program* h, int i, int64_t* size);

/* The contraction of n_inputs C-contiguous operands (inputs[i] holds input_lens[i] >= its size
 * elements) into out (C order, the output shape), as Expression(*operands) computes it. */
int physdl_tn_execute_f64(const physdl_tn_program* h, const double* const* inputs, const size_t* input_lens,
                          int n_inputs, double* out, size_t out_len);
int physdl_tn_execute_f32(const physdl_tn_program* h, const float* const* inputs, const size_t* input_lens,
                          int n_inputs, float* out, size_t out_len);

/* ---- Ising kernels on any periodic graph, byte storage (version 4) ----
 * H = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i on n sites of coordination z: nbr (n * z) the directed
 * neighbour table, uniform = 1: couplings J0, h0, else J (n * z, per directed bond) and h (n); order
 * (n) the sites sorted by colour, col_off (ncol + 1) the colour offsets (no two sites of one colour
 * neighbours; sequential sweeps: ncol = n, order = 0..n-1).  For a physdl.lattice model these are
 * model.neighbours(), model.bond_couplings(), model.fields(), model.colouring(sweep); Wolff and
 * Swendsen-Wang take order = 0..n-1 and col_off = {0, n}.  Streams and counters as in
 * physdl/lattice/lattice.hpp, so the spins equal Simulation(model, beta, update=...)'s after the same
 * sweeps (storage="byte"). */
typedef struct physdl_graph {
  int64_t n;
  int z;
  const int32_t* nbr;
  int uniform;
  double J0, h0;
  const double* J;
  const double* h;
  const int32_t* order;
  const int64_t* col_off;
  int ncol;
} physdl_graph;

/* Threshold table of the byte kernels for coordination z (2 (z + 1) entries), as Simulation builds it
 * for uniform couplings; non-uniform couplings take 2 (z + 1) zeros (the kernel uses beta and J). */
int physdl_graph_table(int update, int z, double beta, double J, double h, uint64_t* out, size_t out_len,
                       size_t* written);
/* Bond probability 1 - exp(-2 beta J) of the cluster kernels in 53-bit fixed point (uniform couplings;
 * non-uniform couplings take 0: the kernel uses beta and J_ij). */
int physdl_cluster_p_add(double beta, double J, uint64_t* p_add);
int physdl_graph_measure(const physdl_graph* g, const int8_t* spins, size_t spins_len, double* energy, int64_t* mag);
/* Metropolis / heat-bath sweeps, colour by colour; (sweep0 + nsweeps) * ncol < 2^39. */
int physdl_graph_sweeps(const physdl_graph* g, int8_t* spins, size_t spins_len, int update, double beta,
                        const uint64_t* table, size_t table_len, uint64_t seed, uint64_t chain, uint64_t sweep0,
                        int64_t nsweeps, int64_t measure_every, double* energy, size_t energy_len, int64_t* mag,
                        size_t mag_len);
/* Wolff sweeps of clusters_per_sweep clusters from cluster number cluster0; flipped (nsweeps) the
 * spins flipped per sweep, *next_cluster (may be NULL) the next cluster number;
 * cluster0 + nsweeps * clusters_per_sweep < 2^39. */
int physdl_graph_wolff_sweeps(const physdl_graph* g, int8_t* spins, size_t spins_len, double beta,
                              uint64_t p_add, uint64_t seed, uint64_t chain, uint64_t cluster0,
                              int64_t clusters_per_sweep, int64_t nsweeps, int64_t measure_every, double* energy,
                              size_t energy_len, int64_t* mag, size_t mag_len, int64_t* flipped,
                              size_t flipped_len, uint64_t* next_cluster);
/* Swendsen-Wang sweeps sweep0, sweep0 + 1, ... (< 2^39). */
int physdl_graph_sw_sweeps(const physdl_graph* g, int8_t* spins, size_t spins_len, double beta, uint64_t p_add,
                           uint64_t seed, uint64_t chain, uint64_t sweep0, int64_t nsweeps, int64_t measure_every,
                           double* energy, size_t energy_len, int64_t* mag, size_t mag_len);

/* The table exported as the capsule "physdl._core._capi". */
typedef struct physdl_capi {
  int version;
  int (*philox_block)(uint64_t, uint64_t, uint64_t, uint32_t*, size_t);
  int (*fill_uint32)(uint64_t, uint64_t, uint64_t, uint32_t*, size_t, size_t);
  int (*fill_uniform_float)(uint64_t, uint64_t, uint64_t, float*, size_t, size_t);
  int (*fill_uniform_double)(uint64_t, uint64_t, uint64_t, double*, size_t, size_t);
  int (*fill_normal_double)(uint64_t, uint64_t, uint64_t, double*, size_t, size_t);
  int (*lattice_table)(int, int, double, double, double, uint64_t*, size_t, size_t*);
  size_t (*multispin_words_len)(int64_t, int64_t);
  int (*multispin_sweeps)(uint64_t*, size_t, int64_t, int64_t, int, const uint64_t*, size_t, double, double,
                          uint64_t, uint64_t, uint64_t, int64_t, int64_t, double*, size_t, int64_t*, size_t);
  int (*byte_sweeps)(int8_t*, size_t, int64_t, int64_t, int, const uint64_t*, size_t, double, double, uint64_t,
                     uint64_t, uint64_t, int64_t, int64_t, double*, size_t, int64_t*, size_t);
  int (*multispin_measure)(const uint64_t*, size_t, int64_t, int64_t, double, double, double*, int64_t*);
  int (*byte_measure)(const int8_t*, size_t, int64_t, int64_t, double, double, double*, int64_t*);
  /* version 2 */
  int (*nn_sizes)(const physdl_nn_handle*, int*, int64_t*, int64_t*, int64_t*, int64_t*, int*);
  int (*nn_forward_f64)(physdl_nn_handle*, const double*, size_t, int64_t, double*, size_t);
  int (*nn_forward_f32)(physdl_nn_handle*, const float*, size_t, int64_t, float*, size_t);
  int (*nn_train_step_f64)(physdl_nn_handle*, const double*, size_t, int64_t, int, const double*, size_t,
                           const int64_t*, size_t, double*);
  int (*nn_train_step_f32)(physdl_nn_handle*, const float*, size_t, int64_t, int, const float*, size_t,
                           const int64_t*, size_t, double*);
  /* version 3 */
  int (*rbm_gibbs_f64)(const double*, size_t, const double*, size_t, const double*, size_t, int64_t, int64_t, int,
                       double*, size_t, double*, size_t, int64_t, int64_t, uint64_t, uint64_t, uint64_t);
  int (*rbm_gibbs_f32)(const float*, size_t, const float*, size_t, const float*, size_t, int64_t, int64_t, int,
                       float*, size_t, float*, size_t, int64_t, int64_t, uint64_t, uint64_t, uint64_t);
  int (*hopfield_async)(const double*, size_t, int64_t, int8_t*, size_t, int64_t, int64_t, int, uint64_t, uint64_t,
                        double*, size_t, int64_t*, size_t, int64_t*, size_t);
  int (*lasso_solve)(int, const double*, size_t, const double*, size_t, int64_t, int64_t, double, double*, size_t,
                     double, int64_t, int, double, int64_t*, double*);
  int (*vmc_local_energy)(const double*, size_t, int, int, int64_t, const uint64_t*, const int64_t*, int64_t,
                          const uint64_t*, const double*, const double*, uint64_t, const uint64_t*, size_t, int64_t,
                          double*, size_t);
  int (*tn_sizes)(const physdl_tn_program*, int*, int64_t*);
  int (*tn_input_size)(const physdl_tn_program*, int, int64_t*);
  int (*tn_execute_f64)(const physdl_tn_program*, const double* const*, const size_t*, int, double*, size_t);
  int (*tn_execute_f32)(const physdl_tn_program*, const float* const*, const size_t*, int, float*, size_t);
  /* version 4 */
  int (*graph_table)(int, int, double, double, double, uint64_t*, size_t, size_t*);
  int (*cluster_p_add)(double, double, uint64_t*);
  int (*graph_measure)(const physdl_graph*, const int8_t*, size_t, double*, int64_t*);
  int (*graph_sweeps)(const physdl_graph*, int8_t*, size_t, int, double, const uint64_t*, size_t, uint64_t, uint64_t,
                      uint64_t, int64_t, int64_t, double*, size_t, int64_t*, size_t);
  int (*graph_wolff_sweeps)(const physdl_graph*, int8_t*, size_t, double, uint64_t, uint64_t, uint64_t, uint64_t,
                            int64_t, int64_t, int64_t, double*, size_t, int64_t*, size_t, int64_t*, size_t, uint64_t*);
  int (*graph_sw_sweeps)(const physdl_graph*, int8_t*, size_t, double, uint64_t, uint64_t, uint64_t, uint64_t, int64_t,
                         int64_t, double*, size_t, int64_t*, size_t);
  /* version 5 */
  int (*lasso_solve_stop)(int, const double*, size_t, const double*, size_t, int64_t, int64_t, double, double*, size_t,
                          double, int64_t, int, double, int64_t*, double*, const volatile int*);
} physdl_capi;

/* The filled table (what the capsule points to). */
const physdl_capi* physdl_capi_table(void);

#ifdef __cplusplus
}
#endif
#endif /* PHYSDL_CAPI_H */
