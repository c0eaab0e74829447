"""The book's chapter 3-4 demonstrations as functions (used by the tour, the examples and the tests).

* :func:`nbit_relu` - the N-bit Hamiltonian ReLU approaching max(z, 0) (eq. 3.33-3.41, Fig. 3.4);
* :func:`deep_vs_wide` - the polynomial-degree toy with activation z^3 (eq. 3.85-3.91);
* :func:`universal_approximation` - a one-hidden-layer sigmoid network fitting a 1D function;
* :func:`lstm_sorting` - the LSTM sorting task of the chapter 4 column (about 800 sequences of
  length up to 4).
"""

from __future__ import annotations

import numpy as np

from .._validate import check_int, check_seed
from . import layers as L
from .datasets import sorting_task
from .model import Sequential
from .optim import Adam

__all__ = ["nbit_relu", "deep_vs_wide", "universal_approximation", "lstm_sorting", "checkerboard"]


def nbit_relu(z, nbits: int, backend: str | None = None) -> np.ndarray:
    """``<h> = sum_{u=1}^{N} sigmoid(z + 0.5 - u)`` (eq. 3.40) evaluated by the HamiltonianReLU layer.

    Parameters
    ----------
    z : array of float
    nbits : int
    backend : {None, "cpp", "numba"}

    Returns
    -------
    ndarray like ``z``

    Examples
    --------
    >>> round(float(nbit_relu(np.array([5.0]), 100)[0]), 3)  # ~ log(1 + e^5) ~ max(5, 0)
    5.006
    """
    z = np.asarray(z, dtype=np.float64)
    model = Sequential([L.HamiltonianReLU(nbits)], input_shape=(1,), dtype="float64", backend=backend)
    return model.predict(z.reshape(-1, 1)).reshape(z.shape)


def deep_vs_wide(n_points: int = 201, epochs: int = 3000, seeds=range(6), backend: str | None = None) -> dict:
    """Fit a degree-9 target with z^3 activations: one hidden layer of 2 units vs two layers of 1 unit.

    The target is eq. 3.91 itself, ``j_L (j (j_0 x + b_0)^3 + b_1)^3 + b_L`` on [-1, 1].  A network with
    one hidden layer (eq. 3.89, 7 parameters) is a cubic polynomial, so its error can never beat the
    least-squares cubic (computed exactly by ``numpy.polyfit``); the deep network (eq. 3.90,
    6 parameters) can represent the target exactly.

    Returns
    -------
    dict with ``best_cubic_mse``, ``wide_mse``, ``deep_mse`` (best over ``seeds``), ``target_var``,
    ``x``, ``target``, ``wide``, ``deep`` (predictions)
    """
    n_points = check_int(n_points, "n_points", minimum=10)
    epochs = check_int(epochs, "epochs", minimum=1)
    x = np.linspace(-1, 1, n_points).reshape(-1, 1)
    j0, b0, j, b1, jL, bL = 1.2, 0.3, 1.5, -0.4, 0.8, 0.1
    f = jL * (j * (j0 * x + b0) ** 3 + b1) ** 3 + bL
    c = np.polyfit(x[:, 0], f[:, 0], 3)
    best_cubic = float(np.mean((np.polyval(c, x[:, 0]) - f[:, 0]) ** 2))
    out = {"x": x[:, 0], "target": f[:, 0], "best_cubic_mse": best_cubic, "target_var": float(f.var())}
    archs = {
        "wide": lambda: [L.Dense(1, 2), L.Cube(), L.Dense(2, 1)],
        "deep": lambda: [L.Dense(1, 1), L.Cube(), L.Dense(1, 1), L.Cube(), L.Dense(1, 1)],
    }
    for name, make in archs.items():
        best = (np.inf, None)
        for seed in seeds:
            model = Sequential(make(), seed=check_seed(seed), dtype="float64", backend=backend)
            model.fit(x, f, loss="mse", optimizer=Adam(lr=1e-2), epochs=epochs, batch_size=n_points, shuffle=False)
            pred = model.predict(x)
            mse = float(np.mean((pred - f) ** 2))
            if np.isfinite(mse) and mse < best[0]:
                best = (mse, pred[:, 0])
        out[f"{name}_mse"], out[name] = best
    return out


