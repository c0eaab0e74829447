"""Spin-glass observables: replica overlaps, their moments and Binder ratio, and temperature ladders.

Two replicas a and b of the same disorder (the same couplings J_ij, independent Markov chains)
give the overlap ``q = (1/N) sum_i s_i^a s_i^b`` at every measurement; its distribution P(q) and
the moments <q^2>, <q^4> carry the spin-glass order (the uniform magnetisation does not: with
random-sign couplings it averages to zero in both phases).

* :func:`overlap_run` -- two :class:`~physdl.lattice.Simulation` replicas at one temperature;
* :func:`overlap_tempering` -- two independent :class:`~physdl.lattice.ParallelTempering` ladders
  on the same couplings, one result per temperature;
* :func:`overlaps` -- q of configuration arrays, :func:`overlap_analysis` -- the estimates of a
  q series; :func:`disorder_average` -- averages over disorder samples with jackknife errors;
* :func:`geometric_ladder`, :func:`tuned_ladder` -- temperature sets for parallel tempering.

Errors are binned jackknife errors (:func:`physdl.stats.jackknife`), as in
:func:`~physdl.lattice.analyse`.  For the disorder average, run several disorder seeds and average
the per-sample results with :func:`disorder_average`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import stats
from .._validate import available_memory, check_float, check_int
from .models import Model, SherringtonKirkpatrick
from .simulation import LatticeTooLarge, ParallelTempering, Simulation, _plain

_OVERLAP_KIND = "lattice/overlap-result"
_TEMPERING_KIND = "lattice/overlap-tempering"
_LADDER_KIND = "lattice/tuned-ladder"
_ESTIMATES = ("abs_q", "q2", "q4", "binder_g", "chi_sg", "tau_q2")
_LABELS = {"abs_q": "<|q|>", "q2": "<q^2>", "q4": "<q^4>", "binder_g": "Binder ratio g",
           "chi_sg": "spin-glass susceptibility chi_SG", "tau_q2": "tau_int of q^2"}

Estimate = stats.Estimate

_CHUNK_BYTES = 1 << 24  # configurations held per replica while measuring (16 MiB)


# ---------------------------------------------------------------------------------- overlaps
def overlaps(a, b, n_site_dims: int | None = None) -> np.ndarray:
    """Overlaps ``q = (1/N) sum_i a_i b_i`` of configurations of +-1, over their trailing site axes.

    Parameters
    ----------
    a, b : arrays of +-1 of one shape ``(..., *site_shape)``
    n_site_dims : int, optional
        How many trailing axes are sites (default: all but the first, or the only axis of a 1-d
        array).

    Returns
    -------
    ndarray of float64 with the leading shape: the overlaps, exact multiples of 2/N.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if n_site_dims is None:
        n_site_dims = max(a.ndim - 1, 1)
    n_site_dims = check_int(n_site_dims, "n_site_dims", minimum=1, maximum=max(a.ndim, 1))
    axes = tuple(range(a.ndim - n_site_dims, a.ndim))
    N = math.prod(a.shape[a.ndim - n_site_dims:])
    same = np.count_nonzero(a == b, axis=axes)  # +-1 spins: a_i b_i = +1 iff equal; no overflow
    return (2.0 * same - N) / N


def _tau(x: np.ndarray, every: int) -> Estimate:
    if x.size < 4 or np.ptp(x) == 0:  # undefined for a constant or very short series
        return Estimate(float("nan"), float("nan"), n=int(x.size))
    a = stats.integrated_autocorrelation_time(x)
    t, err = a.tau * every, a.error * every
    return Estimate(t, err, tau=t, tau_error=err, n=int(x.size))



def _num(x):
    """A float for JSON: non-finite numbers as the strings "nan", "inf", "-inf"."""
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def _unnum(x):
    return float(x)  # float("nan"), float("inf") read the strings back


def _est_plain(e: Estimate) -> dict:
    return {k: (_num(v) if k != "n" else v) for k, v in e.to_dict().items()}


def _est_back(d: dict) -> Estimate:
    return Estimate.from_dict({k: (_unnum(v) if k != "n" else int(v)) for k, v in d.items()})


def _block_errors(q: np.ndarray, edges: np.ndarray, n_blocks: int = 16) -> np.ndarray:
    """Standard errors of the P(q) bin fractions from ``n_blocks`` consecutive blocks of the series
    (the spread of the block histograms over sqrt(n_blocks)); NaN with fewer than 2 blocks."""
    nb = min(n_blocks, q.size)
    if nb < 2:
        return np.full(edges.size - 1, np.nan)
    m = q.size // nb
    h = np.stack([np.histogram(b, bins=edges)[0] / m for b in q[:nb * m].reshape(nb, m)])
    return h.std(axis=0, ddof=1) / math.sqrt(nb)


