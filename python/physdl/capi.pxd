# cython: language_level=3
"""physdl's C API for Cython extensions (``cimport physdl.capi``).

The functions are reached through one table of function pointers that ``physdl._core`` exports as
the capsule ``physdl._core._capi``: no link step, and the extension runs exactly the kernels the
Python package runs.  Get the table once, with the GIL held, then call through it in ``nogil`` code::

    from physdl.capi cimport physdl_capi, import_capi, PHYSDL_OK
    cdef const physdl_capi* api = import_capi()
    cdef uint32_t w[4]
    with nogil:
        rc = api.philox_block(seed, stream, counter, w, 4)

Every function returns PHYSDL_OK (0) or a negative PHYSDL_ERR_* code (or PHYSDL_STOPPED) and checks the pointers and
lengths (in elements) it is given before any kernel runs; see physdl/capi/capi.h in
``physdl.get_include()``.  Build with ``include_dirs=[physdl.get_include()]`` and
``include_path=[physdl.get_pxd_include()]``.
"""
from libc.stdint cimport int8_t, int32_t, int64_t, uint32_t, uint64_t
from cpython.pycapsule cimport PyCapsule_Import, PyCapsule_GetPointer

cdef extern from "physdl/capi/capi.h" nogil:
    enum:
        PHYSDL_OK
        PHYSDL_ERR_NULL
        PHYSDL_ERR_SHORT
        PHYSDL_ERR_SIZE
        PHYSDL_ERR_ENUM
        PHYSDL_ERR_VALUE
        PHYSDL_ERR_INTERNAL
        PHYSDL_ERR_TYPE
        PHYSDL_STOPPED
        PHYSDL_METROPOLIS
        PHYSDL_HEAT_BATH
        PHYSDL_NN_MSE
        PHYSDL_NN_BCE
        PHYSDL_NN_BCE_LOGITS
        PHYSDL_NN_SOFTMAX_CE
        PHYSDL_LASSO_CD
        PHYSDL_LASSO_FISTA
        PHYSDL_LASSO_ADMM
        PHYSDL_CAPI_VERSION

    # opaque handle to a Sequential's engine (nn_handle below)
    ctypedef struct physdl_nn_handle:
        pass
    # a periodic graph in byte storage (version 4; physdl/capi/capi.h says what each field is)
    ctypedef struct physdl_graph:
        int64_t n
        int z
        const int32_t* nbr
        int uniform
        double J0
        double h0
        const double* J
        const double* h
        const int32_t* order
        const int64_t* col_off
        int ncol

    # opaque compiled tensor-network expression (tn_handle below)
    ctypedef struct physdl_tn_program:
        pass

    ctypedef struct physdl_capi:
        int version
        # out[0..3] = Philox4x32-10 block (seed, stream, counter)
        int (*philox_block)(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t* out,
                            size_t out_len) noexcept nogil
        # n values from blocks offset, offset + 1, ... (n <= out_len), as physdl.random.*
        int (*fill_uint32)(uint64_t seed, uint64_t stream, uint64_t offset, uint32_t* out, size_t out_len,
                           size_t n) noexcept nogil
        int (*fill_uniform_float)(uint64_t seed, uint64_t stream, uint64_t offset, float* out, size_t out_len,
                                  size_t n) noexcept nogil
        int (*fill_uniform_double)(uint64_t seed, uint64_t stream, uint64_t offset, double* out,
                                   size_t out_len, size_t n) noexcept nogil
        int (*fill_normal_double)(uint64_t seed, uint64_t stream, uint64_t offset, double* out,
                                  size_t out_len, size_t n) noexcept nogil
        # threshold table of the square Ising kernels (multispin 1: 10 / 5 entries; 0: 10 entries)
        int (*lattice_table)(int multispin, int update, double beta, double J, double h, uint64_t* out,
                             size_t out_len, size_t* written) noexcept nogil
        size_t (*multispin_words_len)(int64_t ly, int64_t lx) noexcept nogil
        int (*multispin_sweeps)(uint64_t* words, size_t words_len, int64_t ly, int64_t lx, int update,
                                const uint64_t* table, size_t table_len, double J, double h, uint64_t seed,
                                uint64_t chain, uint64_t sweep0, int64_t nsweeps, int64_t measure_every,
                                double* energy, size_t energy_len, int64_t* mag, size_t mag_len) noexcept nogil
        int (*byte_sweeps)(int8_t* spins, size_t spins_len, int64_t ly, int64_t lx, int update,
                           const uint64_t* table, size_t table_len, double J, double h, uint64_t seed,
                           uint64_t chain, uint64_t sweep0, int64_t nsweeps, int64_t measure_every,
                           double* energy, size_t energy_len, int64_t* mag, size_t mag_len) noexcept nogil
        int (*multispin_measure)(const uint64_t* words, size_t words_len, int64_t ly, int64_t lx, double J,
                                 double h, double* energy, int64_t* mag) noexcept nogil
        int (*byte_measure)(const int8_t* spins, size_t spins_len, int64_t ly, int64_t lx, double J, double h,
                            double* energy, int64_t* mag) noexcept nogil
        # version 2: the nn engine of a Sequential (cpp backend) on caller-owned buffers
        int (*nn_sizes)(const physdl_nn_handle* h, int* itemsize, int64_t* input_size, int64_t* output_size,
                        int64_t* label_count, int64_t* num_params, int* has_optimizer) noexcept nogil
        int (*nn_forward_f64)(physdl_nn_handle* h, const double* x, size_t x_len, int64_t n, double* out,
                              size_t out_len) noexcept nogil
        int (*nn_forward_f32)(physdl_nn_handle* h, const float* x, size_t x_len, int64_t n, float* out,
                              size_t out_len) noexcept nogil
        int (*nn_train_step_f64)(physdl_nn_handle* h, const double* x, size_t x_len, int64_t n, int loss,
                                 const double* targets, size_t targets_len, const int64_t* labels,
                                 size_t labels_len, double* loss_out) noexcept nogil
        int (*nn_train_step_f32)(physdl_nn_handle* h, const float* x, size_t x_len, int64_t n, int loss,
                                 const float* targets, size_t targets_len, const int64_t* labels,
                                 size_t labels_len, double* loss_out) noexcept nogil
        # version 3: the engines of the other packages (physdl/capi/capi.h says what each argument is)
        int (*rbm_gibbs_f64)(const double* W, size_t W_len, const double* b, size_t b_len, const double* c,
                             size_t c_len, int64_t nv, int64_t nh, int pm, double* v, size_t v_len, double* h,
                             size_t h_len, int64_t m, int64_t k, uint64_t seed, uint64_t stream0,
                             uint64_t t0) noexcept nogil
        int (*rbm_gibbs_f32)(const float* W, size_t W_len, const float* b, size_t b_len, const float* c,
                             size_t c_len, int64_t nv, int64_t nh, int pm, float* v, size_t v_len, float* h,
                             size_t h_len, int64_t m, int64_t k, uint64_t seed, uint64_t stream0,
                             uint64_t t0) noexcept nogil
        int (*hopfield_async)(const double* W, size_t W_len, int64_t n, int8_t* S, size_t S_len, int64_t m,
                              int64_t max_sweeps, int tie_keep, uint64_t seed, uint64_t stream0,
                              double* energy_sweep, size_t energy_sweep_len, int64_t* sweeps, size_t sweeps_len,
                              int64_t* flips, size_t flips_len) noexcept nogil
        int (*lasso_solve)(int solver, const double* xt, size_t xt_len, const double* y, size_t y_len, int64_t n,
                           int64_t p, double alpha, double* beta, size_t beta_len, double tol, int64_t max_iter,
                           int positive, double param, int64_t* n_iter, double* gap) noexcept nogil
        int (*vmc_local_energy)(const double* params, size_t params_len, int n, int m, int64_t n_groups,
                                const uint64_t* flips, const int64_t* offsets, int64_t n_terms,
                                const uint64_t* zmasks, const double* coef_re, const double* coef_im,
                                uint64_t sign_mask, const uint64_t* states, size_t states_len, int64_t count,
                                double* out, size_t out_len) noexcept nogil
        int (*tn_sizes)(const physdl_tn_program* h, int* n_inputs, int64_t* out_size) noexcept nogil
        int (*tn_input_size)(const physdl_tn_program* h, int i, int64_t* size) noexcept nogil
        int (*tn_execute_f64)(const physdl_tn_program* h, const double* const* inputs, const size_t* input_lens,
                              int n_inputs, double* out, size_t out_len) noexcept nogil
        int (*tn_execute_f32)(const physdl_tn_program* h, const float* const* inputs, const size_t* input_lens,
                              int n_inputs, float* out, size_t out_len) noexcept nogil
        # version 4: Ising kernels on any periodic graph (byte storage)
        int (*graph_table)(int update, int z, double beta, double J, double h, uint64_t* out, size_t out_len,
                           size_t* written) noexcept nogil
        int (*cluster_p_add)(double beta, double J, uint64_t* p_add) noexcept nogil
        int (*graph_measure)(const physdl_graph* g, const int8_t* spins, size_t spins_len, double* energy,
                             int64_t* mag) noexcept nogil
        int (*graph_sweeps)(const physdl_graph* g, int8_t* spins, size_t spins_len, int update, double beta,
                            const uint64_t* table, size_t table_len, uint64_t seed, uint64_t chain, uint64_t sweep0,
                            int64_t nsweeps, int64_t measure_every, double* energy, size_t energy_len, int64_t* mag,
                            size_t mag_len) noexcept nogil
        int (*graph_wolff_sweeps)(const physdl_graph* g, int8_t* spins, size_t spins_len, double beta,
                                  uint64_t p_add, uint64_t seed, uint64_t chain, uint64_t cluster0,
                                  int64_t clusters_per_sweep, int64_t nsweeps, int64_t measure_every,
                                  double* energy, size_t energy_len, int64_t* mag, size_t mag_len,
                                  int64_t* flipped, size_t flipped_len, uint64_t* next_cluster) noexcept nogil
        int (*graph_sw_sweeps)(const physdl_graph* g, int8_t* spins, size_t spins_len, double beta,
                               uint64_t p_add, uint64_t seed, uint64_t chain, uint64_t sweep0, int64_t nsweeps,
                               int64_t measure_every, double* energy, size_t energy_len, int64_t* mag,
                               size_t mag_len) noexcept nogil
        # version 5: lasso_solve with a stop flag (set *stop non-zero from another thread: PHYSDL_STOPPED,
        # beta untouched)
        int (*lasso_solve_stop)(int solver, const double* xt, size_t xt_len, const double* y, size_t y_len,
                                int64_t n, int64_t p, double alpha, double* beta, size_t beta_len, double tol,
                                int64_t max_iter, int positive, double param, int64_t* n_iter, double* gap,
                                const volatile int* stop) noexcept nogil