def universal_approximation(units: int = 32, epochs: int = 1000, seed: int = 0, backend: str | None = None) -> dict:
    """Fit ``sin(2x) + 0.3 x^2`` on [-pi, pi] with one hidden layer of sigmoid units.

    Returns
    -------
    dict with ``x``, ``target``, ``fit`` and ``max_error``, ``rms_error`` on a finer test grid
    """
    units = check_int(units, "units", minimum=1)
    rng_x = np.linspace(-np.pi, np.pi, 512).reshape(-1, 1)

    def target(x):
        return np.sin(2 * x) + 0.3 * x ** 2

    model = Sequential([L.Dense(1, units), L.Sigmoid(), L.Dense(units, 1)], seed=seed, dtype="float64", backend=backend)
    opt = Adam(lr=1e-2)
    model.fit(rng_x, target(rng_x), loss="mse", optimizer=opt, epochs=epochs, batch_size=32)
    opt.lr = 1e-3
    model.fit(rng_x, target(rng_x), loss="mse", optimizer=opt, epochs=epochs // 2, batch_size=32)
    xt = np.linspace(-np.pi, np.pi, 2001).reshape(-1, 1)
    err = model.predict(xt) - target(xt)
    return {"x": xt[:, 0], "target": target(xt)[:, 0], "fit": model.predict(xt)[:, 0],
            "max_error": float(np.abs(err).max()), "rms_error": float(np.sqrt(np.mean(err ** 2)))}


def lstm_sorting(hidden: int = 64, epochs: int = 60, seed: int = 0, backend: str | None = None) -> dict:
    """Train an LSTM to sort (chapter 4 column): 800 sequences of length 1-4 of 3-bit numbers.

    Returns
    -------
    dict with ``exact`` (fraction of unseen length-4 test sequences sorted exactly right),
    ``per_position`` accuracy, ``examples`` (input, prediction) pairs
    """
    (Xtr, ytr), (Xte, yte) = sorting_task(n_train=800, n_test=500, max_len=4, bits=3)
    model = Sequential([L.LSTM(5, hidden, return_sequences=True), L.Dense(hidden, 8)], seed=seed, backend=backend)
    opt = Adam(lr=1e-2)
    model.fit(Xtr, ytr, loss="softmax_cross_entropy", optimizer=opt, epochs=epochs, batch_size=32)
    opt.lr = 1e-3
    model.fit(Xtr, ytr, loss="softmax_cross_entropy", optimizer=opt, epochs=max(1, epochs // 4), batch_size=32)
    pred = model.predict(Xte).argmax(axis=-1)[:, 4:]
    values = (Xte[:, :4, :3] @ np.array([1, 2, 4])).astype(int)
    return {"exact": float(np.mean((pred == yte[:, 4:]).all(axis=1))),
            "per_position": float(np.mean(pred == yte[:, 4:])),
            "examples": [(values[i].tolist(), pred[i].tolist()) for i in range(5)]}


def checkerboard(kernel_size: int = 3, stride: int = 2, size: int = 6, backend: str | None = None) -> np.ndarray:
    """Overlap pattern of a transposed convolution: the checkerboard artifact (book lines 1618-1648).

    A ConvTranspose2d (eq. 4.9) with all weights 1 maps a constant image to the number of kernel
    copies covering each output pixel; it is uneven (a checkerboard) unless ``kernel_size`` is a
    multiple of ``stride``.

    Returns
    -------
    ndarray (H_out, W_out) of overlap counts
    """
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    size = check_int(size, "size", minimum=1)
    model = Sequential([L.ConvTranspose2d(1, 1, kernel_size, stride=stride)], input_shape=(1, size, size),
                       dtype="float64", backend=backend)
    model.params[:] = 0.0
    model.parameters()["0.weight"][...] = 1.0
    return model.predict(np.ones((1, 1, size, size)))[0, 0]