@dataclass
class OverlapResult:
    """Overlap statistics of two replicas at one inverse temperature.

    ``q_series``: q after every measurement; ``abs_q`` = <|q|>, ``q2`` = <q^2>, ``q4`` = <q^4>;
    ``binder_g`` = (1/2)(3 - <q^4>/<q^2>^2) (1 for a two-peaked P(q) at +-q_EA, 0 for a Gaussian
    around 0); ``chi_sg`` = N <q^2> (the spin-glass susceptibility); ``tau_q2``: integrated
    autocorrelation time of q^2 in sweeps (rounds for tempering).  Errors: binned jackknife.
    ``p_q``: fraction of the measurements in each bin of ``q_edges`` (it sums to 1);
    ``q_centres``: the bin centres.
    """

    beta: float
    n_sites: int
    measure_every: int
    q_series: np.ndarray
    abs_q: Estimate
    q2: Estimate
    q4: Estimate
    binder_g: Estimate
    chi_sg: Estimate
    tau_q2: Estimate
    q_edges: np.ndarray
    p_q: np.ndarray
    extra: dict = field(default_factory=dict)

    @property
    def q_centres(self) -> np.ndarray:
        return 0.5 * (self.q_edges[1:] + self.q_edges[:-1])

    def summary(self) -> str:
        out = (f"beta={self.beta:.6g} N={self.n_sites} measurements={self.q_series.size}: <|q|>={self.abs_q} "
               f"<q^2>={self.q2} <q^4>={self.q4} g={self.binder_g} chi_SG={self.chi_sg} "
               f"tau_q2={self.tau_q2}")  # every estimate rounded to its error (stats.format_value_error)
        k = self.extra.get("ladder_index")
        for name in ("swap_acceptance_a", "swap_acceptance_b"):
            acc = self.extra.get(name)
            if acc is not None and k is not None:
                acc = np.asarray(acc, dtype=np.float64)
                out += f" {name[-1]}:" + ",".join(f"swap({j},{j + 1})={acc[j]:.3g}" for j in (k - 1, k)
                                                  if 0 <= j < acc.size)
        return out

    @property
    def T(self) -> float:
        """The temperature 1 / beta."""
        return 1.0 / self.beta if self.beta > 0 else math.inf

    @property
    def p_q_error(self) -> np.ndarray:
        """Standard errors of ``p_q`` from 16 consecutive blocks of ``q_series``."""
        return _block_errors(self.q_series, self.q_edges)

    def to_dict(self) -> dict:
        """Plain dict: beta, N, measure_every, every estimate as ``Estimate.to_dict()`` (non-finite
        numbers as the strings "nan"/"inf"), the series and the histogram as lists, ``extra``."""
        d = {"beta": float(self.beta), "n_sites": int(self.n_sites), "measure_every": int(self.measure_every)}
        for k in _ESTIMATES:
            d[k] = _est_plain(getattr(self, k))
        d["q_series"] = self.q_series.tolist()
        d["q_edges"] = np.asarray(self.q_edges, dtype=np.float64).tolist()
        d["p_q"] = np.asarray(self.p_q, dtype=np.float64).tolist()
        d["extra"] = _plain(self.extra)
        return d

    def __repr__(self) -> str:
        return (f"OverlapResult(T={self.T:.6g}, N={self.n_sites}, measurements={self.q_series.size}, "
                f"q2={self.q2}, g={self.binder_g}, chi_SG={self.chi_sg})")

    def _params(self) -> dict:
        d = self.to_dict()
        for k in ("q_series", "q_edges", "p_q"):
            d.pop(k)
        return d

    def save(self, path, seed: int | None = None, parameters: dict | None = None) -> None:
        """Write to ``path`` (``.h5``/``.hdf5`` or ``.npz``) through :func:`physdl.io.save_run`: kind
        ``"lattice/overlap-result"``, the physdl version, ``seed`` and ``parameters`` (optional,
        JSON-serialisable: e.g. the model and disorder seed), the estimates, the q series and P(q).
        :meth:`load` reads it back."""
        from .. import io
        from .._validate import check_seed

        params = self._params()
        params["seed"] = None if seed is None else check_seed(seed)
        params["parameters"] = _plain(parameters or {})
        io.save_run(path, {"q_series": self.q_series, "q_edges": np.asarray(self.q_edges, dtype=np.float64),
                           "p_q": np.asarray(self.p_q, dtype=np.float64)}, params, kind=_OVERLAP_KIND)

    @classmethod
    def _build(cls, path, p: dict, q, edges, p_q) -> "OverlapResult":
        from .. import io

        try:
            q = np.asarray(q, dtype=np.float64)
            edges = np.asarray(edges, dtype=np.float64)
            p_q = np.asarray(p_q, dtype=np.float64)
            if q.ndim != 1 or edges.ndim != 1 or p_q.shape != (edges.size - 1,) or np.any(np.diff(edges) <= 0):
                raise ValueError("q_series must be 1-d, q_edges increasing and p_q one shorter than q_edges")
            if np.any(np.abs(q) > 1.0 + 1e-12):
                raise ValueError("overlaps must be in [-1, 1]")
            return cls(beta=check_float(p["beta"], "beta", positive=True),
                       n_sites=check_int(p["n_sites"], "n_sites", minimum=1),
                       measure_every=check_int(p["measure_every"], "measure_every", minimum=1),
                       q_series=q, q_edges=edges, p_q=p_q, extra=dict(p.get("extra") or {}),
                       **{k: _est_back(p[k]) for k in _ESTIMATES})
        except (KeyError, TypeError, ValueError) as exc:
            raise io.CorruptFileError(f"{path}: not a valid overlap result ({exc})") from None

    @classmethod
    def load(cls, path) -> "OverlapResult":
        """Read a result written by :meth:`save`; a file of another kind, edited or damaged is refused
        with a ``ValueError`` naming it."""
        from .. import io

        arrays, p = io.load_run(path, kind=_OVERLAP_KIND)
        if set(arrays) != {"q_series", "q_edges", "p_q"}:
            raise io.CorruptFileError(f"{path}: not a valid overlap result (entries {sorted(arrays)})")
        return cls._build(path, p, arrays["q_series"], arrays["q_edges"], arrays["p_q"])

    def plot(self, ax=None):
        """P(q) as a density against q (a step histogram) with block error bars; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        w = np.diff(self.q_edges)
        dens, err = self.p_q / w, self.p_q_error / w
        ax.stairs(dens, self.q_edges, color="C0", label=f"P(q), {self.q_series.size} measurements")
        ax.errorbar(self.q_centres, dens, yerr=err, fmt="none", ecolor="C0", elinewidth=0.8, capsize=1.5,
                    label="block error")
        ax.set_xlabel("overlap q")
        ax.set_ylabel("P(q) (density)")
        ax.set_title(f"T = {self.T:.4g}, N = {self.n_sites}: g = {self.binder_g}")
        ax.legend(fontsize="small")
        return ax


class OverlapTempering(list):
    """The per-temperature :class:`OverlapResult` list of :func:`overlap_tempering` (a list, as
    before), with

    - ``temperatures``, ``betas``, ``swap_acceptance`` (per neighbouring pair, each ladder) and
      ``estimate(name)`` -> ``(T, Estimate)`` of one observable along the ladder;
    - ``to_dict()``, a short ``repr``;
    - ``save(path)`` / ``OverlapTempering.load(path)`` through :mod:`physdl.io` (kind
      ``"lattice/overlap-tempering"``);
    - ``plot(observable="binder_g", ax=None)`` against T with error bars.
    """

    @property
    def betas(self) -> np.ndarray:
        return np.array([r.beta for r in self])

    @property
    def temperatures(self) -> np.ndarray:
        return 1.0 / self.betas

    @property
    def swap_acceptance(self) -> tuple[np.ndarray, np.ndarray]:
        """Swap acceptance of each neighbouring pair over the measured rounds, ladder a and ladder b."""
        ex = self[0].extra if self else {}
        return (np.asarray(ex.get("swap_acceptance_a", []), dtype=np.float64),
                np.asarray(ex.get("swap_acceptance_b", []), dtype=np.float64))

    def estimate(self, observable: str) -> tuple[np.ndarray, Estimate]:
        """``(T, Estimate)`` of ``observable`` (one of ``abs_q, q2, q4, binder_g, chi_sg, tau_q2``)
        in the ladder's order; the estimate is array-valued."""
        from .._validate import check_choice

        check_choice(observable, "observable", _ESTIMATES)
        es = [getattr(r, observable) for r in self]
        return self.temperatures, Estimate(np.array([e.value for e in es], dtype=np.float64),
                                           np.array([e.error for e in es], dtype=np.float64))

    def to_dict(self) -> dict:
        """``{"results": [OverlapResult.to_dict(), ...]}`` in the ladder's order."""
        return {"results": [r.to_dict() for r in self]}

    def __repr__(self) -> str:
        if not self:
            return "OverlapTempering(0 temperatures)"
        T = self.temperatures
        a, b = self.swap_acceptance
        acc = f", swap acceptance {min(a.min(), b.min()):.3g}..{max(a.max(), b.max()):.3g}" if a.size else ""
        return (f"OverlapTempering({len(self)} temperatures in [{T.min():.4g}, {T.max():.4g}], N={self[0].n_sites}, "
                f"rounds={self[0].q_series.size}, g={self[0].binder_g} at T={T[0]:.4g}{acc})")

    def save(self, path, seed: int | None = None, parameters: dict | None = None) -> None:
        """Write to ``path`` (``.h5``/``.hdf5`` or ``.npz``): kind ``"lattice/overlap-tempering"``, the
        physdl version, ``seed``, ``parameters``, every temperature's estimates, q series and P(q)."""
        from .. import io
        from .._validate import check_seed

        if not self:
            raise ValueError("an empty OverlapTempering has nothing to save")
        params = {"results": [r._params() for r in self], "seed": None if seed is None else check_seed(seed),
                  "parameters": _plain(parameters or {})}
        io.save_run(path, {"q_series": np.stack([r.q_series for r in self]),
                           "q_edges": np.stack([np.asarray(r.q_edges, dtype=np.float64) for r in self]),
                           "p_q": np.stack([np.asarray(r.p_q, dtype=np.float64) for r in self])},
                    params, kind=_TEMPERING_KIND)

    @classmethod
    def load(cls, path) -> "OverlapTempering":
        """Read what :meth:`save` wrote; another kind, an edited or damaged file is refused with a
        ``ValueError`` naming it."""
        from .. import io

        arrays, p = io.load_run(path, kind=_TEMPERING_KIND)
        res = p.get("results")
        if set(arrays) != {"q_series", "q_edges", "p_q"} or not isinstance(res, list) or not res or \
                any(np.ndim(arrays[k]) != 2 or len(arrays[k]) != len(res) for k in arrays):
            raise io.CorruptFileError(f"{path}: not a valid overlap-tempering file")
        return cls(OverlapResult._build(path, r, arrays["q_series"][j], arrays["q_edges"][j], arrays["p_q"][j])
                   for j, r in enumerate(res))

    def plot(self, observable: str = "binder_g", ax=None):
        """``observable`` against T with error bars (one point per temperature); returns the Axes."""
        import matplotlib.pyplot as plt

        T, est = self.estimate(observable)
        if ax is None:
            _, ax = plt.subplots()
        ax.errorbar(T, est.value, yerr=est.error, fmt="o-", ms=3, capsize=2, label=f"N = {self[0].n_sites}")
        ax.set_xlabel("temperature T")
        ax.set_ylabel(_LABELS[observable])
        ax.set_title(f"{_LABELS[observable]} along the tempering ladder")
        ax.legend()
        return ax