cdef inline const physdl_capi* import_capi() except NULL:
    """The C API table of the imported physdl._core (call with the GIL held, once)."""
    import physdl._core  # PyCapsule_Import reads attributes: the submodule must be loaded
    # the matrix products of the nn, inverse and tensornet kernels go through SciPy's BLAS, as in
    # the Python package (without it the core's plain loops would round differently)
    from physdl.nn._blas import ensure_blas as _nn_blas
    from physdl.tensornet._blas import ensure_blas as _tn_blas
    _nn_blas(physdl._core.nn)
    _tn_blas(physdl._core.tensornet)
    cdef const physdl_capi* api = <const physdl_capi*> PyCapsule_Import(b"physdl._core._capi", 0)
    if api.version < PHYSDL_CAPI_VERSION:
        raise ImportError(f"physdl._core exports C API version {api.version}, this extension was built "
                          f"against version {PHYSDL_CAPI_VERSION}: rebuild it against the installed physdl")
    return api


cdef inline object nn_handle(object model, object optimizer=None):
    """A capsule holding a ``physdl_nn_handle*`` to ``model``'s engine and, when given, the state of
    ``optimizer`` for this model (bound on first use, as ``model.train_step`` binds it).

    ``model`` is a built ``physdl.nn.Sequential`` on the cpp backend.  Keep the capsule alive while
    the pointer from :func:`nn_handle_ptr` is in use (it holds references to the engine and the
    optimizer state).  Take a new handle after anything that rebuilds the model's engine (``load``).
    Call with the GIL held."""
    import physdl._core as core
    from physdl.nn import Optimizer, Sequential
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a physdl.nn.Sequential, got {type(model).__name__}")
    if model.backend != "cpp":
        raise ValueError(f"the C API runs the cpp engine; this model's backend is {model.backend!r}")
    model._need_engine()
    state = None
    if optimizer is not None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a physdl.nn optimizer (SGD, Adam), got {type(optimizer).__name__}")
        state = optimizer._bind(model)
    return core._nn_handle(model._engine, state)


cdef inline physdl_nn_handle* nn_handle_ptr(object capsule) except NULL:
    """The ``physdl_nn_handle*`` inside a capsule from :func:`nn_handle`."""
    return <physdl_nn_handle*> PyCapsule_GetPointer(capsule, b"physdl._core.nn_handle")


cdef inline object tn_handle(object expression):
    """A capsule holding a ``physdl_tn_program*`` to the compiled program of a
    ``physdl.tensornet.Expression`` (``contract_expression(...)``); keep it alive while the pointer
    from :func:`tn_handle_ptr` is in use.  Call with the GIL held."""
    from physdl.tensornet.contract import Expression
    import physdl._core as core
    if not isinstance(expression, Expression):
        raise TypeError(f"expression must be a physdl.tensornet Expression, got {type(expression).__name__}")
    if expression._empty:
        raise ValueError("the expression has a zero-sized index: its value is zeros, there is nothing to run")
    return core._tn_handle(expression._program())


cdef inline physdl_tn_program* tn_handle_ptr(object capsule) except NULL:
    """The ``physdl_tn_program*`` inside a capsule from :func:`tn_handle`."""
    return <physdl_tn_program*> PyCapsule_GetPointer(capsule, b"physdl._core.tn_program")
