"""Detecting phase transitions with neural networks (book chapter 8, eq. 8.7-8.11, Table 8.1).

* :func:`ising_dataset` samples Ising configurations over a temperature grid with the lattice engine
  (Wolff cluster updates, which decorrelate fast near T_c on both the square and the triangular
  lattice) and caches them as HDF5 with their parameters, seed and the physdl version.
* :class:`PhaseClassifier` is the "phase discriminator" of Fig. 8.1: trained on the square lattice
  (eq. 8.7) with labels d = 0 for T < T_c and d = 1 for T > T_c, then applied to the triangular
  lattice (eq. 8.8); :func:`crossing_temperature` locates the 0.5 crossing with a bootstrap error
  (and, given the outputs of networks trained with several seeds, their mean with the seed spread
  in the error).  It is trained on every configuration and its flip s -> -s (the Z2 symmetry of
  the Ising energy), so that both signs of the magnetisation are learned.
* :class:`Thermometer` is the N-class temperature classifier of Fig. 8.2 / Table 8.1, with the
  heat map of its last-layer weights. :func:`thermometer_specific_heat` reads the specific heat
  the network has learned off its outputs (the divergence of neighbouring classes, which is the
  heat map's column differences contracted with layer A's response), and :func:`estimate_beta_c`
  takes beta_c at its peak, with a bootstrap error (:func:`bootstrap_beta_c`).
* :class:`ThreeUnitNetwork` is eq. 8.9-8.11: softmax(theta softmax(phi s)) with three hidden units,
  whose hidden units track the magnetisation (Fig. 8.3).
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_array, check_choice, check_float, check_int, check_seed
from ..lattice import exact as _exact
# The Ising data sets are lattice physics: they live in physdl.lattice.datasets (re-exported here).
from ..lattice.datasets import DATASET_GEOMETRIES as GEOMETRIES  # noqa: F401
from ..lattice.datasets import DATASET_KIND, IsingDataset, ising_dataset  # noqa: F401
from ..random import streams as _streams
from ..stats import Estimate
from ._results import PhaseScan

__all__ = [
    "TC_SQUARE",
    "TC_TRIANGULAR",
    "BETA_C_SQUARE",
    "BOOK_TABLE_8_1",
    "IsingDataset",
    "ising_dataset",
    "PhaseClassifier",
    "crossing_temperature",
    "combine_seeds",
    "Thermometer",
    "estimate_beta_c",
    "bootstrap_beta_c",
    "thermometer_specific_heat",
    "heatmap_step_midpoint",
    "ThreeUnitNetwork",
    "PhaseScan",
]

# The critical points are defined once, in physdl.lattice.exact; these are the same numbers.
TC_SQUARE = _exact.SQUARE_TC  # Onsager, 2.269185...
TC_TRIANGULAR = _exact.TRIANGULAR_TC  # 3.640956...
BETA_C_SQUARE = _exact.SQUARE_BETA_C  # 0.440686...
#: Table 8.1 of the book: beta_c detected by the thermometer, {L: (CNN, FC)}.
BOOK_TABLE_8_1 = {8: (0.478915, 0.462494), 16: (0.448562, 0.433915), 32: (0.451887, 0.415596)}

NETWORKS = ("fc", "cnn")


def _check_dataset(ds, name: str = "dataset") -> IsingDataset:
    if not isinstance(ds, IsingDataset):
        raise TypeError(f"{name} must be an IsingDataset (see physdl.phases.ising_dataset), got {type(ds).__name__}")
    if len(ds) == 0:
        raise ValueError(f"{name} is empty")
    return ds


# ----------------------------------------------------------------------------- networks
def _check_network_args(L, kind) -> tuple[int, str]:
    """Validated (L, kind) of a classifier or thermometer."""
    L = check_int(L, "L", minimum=4)
    kind = check_choice(kind, "kind", NETWORKS)
    if kind == "cnn" and L % 2:
        raise ValueError(f"L must be even for kind='cnn' (2x2 pooling), got {L}")
    return L, kind


def _network(kind: str, L: int, n_out: int, hidden: int, channels: int, seed: int, backend, softmax_hidden=False):
    from .. import nn

    if kind == "fc":
        layers = [nn.Dense(L * L, hidden), nn.Softmax() if softmax_hidden else nn.ReLU(), nn.Dense(hidden, n_out)]
        return nn.Sequential(layers, seed=seed, dtype="float32", backend=backend)
    # convolutional: periodic padding respects the torus (book Fig. 4.x, eq. 4.2-4.8)
    layers = [
        nn.Conv2d(1, channels, 3, stride=1, padding=1, padding_mode="circular"),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dense(channels * (L // 2) * (L // 2), hidden),
        nn.ReLU(),
        nn.Dense(hidden, n_out),
    ]
    return nn.Sequential(layers, input_shape=(1, L, L), seed=seed, dtype="float32", backend=backend)


def _inputs(kind: str, configs: np.ndarray) -> np.ndarray:
    x = configs.astype(np.float32)
    return x.reshape(len(x), -1) if kind == "fc" else x.reshape(len(x), 1, *configs.shape[1:])


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class _Trained:
    """Shared fit / predict plumbing for the chapter-8 networks."""

    kind: str
    L: int

    def _fit(self, X, labels, epochs, batch_size, lr, progress, checkpoint=None):
        """Adam on softmax cross entropy; ``checkpoint`` (a path) is :meth:`physdl.nn.Sequential.fit`'s:
        the state is saved atomically after every epoch and a later ``fit`` with the same network,
        data and settings resumes from it bit for bit."""
        from .. import nn

        epochs = check_int(epochs, "epochs", minimum=1)
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        lr = check_float(lr, "lr", positive=True)
        return self.model.fit(X, labels, loss="softmax_cross_entropy", optimizer=nn.Adam(lr=lr), epochs=epochs,
                              batch_size=batch_size, progress=progress, checkpoint=checkpoint)

    def _check_configs(self, configs) -> np.ndarray:
        c = check_array(configs, "configs", ndim=3, nonempty=True)
        if c.shape[1:] != (self.L, self.L):
            raise ValueError(f"configs must have shape (n, {self.L}, {self.L}) for this network, got {c.shape}")
        return c

    def predict_proba(self, configs) -> np.ndarray:
        """Class probabilities (softmax of the network output) for int8/float configurations (n, L, L)."""
        c = self._check_configs(configs)
        return _softmax(self.model.predict(_inputs(self.kind, c)).astype(np.float64))


class PhaseClassifier(_Trained):
    """The phase discriminator of Fig. 8.1: label 0 for T < T_c, 1 for T > T_c.

    Parameters
    ----------
    L : int
        Linear size of the configurations (>= 4; even for ``kind="cnn"``).
    kind : {"fc", "cnn"}
        One hidden ReLU layer, or a periodic 3x3 convolution + pooling + dense.
    hidden, channels : int
    seed : int
    backend : {None, "cpp", "numba"}
    """

    def __init__(self, L: int, kind: str = "fc", hidden: int = 64, channels: int = 8, seed: int = 0,
                 backend: str | None = None):
        self.L, self.kind = _check_network_args(L, kind)
        self.model = _network(self.kind, self.L, 2, check_int(hidden, "hidden", minimum=1),
                              check_int(channels, "channels", minimum=1), check_seed(seed), backend)
        self.Tc = None

    def fit(self, dataset: IsingDataset, Tc: float = TC_SQUARE, epochs: int = 10, batch_size: int = 64,
            lr: float = 1e-3, progress: bool = False, symmetrize: bool = True, checkpoint=None):
        """Train with d = 0 for T < Tc and d = 1 for T > Tc (configurations at T == Tc are dropped).

        ``checkpoint`` (a path): saved after every epoch; a later ``fit`` of a classifier built with
        the same arguments, on the same data, resumes from it bit for bit.

        ``symmetrize`` (default True) trains on every configuration and its global flip s -> -s, with
        the same label: the Ising energy is even in s, so the phase is, and the network sees both signs
        of the magnetisation equally often.  Without it the ordered training data hold whichever sign
        the Markov chains happened to sit in at each temperature (a chain below T_c stays in one
        sector for long), and a network can end with every hidden ReLU inactive on the other sign:
        found for the default CNN at L = 32, seed 1 of ``physdl phases``, where all 64 hidden units
        were off on every ordered configuration with m < 0, so that each of them got the same
        P(disordered) = 0.107 (the softmax of the last bias); the same was seen at seed 0
        of another run, 0.351 on every ordered configuration with m > 0.  Trained with the flips, the outputs on ordered configurations of
        both signs vary with the configuration and stay near 0.
        """
        ds = _check_dataset(dataset)
        if ds.L != self.L:
            raise ValueError(f"dataset has L = {ds.L} but the classifier was built for L = {self.L}")
        if not isinstance(symmetrize, (bool, np.bool_)):
            raise TypeError(f"symmetrize must be True or False, got {symmetrize!r}")
        self.Tc = check_float(Tc, "Tc", positive=True)
        keep = ds.T != self.Tc
        labels = (ds.T[keep] > self.Tc).astype(np.int64)
        if labels.min() == labels.max():
            raise ValueError(f"the dataset's temperatures must straddle Tc = {self.Tc}")
        X = _inputs(self.kind, ds.configs[keep])
        if symmetrize:
            X, labels = np.concatenate([X, -X]), np.concatenate([labels, labels])
        return self._fit(X, labels, epochs, batch_size, lr, progress, checkpoint)

    def disorder_probability(self, configs) -> np.ndarray:
        """P(T > T_c | configuration): the output plotted in Fig. 8.1."""
        return self.predict_proba(configs)[:, 1]

    def scan(self, dataset: IsingDataset) -> dict:
        """Mean output at each temperature of ``dataset``, with its standard error.

        Returns
        -------
        :class:`~physdl.phases.PhaseScan`, a dict (with ``to_dict``, ``save``/``load``,
        ``plot``) with ``T`` (the temperatures), ``output`` (an array :class:`~physdl.stats.Estimate`:
        the mean output and its standard error per temperature) and ``per_config`` (every output).
        """
        ds = _check_dataset(dataset)
        p = self.disorder_probability(ds.configs)
        temps = ds.temperatures
        mean = np.array([p[ds.T == t].mean() for t in temps])
        # standard error of each mean: sample standard deviation over sqrt(n) (NaN for a single configuration)
        with np.errstate(invalid="ignore", divide="ignore"):
            sem = np.array([p[ds.T == t].std(ddof=1) / math.sqrt((ds.T == t).sum()) if (ds.T == t).sum() > 1
                            else float("nan") for t in temps])
        return PhaseScan(temps, Estimate(mean, sem, n=int(p.size)), p,
                         {"L": int(self.L), "network": self.kind, "Tc": None if self.Tc is None else float(self.Tc)})


def _first_crossing(x: np.ndarray, y: np.ndarray, level: float) -> float:
    above = y >= level
    idx = np.flatnonzero(above[1:] != above[:-1])
    if idx.size == 0:
        return float("nan")
    # the crossing nearest the middle of the sign changes (robust against noise in the tails)
    k = idx[np.argmin(np.abs(idx - np.median(idx)))]
    x0, x1, y0, y1 = x[k], x[k + 1], y[k], y[k + 1]
    return float(x0 + (level - y0) * (x1 - x0) / (y1 - y0))


def combine_seeds(estimates) -> Estimate:
    """One estimate from the same measurement on networks trained with different seeds.

    A number read off a trained network depends on its training (initial weights, minibatch order)
    as well as on the test sample.  Given one :class:`~physdl.stats.Estimate` per training seed (its
    error being the sample error, e.g. a bootstrap over test configurations), the value is the mean
    over seeds and the error is the root of the mean squared sample error plus the sample variance
    of the seeds' values (ddof = 1): the spread of one network trained this way, not the error of
    the mean (it is not divided by sqrt(n_seeds)).  With one seed it is that seed's estimate.  NaN
    propagates: a seed whose measurement failed makes the result NaN rather than being dropped.

    Parameters
    ----------
    estimates : sequence of Estimate (or (value, error) pairs), one per training seed

    Returns
    -------
    Estimate
        ``n`` is the sum of the inputs' ``n`` (0 where unknown).
    """
    rows = list(estimates)
    if not rows:
        raise ValueError("estimates must hold at least one (value, error) per training seed, got none")
    vals, errs, ns = [], [], 0
    for i, r in enumerate(rows):
        if isinstance(r, Estimate):
            v, e, n = r.value, r.error, r.n
        else:
            try:
                v, e = r
            except (TypeError, ValueError):
                raise TypeError(f"estimates[{i}] must be an Estimate or a (value, error) pair, got {r!r}") from None
            n = 0
        if np.ndim(v) != 0 or np.ndim(e) != 0:
            raise ValueError(f"estimates[{i}] must be a scalar estimate, got value of shape {np.shape(v)}")
        vals.append(float(v))
        errs.append(float(e))
        ns += int(n or 0)
    vals_a, errs_a = np.array(vals), np.array(errs)
    if np.any(errs_a < 0):
        raise ValueError(f"estimates hold a negative error: {errs_a.tolist()}")
    spread_var = float(vals_a.var(ddof=1)) if vals_a.size > 1 else 0.0
    return Estimate(float(vals_a.mean()), math.sqrt(float(np.mean(errs_a ** 2)) + spread_var), n=ns)


def crossing_temperature(T, output, level: float = 0.5, n_boot: int = 200, seed: int = 0) -> Estimate:
    """Temperature where the per-temperature mean output crosses ``level``, with a bootstrap error.

    Parameters
    ----------
    T : array (n,)
        Temperature of each configuration.
    output : array (n,) or (n_seeds, n)
        Network output for each configuration; one row per training seed for the outputs of several
        networks trained alike (a network's output depends on its training: initial weights and
        minibatch order).
    level : float
    n_boot : int
        Bootstrap resamples (configurations resampled within each temperature).
    seed : int

    Returns
    -------
    Estimate
        One row: ``value`` the crossing of the mean curve (linear interpolation), ``error`` the
        standard deviation of the crossing over bootstrap resamples (unpacks as ``(T_cross, error)``).
        Several rows (seeds): ``value`` the mean of the rows' crossings, ``error`` the root of the sum
        of (i) the mean over rows of their bootstrap variances and (ii) the sample variance of the
        rows' crossings (ddof = 1), i.e. the bootstrap error and the spread over training seeds in
        quadrature.  The spread is not divided by sqrt(n_seeds): the error says how far the crossing
        of one network trained this way may lie, not only how well the mean is known.  NaN when a
        row has no crossing.
    """
    from ..random import Generator

    T = check_array(T, "T", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    if np.ndim(output) == 2:
        out = check_array(output, "output", dtype=np.float64, finite=True)
        if out.shape[1] != T.size or out.shape[0] < 1:
            raise ValueError(f"output must have shape ({T.size},) or (n_seeds, {T.size}), got {out.shape}")
        rows = [crossing_temperature(T, r, level, n_boot, seed) for r in out]
        est = combine_seeds(rows)
        return Estimate(est.value, est.error, n=int(T.size))  # the same test sample under every seed
    out = check_array(output, "output", dtype=np.float64, shape=(T.size,), finite=True)
    n_boot = check_int(n_boot, "n_boot", minimum=2)
    temps = np.unique(T)
    if temps.size < 2:
        raise ValueError("T must hold at least two distinct temperatures")
    groups = [out[T == t] for t in temps]
    est = _first_crossing(temps, np.array([g.mean() for g in groups]), level)
    gen = Generator(check_seed(seed), stream=_streams.stream("phases.training"))
    boots = np.empty(n_boot)
    for b in range(n_boot):
        means = np.array([g[gen.integers(g.size, g.size)].mean() for g in groups])
        boots[b] = _first_crossing(temps, means, level)
    return Estimate(est, float(np.nanstd(boots, ddof=1)), n=int(T.size))


# ----------------------------------------------------------------------------- thermometer
def _step_midpoint(x: np.ndarray, y: np.ndarray) -> float:
    """Where y, scaled between its plateaus (medians of the first and last quarter), crosses 1/2."""
    q = max(2, x.size // 4)
    lo, hi = np.median(y[:q]), np.median(y[-q:])
    if hi == lo:
        return float("nan")
    return _first_crossing(x, (y - lo) / (hi - lo), 0.5)


def heatmap_step_midpoint(weights, betas) -> float:
    """Half-height crossing of the leading principal component of the heat map (a reading that follows the grid).

    The columns of ``weights`` (hidden units x classes) are the classes' weight vectors. After
    removing their mean over classes, the leading principal component (SVD) is scaled between its
    plateaus (medians over the first and the last quarter of the classes) and its 1/2 crossing is
    returned. It finds a sharp step in the heat map wherever it is; but the weights of a trained
    thermometer drift smoothly with beta, and the leading component of a smooth drift crosses 1/2
    near the middle of the beta range, so on real networks this lands near the centre of the class
    grid (``physdl phases`` prints both). It is kept as the contrast to :func:`estimate_beta_c`,
    which is the measurement.

    Parameters
    ----------
    weights : array (hidden, classes)
    betas : array (classes,)

    Returns
    -------
    float (NaN when no step is found inside the beta range)
    """
    W = check_array(weights, "weights", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    b = check_array(betas, "betas", dtype=np.float64, shape=(W.shape[1],), finite=True)
    if W.shape[1] < 4:
        raise ValueError(f"need at least 4 classes to locate a step, got {W.shape[1]}")
    order = np.argsort(b)
    X = W[:, order].T  # classes x hidden
    X = X - X.mean(axis=0)
    u, s, _ = np.linalg.svd(X, full_matrices=False)
    return _step_midpoint(b[order], u[:, 0] * s[0])


def _check_logits(logits, labels, betas):
    z = check_array(logits, "logits", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    b = check_array(betas, "betas", dtype=np.float64, shape=(z.shape[1],), finite=True)
    if b.size < 4:
        raise ValueError(f"need at least 4 classes, got {b.size}")
    if np.unique(b).size != b.size:
        raise ValueError("betas must be distinct")
    lab = check_array(labels, "labels", shape=(z.shape[0],))
    if not np.issubdtype(lab.dtype, np.integer):
        raise TypeError(f"labels must be integer class indices, got dtype {lab.dtype}")
    if lab.min() < 0 or lab.max() >= b.size:
        raise ValueError(f"labels must lie in [0, {b.size - 1}], got [{lab.min()}, {lab.max()}]")
    counts = np.bincount(lab, minlength=b.size)
    if counts.min() < 2:
        raise ValueError(f"every class needs at least 2 configurations, class {int(counts.argmin())} has "
                         f"{int(counts.min())}")
    return z, lab.astype(np.int64), b


def thermometer_specific_heat(logits, labels, betas, n_sites: int = 1) -> dict:
    """Specific heat read off a thermometer: the distinguishability of neighbouring classes (eq. 8.7).

    A thermometer trained with softmax cross entropy on classes with equal numbers of
    configurations approximates the posterior, so the difference of two of its outputs (logits)
    estimates a log-likelihood ratio: z_k(s) - z_{k+1}(s) ~ ln p(s | beta_k) / p(s | beta_{k+1}).
    Averaged over held-out configurations of class k and of class k+1, the difference of the two
    averages is the network's estimate of the symmetric Kullback-Leibler (Jeffreys) divergence

        J_k = <z_k - z_{k+1}>_k - <z_k - z_{k+1}>_{k+1},

    in which the biases cancel. For the Boltzmann weight exp(-beta H) (eq. 8.7) the exact
    divergence is (beta_{k+1} - beta_k) (<H>_k - <H>_{k+1}) ~ (Delta beta)^2 Var(H), the Fisher
    information for beta times Delta beta^2, so

        c(beta_{k+1/2}) = beta_{k+1/2}^2 J_k / (Delta beta_k^2 n_sites)

    estimates the specific heat per spin beta^2 Var(H) / N at the midpoint. A network whose outputs
    are the exact log posterior (it needs only the energy H, a sufficient statistic for beta) gives
    the exact value. Real networks are only approximately calibrated: one that learned less than H
    gives a lower curve, an over-confident one a higher curve, so the height of the curve is not a
    measurement of the specific heat (measured: the convolutional thermometers of ``physdl phases``
    come within about 20% of the exact curve near the peak, sometimes above it; the dense ones
    reach about 60%); :func:`estimate_beta_c` uses only where it peaks.

    In terms of the heat map W (hidden x classes) of Fig. 8.2 and the mean activation a_j of layer
    A over class j, z_k - z_{k+1} = (W_k - W_{k+1}) . a + a bias difference, so
    J_k = (W_k - W_{k+1}) . (a_k - a_{k+1}): the change of neighbouring heat-map columns, weighted
    by the change of what layer A sees. The weights alone do not carry the transition (for an
    ideal thermometer they are linear in beta); their product with layer A's response does.

    Parameters
    ----------
    logits : array (n, classes)
        Network outputs before the softmax, for configurations not used in training.
    labels : int array (n,)
        Class index (column of ``logits``) each configuration was sampled at.
    betas : array (classes,)
        Inverse temperature of each class (any order, distinct).
    n_sites : int
        Spins per configuration (L*L), to express the result per spin.

    Returns
    -------
    dict with ``beta`` (midpoints of neighbouring classes, increasing) and ``c``: an array
    :class:`~physdl.stats.Estimate` of the specific heat per spin, with its standard error from the
    spread of the logit differences within each class
    """
    z, lab, b = _check_logits(logits, labels, betas)
    n_sites = check_int(n_sites, "n_sites", minimum=1)
    order = np.argsort(b)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    z, lab, b = z[:, order], rank[lab], b[order]
    D = z[:, :-1] - z[:, 1:]  # (n, classes - 1): log-likelihood ratio of each neighbouring pair
    N = b.size
    counts = np.bincount(lab, minlength=N).astype(np.float64)
    s1 = np.zeros((N, N - 1))
    s2 = np.zeros((N, N - 1))
    np.add.at(s1, lab, D)
    np.add.at(s2, lab, D * D)
    mean = s1 / counts[:, None]
    var = np.maximum(s2 / counts[:, None] - mean ** 2, 0.0) * (counts / (counts - 1))[:, None]
    k = np.arange(N - 1)
    J = mean[k, k] - mean[k + 1, k]
    J_var = var[k, k] / counts[k] + var[k + 1, k] / counts[k + 1]
    mid = 0.5 * (b[1:] + b[:-1])
    scale = mid ** 2 / (np.diff(b) ** 2 * n_sites)
    return {"beta": mid, "c": Estimate(scale * J, scale * np.sqrt(J_var), n=int(lab.size))}


def _peak_vertex(x: np.ndarray, y: np.ndarray, half_width: int = 2) -> float:
    """Vertex of a parabola fitted to y around its peak (NaN when the peak is at either end).

    The peak is the maximum of the 3-point running mean (so that one noisy point cannot capture
    it); the parabola is a least-squares fit to that point and ``half_width`` points on each side.
    """
    n = y.size
    if n < 3:
        return float("nan")
    smooth = np.convolve(y, np.ones(3) / 3, mode="same")
    smooth[0], smooth[-1] = y[0], y[-1]
    k = int(np.argmax(smooth))
    if k == 0 or k == n - 1:
        return float("nan")
    lo, hi = max(0, k - half_width), min(n - 1, k + half_width)
    a2, a1, _ = np.polyfit(x[lo:hi + 1] - x[k], y[lo:hi + 1], 2)
    if not a2 < 0:  # flat or not a maximum: the peak point itself
        return float(x[k])
    return float(np.clip(x[k] - a1 / (2 * a2), x[lo], x[hi]))


def estimate_beta_c(logits, labels, betas) -> float:
    """beta_c from a trained thermometer: the peak of the specific heat it has learned (Table 8.1).

    Rule: :func:`thermometer_specific_heat` turns the network's outputs on held-out configurations
    into c(beta) at the midpoints of neighbouring classes (the symmetric divergence of
    neighbouring classes under the network's own log-likelihood ratio, divided by Delta beta^2).
    beta_c is the maximum of that curve: the maximum of its 3-point running mean picks the peak
    (so that one noisy point cannot capture it), a parabola is fitted by least squares to that
    point and two neighbours on each side, and its vertex (kept inside those five points) locates
    the peak between classes. NaN when the maximum is at either end of the grid. On the exact
    finite-size curve (Kaufman) sampled on 24 classes of spacing 0.017 this recovers the peak to
    within 0.0025, about a sixth of the class spacing.

    What this measures: the inverse temperature where neighbouring classes are easiest to tell
    apart, which for a network that has learned the energy (a sufficient statistic for beta; Aoki,
    Fujita and Kobayashi, J. Phys. Soc. Jpn. 88, 054002 (2019)) is the finite-size specific-heat
    peak of the L x L torus: 0.4234, 0.4315 and 0.4359 for L = 8, 16 and 32 (exact, Kaufman), which
    approaches beta_c = 0.440686 as L grows. It is a property of the network's outputs, so it is
    only as good as what the network learned: the convolutional thermometer learns close to the
    full energy; a one-hidden-layer dense network learns less (its curve is lower) but peaks in the
    same place. Unlike reading the weights alone (:func:`heatmap_step_midpoint`), it does not move
    with the class grid, as long as the grid contains the peak.

    Honest reading: the quantity the rule uses is, in effect, the energy the network learned. The
    log-likelihood ratio of neighbouring classes is Delta beta times the network's energy estimate,
    so the rule locates the steepest change of the learned mean energy with beta, that is the
    specific-heat peak; it would give the same answer computed from H itself, and what it shows is
    that the network learned H well enough to find it. It is not the procedure of Tanaka and Tomiya
    (arXiv:1609.09087), who read beta_c off the weights alone; on the networks trained here the
    weights drift smoothly with beta and such readings follow the class grid. Being a finite-size
    peak, it lies below beta_c by an amount that shrinks with L (-3.9%, -2.1%, -1.1% at L = 8, 16,
    32).

    Measured (``physdl phases`` full settings, L = 32, 3000 configurations per class, class grids
    beta in [0.20, 0.60] and [0.30, 0.70], four training seeds each): CNN 0.4357-0.4395 and
    0.4360-0.4410, dense 0.4381-0.4463 and 0.4338-0.4345, all within 1.6% of 0.440686, while the
    heat-map midpoint of the same networks moves with the grid. The bootstrap error of
    :func:`bootstrap_beta_c` covers the held-out sample only; the spread over training seeds
    (up to 0.004 for the dense network) is not in it.

    Parameters
    ----------
    logits : array (n, classes)
        Network outputs before the softmax, on configurations not used for training.
    labels : int array (n,)
        Class index of each configuration.
    betas : array (classes,)
        Inverse temperature of each class.

    Returns
    -------
    float (NaN when the peak is not inside the grid)
    """
    cv = thermometer_specific_heat(logits, labels, betas)
    return _peak_vertex(cv["beta"], cv["c"].value)


def bootstrap_beta_c(logits, labels, betas, n_boot: int = 100, seed: int = 0) -> Estimate:
    """:func:`estimate_beta_c` with its bootstrap error.

    Parameters
    ----------
    logits, labels, betas : as for :func:`estimate_beta_c`
    n_boot : int
        Resamples of the configurations within each class (Philox stream 13 of ``seed``).
    seed : int

    Returns
    -------
    Estimate
        the estimate and the standard deviation of the estimates over the resamples (unpacks as
        ``(beta_c, error)``)
    """
    from ..random import Generator

    z, lab, b = _check_logits(logits, labels, betas)
    n_boot = check_int(n_boot, "n_boot", minimum=2)
    est = estimate_beta_c(z, lab, b)
    gen = Generator(check_seed(seed), stream=_streams.stream("phases.thermometer"))
    by_class = np.argsort(lab, kind="stable")
    counts = np.bincount(lab, minlength=b.size)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])[lab[by_class]]
    size = counts[lab[by_class]]
    boots = np.empty(n_boot)
    for i in range(n_boot):  # resample within each class
        idx = by_class[start + np.floor(gen.uniform(lab.size) * size).astype(np.int64)]
        boots[i] = estimate_beta_c(z[idx], lab[idx], b)
    err = float(np.nanstd(boots, ddof=1)) if np.isfinite(boots).sum() > 1 else float("nan")
    return Estimate(est, err, n=int(lab.size))


class Thermometer(_Trained):
    """The temperature classifier of sec. 8.2 (Fig. 8.2, Table 8.1): one class per temperature.

    Parameters
    ----------
    L : int
    kind : {"fc", "cnn"}
    hidden : int
        Units of the penultimate layer A (rows of the heat map).
    channels, seed, backend : as for :class:`PhaseClassifier`
    """

    def __init__(self, L: int, kind: str = "fc", hidden: int = 32, channels: int = 8, seed: int = 0,
                 backend: str | None = None):
        self.L, self.kind = _check_network_args(L, kind)
        self.hidden = check_int(hidden, "hidden", minimum=2)
        self.channels = check_int(channels, "channels", minimum=1)
        self.seed = check_seed(seed)
        self.backend = backend
        self.model = None
        self.temperatures = None

    _softmax_hidden = False  # ReLU hidden layer; the three-unit network of eq. 8.9 uses softmax

    def fit(self, dataset: IsingDataset, epochs: int = 10, batch_size: int = 64, lr: float = 1e-3,
            progress: bool = False, checkpoint=None):
        """Train with softmax cross entropy, class k = k-th temperature of the dataset's grid.

        ``checkpoint`` (a path): saved after every epoch; a later ``fit`` of a thermometer built with
        the same arguments, on the same data, resumes from it bit for bit."""
        ds = _check_dataset(dataset)
        if ds.L != self.L:
            raise ValueError(f"dataset has L = {ds.L} but the thermometer was built for L = {self.L}")
        self.temperatures = ds.temperatures
        if self.temperatures.size < 4:
            raise ValueError("the dataset needs at least 4 temperatures for a thermometer")
        self.model = _network(self.kind, self.L, self.temperatures.size, self.hidden, self.channels, self.seed,
                              self.backend, softmax_hidden=self._softmax_hidden)
        labels = np.searchsorted(self.temperatures, ds.T).astype(np.int64)
        return self._fit(_inputs(self.kind, ds.configs), labels, epochs, batch_size, lr, progress, checkpoint)

    def _need_fit(self):
        if self.model is None:
            raise RuntimeError("call fit() first")

    @property
    def weights(self) -> np.ndarray:
        """Last-layer weights J (hidden x classes): the heat map of Fig. 8.2."""
        self._need_fit()
        params = self.model.parameters()
        last_w = [k for k in params if k.endswith("weight")][-1]
        return np.asarray(params[last_w], dtype=np.float64).T  # Dense weight is (out, in)

    @property
    def betas(self) -> np.ndarray:
        self._need_fit()
        return 1.0 / self.temperatures

    def logits(self, configs) -> np.ndarray:
        """Network outputs before the softmax, (n, classes), column k = k-th temperature."""
        self._need_fit()
        c = self._check_configs(configs)
        return self.model.predict(_inputs(self.kind, c)).astype(np.float64)

    def _labelled(self, dataset):
        self._need_fit()
        ds = _check_dataset(dataset)
        if ds.L != self.L:
            raise ValueError(f"dataset has L = {ds.L} but the thermometer was built for L = {self.L}")
        lab = np.searchsorted(self.temperatures, ds.T)
        ok = (lab < self.temperatures.size) & (self.temperatures[np.minimum(lab, self.temperatures.size - 1)] == ds.T)
        if not ok.all():
            raise ValueError("the dataset holds temperatures the thermometer was not trained on")
        return self.logits(ds.configs), lab.astype(np.int64)

    def specific_heat(self, dataset: IsingDataset) -> dict:
        """Specific heat per spin learned by the network, from held-out ``dataset`` (:func:`thermometer_specific_heat`)."""
        z, lab = self._labelled(dataset)
        return thermometer_specific_heat(z, lab, self.betas, n_sites=self.L * self.L)

    def beta_c(self, dataset: IsingDataset, n_boot: int = 100, seed: int = 0) -> Estimate:
        """beta_c by :func:`estimate_beta_c` on held-out ``dataset``, with a bootstrap error (:func:`bootstrap_beta_c`)."""
        z, lab = self._labelled(dataset)
        return bootstrap_beta_c(z, lab, self.betas, n_boot=n_boot, seed=seed)

    def heatmap_midpoint(self) -> float:
        """:func:`heatmap_step_midpoint` of the weights (follows the class grid; shown for contrast)."""
        return heatmap_step_midpoint(self.weights, self.betas)

    def accuracy(self, dataset: IsingDataset, tolerance: int = 0) -> float:
        """Fraction of configurations classified within ``tolerance`` classes of their temperature."""
        self._need_fit()
        ds = _check_dataset(dataset)
        pred = self.predict_proba(ds.configs).argmax(axis=1)
        true = np.searchsorted(self.temperatures, ds.T)
        return float(np.mean(np.abs(pred - true) <= tolerance))


class ThreeUnitNetwork(Thermometer):
    """Eq. 8.9-8.11: f(s) = softmax(theta z), z = softmax(phi s), with three hidden units.

    After training as a thermometer, ``hidden_units(configs)`` gives u = phi* s (eq. 8.11) and the
    softmax outputs z; :meth:`magnetization_correlation` correlates them with the magnetisation
    (Fig. 8.3). A unit u_i is linear in s, so it follows the signed magnetisation m: with data of
    both signs of m (Wolff chains visit both), corr(u_i, |m|) vanishes by the Z2 symmetry, and the
    order parameter shows up as corr(u_i, m) (Fig. 8.3 plots u against M). The softmax outputs
    z_i = softmax(u)_i are even in m and are correlated with |m|.
    """

    def __init__(self, L: int, seed: int = 0, backend: str | None = None):
        super().__init__(L, kind="fc", hidden=3, seed=seed, backend=backend)

    _softmax_hidden = True

    def fit(self, dataset: IsingDataset, epochs: int = 40, batch_size: int = 64, lr: float = 1e-2,
            progress: bool = False, checkpoint=None):
        """Train as a thermometer (softmax cross entropy over the dataset's temperature classes);
        ``checkpoint`` as for :meth:`Thermometer.fit`."""
        return super().fit(dataset, epochs=epochs, batch_size=batch_size, lr=lr, progress=progress,
                           checkpoint=checkpoint)

    def hidden_units(self, configs) -> tuple[np.ndarray, np.ndarray]:
        """(u, z): u = phi* s + bias (eq. 8.11) and z = softmax(u), each (n, 3)."""
        self._need_fit()
        c = self._check_configs(configs)
        params = self.model.parameters()
        keys = list(params)
        W = np.asarray(params[keys[0]], dtype=np.float64)
        bias = np.asarray(params[keys[1]], dtype=np.float64)
        x = c.reshape(len(c), -1).astype(np.float64)
        u = x @ W.T + bias  # Dense weight is (out, in)
        return u, _softmax(u)

    def magnetization_correlation(self, dataset: IsingDataset) -> dict:
        """Pearson correlations of each u_i with m and of each z_i with |m| (Fig. 8.3, right)."""
        ds = _check_dataset(dataset)
        u, z = self.hidden_units(ds.configs)
        m = ds.magnetization
        corr = lambda a, b: float(np.corrcoef(a, b)[0, 1])  # noqa: E731
        return {"u_vs_m": [corr(u[:, i], m) for i in range(3)],
                "z_vs_abs_m": [corr(z[:, i], np.abs(m)) for i in range(3)]}