def _edges(n_sites: int, bins) -> np.ndarray:
    N = n_sites
    if bins is None:
        bins = N + 1 if N <= 256 else 129
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        nb = check_int(bins, "bins", minimum=1)
        # centred on the values q takes (-1, -1 + 2/N, ..., 1) when nb = N + 1
        return np.linspace(-1.0 - 1.0 / N, 1.0 + 1.0 / N, nb + 1)
    e = np.asarray(bins, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise ValueError("bins must be None, a number of bins, or increasing finite bin edges")
    return e


def overlap_analysis(q, beta: float, n_sites: int, measure_every: int = 1, n_bins: int = 32, bins=None,
                     extra: dict | None = None) -> OverlapResult:
    """Estimates with binned-jackknife errors from a series of overlaps.

    Parameters
    ----------
    q : 1-d array of overlaps, one per measurement (in time order: the bins are consecutive)
    beta : float
    n_sites : int
    measure_every : int
        Sweeps (or tempering rounds) between measurements, for the autocorrelation time.
    n_bins : int
        Jackknife bins.
    bins : None, int or array of edges
        Histogram of P(q): default one bin per value q can take (N + 1 bins) up to N = 256, else
        129 equal bins on [-1 - 1/N, 1 + 1/N].

    Returns
    -------
    OverlapResult
    """
    q = np.asarray(q, dtype=np.float64).reshape(-1)
    if q.size < 1:
        raise ValueError("q must hold at least one overlap")
    if not np.all(np.isfinite(q)) or np.any(np.abs(q) > 1.0 + 1e-12):
        raise ValueError("overlaps must be finite and in [-1, 1]")
    n_sites = check_int(n_sites, "n_sites", minimum=1)
    every = check_int(measure_every, "measure_every", minimum=1)
    q2 = q * q
    ser = (np.abs(q), q2, q2 * q2)
    nb = min(check_int(n_bins, "n_bins", minimum=2), q.size)

    def est(f):
        with np.errstate(divide="ignore", invalid="ignore"):
            if nb < 2:
                return Estimate(float(f(*(np.mean(s) for s in ser))), float("nan"))
            return stats.jackknife(f, *ser, n_blocks=nb)

    N = n_sites
    edges = _edges(N, bins)
    counts, _ = np.histogram(q, bins=edges)
    return OverlapResult(
        beta=float(beta), n_sites=N, measure_every=every, q_series=q,
        abs_q=est(lambda a, b, c: a),
        q2=est(lambda a, b, c: b),
        q4=est(lambda a, b, c: c),
        binder_g=est(lambda a, b, c: 0.5 * (3.0 - c / (b * b))),
        chi_sg=est(lambda a, b, c: N * b),
        tau_q2=_tau(q2, every),
        q_edges=edges, p_q=counts / q.size,
        extra=dict(extra or {}),
    )


def disorder_average(samples) -> dict:
    """Averages over disorder samples, with jackknife errors over the samples.

    Physical spin-glass observables are averages ``[.]`` over the couplings of the thermal
    averages ``<.>`` of each sample: ``[<|q|>]``, ``[<q^2>]``, ``[<q^4>]``, ``chi_SG = N [<q^2>]``
    and the Binder ratio ``g = (1/2)(3 - [<q^4>] / [<q^2>]^2)`` (the ratio of the averages, not the
    average of the per-sample ratios).  The errors are leave-one-sample-out jackknife errors, so
    they hold the sample-to-sample spread, which dominates for spin glasses; the thermal errors of
    each sample are not added (they are part of that spread).

    Parameters
    ----------
    samples : sequence of OverlapResult (one per disorder sample, one beta and N) or of
        OverlapTempering (one per sample, the same betas)

    Returns
    -------
    dict with ``beta`` (float, or array for tempering), ``n_sites``, ``n_samples`` and the
    :class:`~physdl.stats.Estimate` of ``abs_q``, ``q2``, ``q4``, ``chi_sg``, ``binder_g``
    (array-valued, one per beta, for tempering).
    """
    samples = list(samples)
    if len(samples) < 2:
        raise ValueError(f"samples must hold at least 2 disorder samples, got {len(samples)}")
    if all(isinstance(x, OverlapResult) for x in samples):
        per = [[x] for x in samples]
        ladder = False
    elif all(isinstance(x, OverlapTempering) and len(x) > 0 for x in samples):
        per = [list(x) for x in samples]
        ladder = True
    else:
        raise TypeError("samples must be OverlapResult objects, or non-empty OverlapTempering objects, "
                        "one per disorder sample")
    betas = np.array([[r.beta for r in x] for x in per]) if len({len(x) for x in per}) == 1 else None
    N = {r.n_sites for x in per for r in x}
    if betas is None or np.any(betas != betas[0]) or len(N) != 1:
        raise ValueError("the samples must share their betas and number of sites")
    N = N.pop()
    m = {k: np.array([[getattr(r, k).value for r in x] for x in per], dtype=np.float64)
         for k in ("abs_q", "q2", "q4")}  # (samples, betas)
    n = len(samples)
    fns = {"abs_q": lambda a, b, c: a, "q2": lambda a, b, c: b, "q4": lambda a, b, c: c,
           "chi_sg": lambda a, b, c: N * b, "binder_g": lambda a, b, c: 0.5 * (3.0 - c / (b * b))}
    out = {"beta": betas[0] if ladder else float(betas[0, 0]), "n_sites": int(N), "n_samples": n}
    for name, f in fns.items():
        ests = [stats.jackknife(f, m["abs_q"][:, j], m["q2"][:, j], m["q4"][:, j], n_blocks=n)
                for j in range(betas.shape[1])]  # one small jackknife per temperature
        if ladder:
            out[name] = Estimate(np.array([e.value for e in ests]), np.array([e.error for e in ests]), n=n)
        else:
            out[name] = Estimate(ests[0].value, ests[0].error, n=n)
    return out


# ---------------------------------------------------------------------------------- replicas
def same_disorder(m1: Model, m2: Model) -> bool:
    """True when two models have the same sites, couplings and fields (the same disorder sample)."""
    if m1 is m2:
        return True
    if type(m1) is not type(m2) or m1.shape != m2.shape or m1.geometry != m2.geometry:
        return False
    if isinstance(m1, SherringtonKirkpatrick):
        return bool(np.array_equal(m1.matrix, m2.matrix) and m1.h == m2.h)
    return bool(np.array_equal(np.asarray(m1.J), np.asarray(m2.J)) and np.array_equal(np.asarray(m1.h),
                                                                                     np.asarray(m2.h)))


def _check_pair(a, b, kind):
    if a is b:
        raise ValueError(f"the two replicas must be two {kind} objects, got the same one twice")
    ma = a.model if isinstance(a, Simulation) else a.replicas[0].model
    mb = b.model if isinstance(b, Simulation) else b.replicas[0].model
    if not same_disorder(ma, mb):
        raise ValueError("the two replicas must simulate the same disorder (the same model, or one with "
                         "identical couplings and fields)")


def _chunk(n: int, per_measurement: int) -> int:
    return max(1, min(n, _CHUNK_BYTES // max(per_measurement, 1)))


def overlap_run(sim_a: Simulation, sim_b: Simulation, n: int, every: int = 1, burn_in: int = 0, n_bins: int = 32,
                bins=None, progress: bool = False) -> OverlapResult:
    """Overlaps of two replicas (two chains on the same couplings) after each of ``n`` measurements.

    Both simulations advance ``burn_in`` sweeps, then ``n`` times ``every`` sweeps; after each,
    q = (1/N) sum_i s_i^a s_i^b.  They run in chunks of measurements through
    :meth:`Simulation.configurations` (one kernel call per chunk), so each chain is exactly the
    one its own ``configurations`` or ``run`` would give.

    Parameters
    ----------
    sim_a, sim_b : Simulation
        The same model (or one with identical couplings), the same beta, different chains: give
        them different ``seed`` or ``chain``.
    n : int
        Measurements.
    every : int
        Sweeps between measurements.
    burn_in : int
        Sweeps discarded first (by each replica).
    n_bins, bins : as for :func:`overlap_analysis`
    progress : bool
        Progress bar (on a terminal only, :mod:`physdl._progress`).

    Returns
    -------
    OverlapResult; ``extra`` holds the replicas' (seed, chain).
    """
    for s, name in ((sim_a, "sim_a"), (sim_b, "sim_b")):
        if not isinstance(s, Simulation):
            raise TypeError(f"{name} must be a physdl.lattice.Simulation, got {type(s).__name__}")
    _check_pair(sim_a, sim_b, "Simulation")
    if sim_a.beta != sim_b.beta:
        raise ValueError(f"the replicas must share beta, got {sim_a.beta} and {sim_b.beta}")
    if (sim_a.seed, sim_a.chain) == (sim_b.seed, sim_b.chain):
        raise ValueError(f"the replicas must be independent chains: both are seed={sim_a.seed}, chain={sim_a.chain}; "
                         f"give one another seed or chain")
    n = check_int(n, "n", minimum=1)
    every = check_int(every, "every", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    N = sim_a.model.n_sites
    from .._progress import bar as _bar

    q = np.empty(n)
    k = _chunk(n, 2 * N)
    with _bar(total=n, desc=f"overlaps beta={sim_a.beta:.4g}", progress=progress, leave=False) as bar:
        for i0 in range(0, n, k):
            m = min(k, n - i0)
            b0 = burn_in if i0 == 0 else 0
            ca = sim_a.configurations(m, every=every, burn_in=b0)
            cb = sim_b.configurations(m, every=every, burn_in=b0)
            q[i0:i0 + m] = overlaps(ca, cb)
            bar.update(m)
    extra = {"replicas": [(sim_a.seed, sim_a.chain), (sim_b.seed, sim_b.chain)], "update": sim_a.update,
             "storage": [sim_a.storage, sim_b.storage]}
    return overlap_analysis(q, sim_a.beta, N, every, n_bins=n_bins, bins=bins, extra=extra)


def overlap_tempering(pt_a: ParallelTempering, pt_b: ParallelTempering, rounds: int, burn_in: int = 0,
                      n_bins: int = 32, bins=None, progress: bool = False) -> list[OverlapResult]:
    """Overlaps per temperature of two independent tempering ladders on the same couplings.

    After each exchange round, the configuration at ``betas[k]`` of ladder a and the one at
    ``betas[k]`` of ladder b give q_k.  The ladders run in chunks of rounds through
    :meth:`ParallelTempering.configurations`.

    Parameters
    ----------
    pt_a, pt_b : ParallelTempering
        The same model (or identical couplings) and betas, different seeds (the seed picks every
        random number of a ladder, its swaps included).
    rounds : int
        Exchange rounds measured.
    burn_in : int
        Rounds discarded first.
    n_bins, bins : as for :func:`overlap_analysis`
    progress : bool

    Returns
    -------
    OverlapTempering (a list of OverlapResult, one per beta in the ladder's order); ``extra`` holds
    ``swap_acceptance_a`` / ``swap_acceptance_b`` (per pair, over the measured rounds) and
    ``ladder_index``.
    """
    for p, name in ((pt_a, "pt_a"), (pt_b, "pt_b")):
        if not isinstance(p, ParallelTempering):
            raise TypeError(f"{name} must be a physdl.lattice.ParallelTempering, got {type(p).__name__}")
    _check_pair(pt_a, pt_b, "ParallelTempering")
    if list(pt_a.betas) != list(pt_b.betas):
        raise ValueError(f"the ladders must share their betas, got {pt_a.betas} and {pt_b.betas}")
    if pt_a.exchange_every != pt_b.exchange_every:
        raise ValueError("the ladders must share exchange_every")
    if pt_a.seed == pt_b.seed:
        raise ValueError(f"the ladders must be independent: both have seed={pt_a.seed}; give one another seed")
    rounds = check_int(rounds, "rounds", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    R = len(pt_a.betas)
    N = pt_a.replicas[0].model.n_sites
    if 2 * R * N > available_memory():
        raise LatticeTooLarge("two ladders' configurations do not fit in the available memory")
    from .._progress import bar as _bar

    a0, t0 = pt_a.accepted.copy(), pt_a.attempted.copy()
    b0, u0 = pt_b.accepted.copy(), pt_b.attempted.copy()
    q = np.empty((R, rounds))
    k = _chunk(rounds, 2 * R * N)
    with _bar(total=rounds, desc="overlap tempering", progress=progress, leave=False) as bar:
        for i0 in range(0, rounds, k):
            m = min(k, rounds - i0)
            bi = burn_in if i0 == 0 else 0
            ca = pt_a.configurations(m, burn_in=bi)
            cb = pt_b.configurations(m, burn_in=bi)
            q[:, i0:i0 + m] = overlaps(ca, cb, n_site_dims=ca.ndim - 2)
            bar.update(m)
    acc_a = (pt_a.accepted - a0) / np.maximum(pt_a.attempted - t0, 1)
    acc_b = (pt_b.accepted - b0) / np.maximum(pt_b.attempted - u0, 1)
    return OverlapTempering(
        overlap_analysis(q[j], pt_a.betas[j], N, pt_a.exchange_every, n_bins=n_bins, bins=bins,
                         extra={"swap_acceptance_a": acc_a, "swap_acceptance_b": acc_b, "ladder_index": j})
        for j in range(R))


# ---------------------------------------------------------------------------------- ladders
def geometric_ladder(T_min: float, T_max: float, n: int) -> np.ndarray:
    """``n`` temperatures from T_min to T_max in a geometric progression (constant ratio).

    ``T_k = T_min (T_max / T_min)^(k / (n - 1))``, k = 0 .. n-1; the endpoints are exactly T_min and
    T_max.  Parallel tempering takes ``betas = 1 / T``.
    """
    T_min = check_float(T_min, "T_min", positive=True)
    T_max = check_float(T_max, "T_max", positive=True)
    n = check_int(n, "n", minimum=2)
    if not T_max > T_min:
        raise ValueError(f"T_max must be > T_min, got {T_min}, {T_max}")
    T = T_min * (T_max / T_min) ** (np.arange(n) / (n - 1))
    T[0], T[-1] = T_min, T_max
    return T


@dataclass
class TunedLadder:
    """Result of :func:`tuned_ladder`.

    ``temperatures``: the tuned ladder (increasing, endpoints fixed); ``history``: one entry per
    iteration, ``(temperatures, swap_acceptance)`` of the ladder that iteration measured (the
    first is the geometric start); ``attempts``: the swap attempts per pair behind each
    iteration's acceptances (binomial errors ``sqrt(A (1 - A) / attempts)``).

    ``to_dict()``, a short ``repr``, ``save(path)`` / ``TunedLadder.load(path)`` (kind
    ``"lattice/tuned-ladder"``) and ``plot(ax=None)`` (acceptance per pair, one curve per
    iteration, with error bars).
    """

    temperatures: np.ndarray
    history: list
    attempts: list = field(default_factory=list)
    params: dict = field(default_factory=dict)

    @property
    def betas(self) -> np.ndarray:
        return 1.0 / self.temperatures

    def acceptance_error(self, iteration: int = -1) -> np.ndarray:
        """Binomial standard errors of the acceptances measured at ``iteration`` (NaN if unknown)."""
        n = len(self.history)
        if n == 0:
            raise ValueError("this ladder has no measured iterations (iterations=0)")
        iteration = check_int(iteration, "iteration", minimum=-n, maximum=n - 1)
        _, acc = self.history[iteration]
        acc = np.asarray(acc, dtype=np.float64)
        if not self.attempts:
            return np.full(acc.shape, np.nan)
        m = np.maximum(np.asarray(self.attempts[iteration], dtype=np.float64), 1.0)
        return np.sqrt(acc * (1.0 - acc) / m)

    def to_dict(self) -> dict:
        """Plain dict: temperatures, every iteration's (temperatures, acceptance), attempts, params."""
        return {"temperatures": np.asarray(self.temperatures, dtype=np.float64).tolist(),
                "history": [[np.asarray(t, dtype=np.float64).tolist(), np.asarray(a, dtype=np.float64).tolist()]
                            for t, a in self.history],
                "attempts": [np.asarray(m).astype(np.int64).tolist() for m in self.attempts],
                "params": _plain(self.params)}

    def __repr__(self) -> str:
        T = np.asarray(self.temperatures)
        last = ""
        if self.history:
            a = np.asarray(self.history[-1][1])
            last = f", last measured acceptance {a.min():.3g}..{a.max():.3g}"
        return (f"TunedLadder({T.size} temperatures in [{T.min():.4g}, {T.max():.4g}], "
                f"{len(self.history)} iterations{last})")

    def save(self, path) -> None:
        """Write to ``path`` (``.h5``/``.hdf5`` or ``.npz``) with kind ``"lattice/tuned-ladder"``,
        the tuning parameters (seed included) and the physdl version."""
        from .. import io

        n = len(self.history)
        R = np.asarray(self.temperatures).size
        arrays = {"temperatures": np.asarray(self.temperatures, dtype=np.float64),
                  "history_temperatures": np.array([t for t, _ in self.history], dtype=np.float64).reshape(n, R),
                  "history_acceptance": np.array([a for _, a in self.history], dtype=np.float64).reshape(n, R - 1),
                  "attempts": np.array(self.attempts, dtype=np.int64).reshape(len(self.attempts), R - 1)}
        io.save_run(path, arrays, _plain(self.params), kind=_LADDER_KIND)

    @classmethod
    def load(cls, path) -> "TunedLadder":
        """Read what :meth:`save` wrote; another kind, an edited or damaged file is refused with a
        ``ValueError`` naming it."""
        from .. import io

        arrays, p = io.load_run(path, kind=_LADDER_KIND)
        need = {"temperatures", "history_temperatures", "history_acceptance", "attempts"}
        T = arrays.get("temperatures")
        if set(arrays) != need or T is None or T.ndim != 1 or T.size < 2 or np.any(T <= 0) or \
                arrays["history_temperatures"].shape[1:] != T.shape or \
                arrays["history_acceptance"].shape != (arrays["history_temperatures"].shape[0], T.size - 1) or \
                arrays["attempts"].shape[1:] != (T.size - 1,):
            raise io.CorruptFileError(f"{path}: not a valid tuned-ladder file")
        hist = [(t, a) for t, a in zip(arrays["history_temperatures"], arrays["history_acceptance"])]
        return cls(temperatures=T, history=hist, attempts=list(arrays["attempts"]), params=p)

    def plot(self, ax=None):
        """Swap acceptance of each neighbouring pair, one curve per iteration, with binomial error
        bars; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        for i, (_, acc) in enumerate(self.history):
            k = np.arange(np.size(acc))
            ax.errorbar(k + 0.5, acc, yerr=self.acceptance_error(i), fmt="o-", ms=3, capsize=2,
                        label="geometric start" if i == 0 else f"iteration {i}")
        ax.set_xlabel("pair (k, k + 1) of the ladder")
        ax.set_ylabel("swap acceptance")
        ax.set_ylim(0, 1.05)
        ax.set_title("swap acceptance per pair while tuning the ladder")
        ax.legend(fontsize="small")
        return ax


def _respace(betas: np.ndarray, acceptance: np.ndarray, attempts: np.ndarray) -> np.ndarray:
    """Betas that divide the measured thermodynamic length into equal parts (endpoints kept)."""
    from scipy.special import erfcinv

    lo = 0.5 / (attempts + 1.0)
    a = np.clip(acceptance, lo, 1.0 - lo)
    d = erfcinv(a)  # length of each interval: A = erfc(sigma dbeta / 2) for Gaussian energy histograms
    D = np.concatenate([[0.0], np.cumsum(d)])
    target = np.linspace(0.0, D[-1], betas.size)
    new = np.interp(target, D, betas)  # D increases strictly (d > 0): piecewise-linear inverse
    new[0], new[-1] = betas[0], betas[-1]
    return new


def tuned_ladder(model: Model, T_min: float, T_max: float, n: int, *, iterations: int = 4, rounds: int = 2000,
                 burn_in: int = 500, damping: float = 0.7, update: str = "metropolis", seed: int = 0,
                 backend: str | None = None, exchange_every: int = 1, storage: str | None = "byte") -> TunedLadder:
    """A temperature ladder whose neighbouring pairs swap with about equal acceptance.

    Method (iterative, deterministic for a seed): start from :func:`geometric_ladder`; at each
    iteration run a short parallel tempering (``burn_in`` + ``rounds`` rounds, seed ``seed + i`` at
    iteration i), measure each pair's swap acceptance A_k, and give each interval the length
    ``d_k = erfcinv(A_k)`` -- for Gaussian energy histograms of width sigma,
    ``A = erfc(sigma |dbeta| / 2)``, so d_k is half the interval's thermodynamic length
    ``int sigma(beta) dbeta``, additive over intervals.  The new inner betas divide the total
    length into n - 1 equal parts (piecewise-linear in beta within each interval), and the ladder
    moves a fraction ``damping`` of the way there (less overshoot from noisy acceptances).  The
    endpoints stay exactly T_min and T_max.  Equal lengths mean equal acceptance (exactly so for
    Gaussian histograms).  Acceptances are clipped to [1/(2(M+1)), 1 - 1/(2(M+1))] for M attempts.

    Parameters
    ----------
    model : Model
    T_min, T_max : float
    n : int
        Temperatures (>= 2; with 2 nothing moves).
    iterations : int
        Measure-and-move steps.
    rounds, burn_in : int
        Exchange rounds per measurement (and discarded first).
    damping : float in (0, 1]
    update, seed, backend, exchange_every, storage : as for :class:`ParallelTempering`

    Returns
    -------
    TunedLadder
    """
    T = geometric_ladder(T_min, T_max, n)
    iterations = check_int(iterations, "iterations", minimum=0)
    rounds = check_int(rounds, "rounds", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    damping = check_float(damping, "damping", positive=True)
    if damping > 1:
        raise ValueError(f"damping must be in (0, 1], got {damping}")
    betas = 1.0 / T
    history, attempts = [], []
    for it in range(iterations):
        pt = ParallelTempering(model, betas, update=update, seed=seed + it, backend=backend,
                               exchange_every=exchange_every, storage=storage)
        pt._rounds(rounds, burn_in, False)  # only the swap counters are needed
        acc = pt.swap_acceptance.copy()
        history.append((1.0 / betas, acc))
        attempts.append(pt.attempted.astype(np.int64).copy())
        if n > 2:
            target = _respace(betas, acc, pt.attempted.astype(np.float64))
            betas = (1.0 - damping) * betas + damping * target
            betas[0], betas[-1] = 1.0 / T[0], 1.0 / T[-1]
    temps = 1.0 / betas
    temps[0], temps[-1] = T[0], T[-1]
    params = {"T_min": float(T[0]), "T_max": float(T[-1]), "n": int(n), "iterations": iterations, "rounds": rounds,
              "burn_in": burn_in, "damping": damping, "update": update, "seed": int(seed),
              "exchange_every": int(exchange_every), "storage": storage, "model": repr(model)}
    return TunedLadder(temperatures=temps, history=history, attempts=attempts, params=params)
