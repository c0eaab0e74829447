"""Monte Carlo simulation of lattice spin models (book sec. 5.2-5.3, 8.1).

:class:`Simulation` runs Metropolis (eq. 5.69), heat bath (eq. 5.72), Wolff or Swendsen-Wang
updates on a model from :mod:`physdl.lattice.models`, with byte or multi-spin storage (multi-spin
by default wherever it applies), on the cpp, numba or cuda backend.  Random numbers are addressed
by (seed, chain, sweep, site), so the same seed gives the same lattice on any number of threads
and on either backend, and a saved run resumes bit for bit.  :mod:`physdl.lattice.spinglass`
measures replica overlaps on top of it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from .. import _backend
from .._validate import available_memory, check_choice, check_float, check_int, check_seed
from ..random import streams as _streams
from .. import stats
from .models import EdwardsAnderson, Ising, Model, SherringtonKirkpatrick

UPDATES = ("metropolis", "heat_bath", "wolff", "swendsen_wang")
STORAGES = ("byte", "multispin")
SWEEPS = ("checkerboard", "sequential")
_CODE = {"metropolis": 0, "heat_bath": 1}
_ONE53 = 1 << 53
_INIT_STREAM = (1 << 40) - 1
_SAMPLE_WORK = 1 << 22  # site updates per one-call sampling kernel call (a few ms): Ctrl-C is seen between calls
_CHECKPOINT_KIND = "lattice/simulation"


class LatticeTooLarge(MemoryError, ValueError):
    """The requested lattice would not fit in the available memory."""


Estimate = stats.Estimate


def _plain(x):
    """``x`` with NumPy arrays and scalars turned into lists and Python numbers (for JSON)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Estimate):
        return x.to_dict()
    return x


@dataclass(repr=False)
class RunResult:
    """Observables of one run: means with errors, autocorrelation times and time series.

    Energies and magnetisations are per site; ``specific_heat`` = beta^2 N Var(e),
    ``susceptibility`` = beta N (<m^2> - <|m|>^2), ``binder`` = 1 - <m^4> / (3 <m^2>^2).
    Errors: binned jackknife; ``tau_energy`` / ``tau_abs_m``: integrated autocorrelation times in
    sweeps, as :class:`~physdl.stats.Estimate` with the Madras-Sokal error.

    ``spin_glass`` is True for Edwards-Anderson models and Sherrington-Kirkpatrick models without a
    ferromagnetic mean coupling (J0 <= 0).  There the magnetisation, ``susceptibility`` and
    ``binder`` are still computed from the uniform magnetisation, but they are not the order
    parameter (random-sign couplings: m averages to zero in both phases), so :meth:`summary` leaves
    them out; the spin-glass order parameter is the overlap of two replicas,
    :func:`physdl.lattice.overlap_run`.
    """

    beta: float
    n_sites: int
    sweeps: int
    measure_every: int
    energy_series: np.ndarray
    magnetization_series: np.ndarray
    energy: Estimate
    abs_magnetization: Estimate
    m2: Estimate
    m4: Estimate
    specific_heat: Estimate
    susceptibility: Estimate
    binder: Estimate
    tau_energy: Estimate
    tau_abs_m: Estimate
    extra: dict = field(default_factory=dict)
    spin_glass: bool = False

    _KIND = "lattice/run-result"
    _ESTIMATES = ("energy", "abs_magnetization", "m2", "m4", "specific_heat", "susceptibility", "binder",
                  "tau_energy", "tau_abs_m")

    def to_dict(self) -> dict:
        """Plain dict: the run's parameters, every estimate as ``Estimate.to_dict()``, the series as lists."""
        d = {"beta": float(self.beta), "n_sites": int(self.n_sites), "sweeps": int(self.sweeps),
             "measure_every": int(self.measure_every), "spin_glass": bool(self.spin_glass)}
        for k in self._ESTIMATES:
            d[k] = getattr(self, k).to_dict()
        d["energy_series"] = np.asarray(self.energy_series, dtype=np.float64).tolist()
        d["magnetization_series"] = np.asarray(self.magnetization_series, dtype=np.float64).tolist()
        d["extra"] = _plain(self.extra)
        return d

    def __repr__(self) -> str:
        T = 1.0 / self.beta if self.beta > 0 else float("inf")
        head = (f"RunResult(T={T:.6g}, N={self.n_sites}, sweeps={self.sweeps}, "
                f"measurements={np.size(self.energy_series)}, e={self.energy}")
        if self.spin_glass:
            return head + f", C={self.specific_heat}, spin_glass=True)"
        return head + f", |m|={self.abs_magnetization}, chi={self.susceptibility}, U={self.binder})"

    def save(self, path, seed: int | None = None, parameters: dict | None = None):
        """Write the result to ``path`` (``.h5``/``.hdf5`` or ``.npz``) through :func:`physdl.io.save_run`.

        The file holds kind ``"lattice/run-result"``, the physdl version, ``seed`` and ``parameters``
        (optional, JSON-serialisable: e.g. the model and update), every estimate and the series.
        :meth:`load` reads it back.
        """
        from .. import io

        params = {k: v for k, v in self.to_dict().items() if k not in ("energy_series", "magnetization_series")}
        params["seed"] = None if seed is None else check_seed(seed)
        params["parameters"] = _plain(parameters or {})
        io.save_run(path, {"energy_series": np.asarray(self.energy_series, dtype=np.float64),
                           "magnetization_series": np.asarray(self.magnetization_series, dtype=np.float64)},
                    params, kind=self._KIND)

    @classmethod
    def load(cls, path) -> "RunResult":
        """Read a result written by :meth:`save`; a file of another kind, edited or damaged is refused
        with a ``ValueError`` naming it."""
        from .. import io

        arrays, p = io.load_run(path, kind=cls._KIND)
        try:
            e = np.asarray(arrays["energy_series"], dtype=np.float64)
            m = np.asarray(arrays["magnetization_series"], dtype=np.float64)
            if e.ndim != 1 or m.shape != e.shape:
                raise ValueError("energy_series and magnetization_series must be 1-d of one length")
            return cls(beta=check_float(p["beta"], "beta", positive=True),
                       n_sites=check_int(p["n_sites"], "n_sites", minimum=1),
                       sweeps=check_int(p["sweeps"], "sweeps", minimum=0),
                       measure_every=check_int(p["measure_every"], "measure_every", minimum=1),
                       energy_series=e, magnetization_series=m,
                       extra=dict(p.get("extra") or {}), spin_glass=bool(p.get("spin_glass", False)),
                       **{k: Estimate.from_dict(p[k]) for k in cls._ESTIMATES})
        except (KeyError, TypeError, ValueError) as exc:
            raise io.CorruptFileError(f"{path}: not a valid RunResult file ({exc})") from None

    def plot(self, ax=None, observable: str = "energy"):
        """Time series of ``observable`` (``"energy"`` or ``"magnetization"``, per site) against the
        sweep, with its mean and error band; returns the matplotlib Axes."""
        check_choice(observable, "observable", ("energy", "magnetization"))
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        y = self.energy_series if observable == "energy" else self.magnetization_series
        t = (np.arange(np.size(y)) + 1) * self.measure_every
        ax.plot(t, y, lw=0.6, label=observable)
        if observable == "energy":
            v, e = self.energy
            ax.axhline(v, color="k", lw=1, label=f"mean {self.energy}")
            ax.axhspan(v - e, v + e, color="k", alpha=0.2)
        ax.set_xlabel("sweep")
        ax.set_ylabel("energy per site e" if observable == "energy" else "magnetisation per site m")
        ax.set_title(f"T = {1.0 / self.beta:.4g}, N = {self.n_sites}")
        ax.legend()
        return ax

    def summary(self) -> str:
        """One line of the observables, each rounded to its error (:func:`physdl.stats.format_value_error`);
        for a spin glass without the ferromagnetic |m|, chi, U."""
        head = f"beta={self.beta:.6g} N={self.n_sites} sweeps={self.sweeps}: e={self.energy} "
        if self.spin_glass:
            out = (head + f"C={self.specific_heat} tau_e={self.tau_energy} "
                   f"(spin glass: ferromagnetic |m|, chi, U not shown; the overlap q is its order parameter)")
        else:
            out = (head + f"|m|={self.abs_magnetization} C={self.specific_heat} "
                   f"chi={self.susceptibility} U={self.binder} tau_e={self.tau_energy} "
                   f"tau_|m|={self.tau_abs_m}")
        acc, k = self.extra.get("swap_acceptance"), self.extra.get("ladder_index")
        if acc is not None and k is not None:
            acc = np.asarray(acc, dtype=np.float64)
            parts = [f"swap({j},{j + 1})={acc[j]:.3g}" for j in (k - 1, k) if 0 <= j < acc.size]
            out += " " + " ".join(parts)
        return out


def analyse(energy, magnetization, beta: float, n_sites: int, measure_every: int = 1, n_bins: int = 32,
            extra: dict | None = None, spin_glass: bool = False) -> RunResult:
    """Observables with binned-jackknife errors from per-site energy and magnetisation series.

    Parameters
    ----------
    energy, magnetization : 1-d arrays of per-site energy and magnetisation, one per measurement.
    beta : float
    n_sites : int
    measure_every : int
        Sweeps between measurements (converts autocorrelation times to sweeps).
    n_bins : int
        Jackknife bins.
    extra : dict, optional
        Stored as ``RunResult.extra``.
    spin_glass : bool
        Marks the result as a spin glass's (see :class:`RunResult`).

    Returns
    -------
    RunResult
    """
    e = np.asarray(energy, dtype=np.float64)
    m = np.asarray(magnetization, dtype=np.float64)
    am = np.abs(m)
    m2 = m * m
    ser = {"e": e, "e2": e * e, "am": am, "m2": m2, "m4": m2 * m2}
    nb = min(n_bins, e.size)

    def est(f):
        with np.errstate(divide="ignore", invalid="ignore"):
            if nb < 2:
                return Estimate(float(f({k: np.mean(v) for k, v in ser.items()})), float("nan"))
            keys = list(ser)
            return stats.jackknife(lambda *a: f(dict(zip(keys, a))), *(ser[k] for k in keys), n_blocks=nb)

    def tau(x):
        if x.size < 4 or np.ptp(x) == 0:  # undefined for a constant or very short series
            return Estimate(float("nan"), float("nan"), n=int(x.size))
        a = stats.integrated_autocorrelation_time(x)  # in measurements; the Madras-Sokal error
        t, err = a.tau * measure_every, a.error * measure_every
        return Estimate(t, err, tau=t, tau_error=err, n=int(x.size))

    N = n_sites
    return RunResult(
        beta=beta, n_sites=N, sweeps=e.size * measure_every, measure_every=measure_every,
        energy_series=e, magnetization_series=m,
        energy=est(lambda a: a["e"]),
        abs_magnetization=est(lambda a: a["am"]),
        m2=est(lambda a: a["m2"]),
        m4=est(lambda a: a["m4"]),
        specific_heat=est(lambda a: beta * beta * N * (a["e2"] - a["e"] ** 2)),
        susceptibility=est(lambda a: beta * N * (a["m2"] - a["am"] ** 2)),
        binder=est(lambda a: 1.0 - a["m4"] / (3.0 * a["m2"] ** 2)),
        tau_energy=tau(e),
        tau_abs_m=tau(am),
        extra=dict(extra or {}),
        spin_glass=bool(spin_glass),
    )


def is_spin_glass(model: Model) -> bool:
    """True for the models whose uniform magnetisation is not an order parameter (random-sign
    couplings): every :class:`EdwardsAnderson` model, and :class:`SherringtonKirkpatrick` with
    mean coupling ``J0 <= 0``."""
    if isinstance(model, EdwardsAnderson):
        return True
    return isinstance(model, SherringtonKirkpatrick) and model.J0 <= 0


def _fixed(p) -> np.ndarray:
    """53-bit fixed-point thresholds ceil(p 2^53) clamped to [0, 2^53]."""
    p = np.atleast_1d(np.asarray(p, dtype=np.float64))
    out = np.empty(p.shape, np.uint64)
    for i, x in enumerate(p):  # a handful of table entries
        out[i] = _ONE53 if not x < 1.0 else (0 if not x > 0.0 else int(math.ceil(x * 9007199254740992.0)))
    return out


@np.errstate(over="ignore")  # exp overflows to inf at large beta: p = min(1, inf) = 1, 1 / (1 + inf) = 0
def _byte_table(update: str, z: int, beta: float, J: float, h: float) -> np.ndarray:
    sums = np.arange(-z, z + 1, 2, dtype=np.float64)
    if update == "metropolis":
        ps = [np.exp(-beta * 2.0 * s * (J * sums + h)) for s in (-1.0, 1.0)]
        return _fixed(np.concatenate(ps))
    return np.concatenate([_fixed(1.0 / (1.0 + np.exp(-2.0 * beta * (J * sums + h)))), np.zeros(z + 1, np.uint64)])


@np.errstate(over="ignore")  # as for _byte_table
def _multispin_table(update: str, beta: float, J: float, h: float) -> np.ndarray:
    a = np.arange(5, dtype=np.float64)
    if update == "metropolis":
        return _fixed(np.concatenate([np.exp(-beta * (2.0 * J * (4.0 - 2.0 * a) + 2.0 * h * s)) for s in (-1.0, 1.0)]))
    return _fixed(1.0 / (1.0 + np.exp(-2.0 * beta * (J * (2.0 * a - 4.0) + h))))


def multispin_words_shape(ly: int, lx: int) -> tuple[int, int, int]:
    """Shape (2, Ly, nw) of the multi-spin word array of an Ly x Lx lattice (see multispin.hpp)."""
    return (2, ly, (lx // 2 + 63) // 64)


def pack_multispin(spins) -> np.ndarray:
    """Pack an (Ly, Lx) array of +-1 into multi-spin words (layout of multispin.hpp).

    Parameters
    ----------
    spins : array of +-1, shape (Ly, Lx), both even

    Returns
    -------
    ndarray of uint64, shape (2, Ly, ceil(Lx / 128)): colour, row, word.
    """
    from .._validate import check_spins

    s = np.asarray(spins)
    if s.ndim != 2 or s.shape[0] < 2 or s.shape[1] < 2 or s.shape[0] % 2 or s.shape[1] % 2:
        raise ValueError(f"spins must be a 2-d array with even sides >= 2, got shape {s.shape}")
    s = check_spins(s, "spins")
    ly, lx = s.shape
    n = lx // 2
    _, _, nw = multispin_words_shape(ly, lx)
    bits = np.zeros((2, ly, nw * 64), np.uint8)
    y = np.arange(ly)[:, None]
    for c in (0, 1):
        x = 2 * np.arange(n)[None, :] + ((y + c) & 1)
        bits[c, :, :n] = s[y, x] > 0
    return np.ascontiguousarray(np.packbits(bits, axis=-1, bitorder="little").view("<u8"))


def unpack_multispin(words, ly: int, lx: int) -> np.ndarray:
    """Inverse of :func:`pack_multispin`: int8 array (Ly, Lx) of +-1.

    Parameters
    ----------
    words : uint64 array of shape (2, Ly, ceil(Lx / 128))
    ly, lx : int

    Returns
    -------
    ndarray of int8, shape (Ly, Lx)
    """
    ly = check_int(ly, "ly", minimum=2)
    lx = check_int(lx, "lx", minimum=2)
    if ly % 2 or lx % 2:
        raise ValueError(f"ly and lx must be even, got {ly}, {lx}")
    w = np.asarray(words)
    if w.dtype != np.uint64 or w.shape != multispin_words_shape(ly, lx):
        raise ValueError(f"words must be uint64 of shape {multispin_words_shape(ly, lx)}, got {w.dtype} {w.shape}")
    w = np.ascontiguousarray(w, dtype="<u8")
    n = lx // 2
    bits = np.unpackbits(w.view(np.uint8), axis=-1, bitorder="little")
    out = np.empty((ly, lx), np.int8)
    y = np.arange(ly)[:, None]
    for c in (0, 1):
        x = 2 * np.arange(n)[None, :] + ((y + c) & 1)
        out[y, x] = np.where(bits[c, :, :n] > 0, 1, -1)
    return out


_BETA_MAX = 1e150  # beyond it beta^2 N Var(e) overflows; the chain is frozen long before


def _check_beta(beta, T):
    if (beta is None) == (T is None):
        raise TypeError("give exactly one of beta or T")
    if T is not None:
        if isinstance(T, (float, np.floating)) and not np.isfinite(float(T)):
            raise ValueError(f"T must be a finite temperature > 0, got {T}")
        T = check_float(T, "T")
        if T <= 0:
            raise ValueError(f"T must be > 0, got {T}")
        if T < 1.0 / _BETA_MAX:
            raise ValueError(f"T must be >= {1.0 / _BETA_MAX:g} (beta = 1/T <= {_BETA_MAX:g}), got {T}")
        return 1.0 / T
    if isinstance(beta, (float, np.floating)) and not np.isfinite(float(beta)):
        raise ValueError(f"beta must be finite and > 0 (T = 1/beta > 0), got {beta}")
    beta = check_float(beta, "beta")
    if beta <= 0:
        raise ValueError(f"beta must be > 0 (temperature T = 1/beta > 0), got {beta}")
    if beta > _BETA_MAX:
        raise ValueError(f"beta must be <= {_BETA_MAX:g} (beyond it the specific heat beta^2 N Var(e) overflows), "
                         f"got {beta}")
    return beta


def multispin_unsupported(model: Model, update: str, sweep: str | None = None) -> str | None:
    """Why ``storage="multispin"`` cannot run this model and update, or None when it can.

    Multi-spin coding (one bit per spin, :func:`pack_multispin`) needs all of: an :class:`Ising`
    model (not a spin glass) on the square geometry, uniform couplings and field (scalar ``J`` and
    ``h``, any values), even sides (its two-colour checkerboard), ``update`` Metropolis or heat
    bath, and the checkerboard sweep (the default for the square lattice).  The backend does not
    matter: cpp, numba and cuda all run it.  :class:`Simulation` picks multi-spin storage by
    default exactly when this returns None.

    Parameters
    ----------
    model : Model
    update : str
    sweep : {None, "checkerboard", "sequential"}
        None: the model's default sweep (checkerboard, sequential for the SK model).

    Returns
    -------
    str or None: the reason, as the ``ValueError`` an explicit ``storage="multispin"`` raises.
    """
    if sweep is None:
        sweep = "sequential" if isinstance(model, SherringtonKirkpatrick) else "checkerboard"
    if not (isinstance(model, Ising) and model.geometry == "square" and model.uniform):
        return "storage='multispin' needs an Ising model on the square geometry with uniform J and h"
    if update not in ("metropolis", "heat_bath"):
        return "storage='multispin' supports update='metropolis' or 'heat_bath'"
    if sweep != "checkerboard":
        return "storage='multispin' sweeps the checkerboard only"
    if any(s % 2 for s in model.shape):
        return f"storage='multispin' needs even sides for its checkerboard, got shape {model.shape}"
    return None


class Simulation:
    """A Markov chain over spin configurations of a lattice model (book sec. 5.2.5, eq. 5.67).

    Parameters
    ----------
    model : Ising, EdwardsAnderson or SherringtonKirkpatrick
    beta : float, optional
        Inverse temperature (> 0); or give ``T``.
    T : float, optional
        Temperature (> 0).
    update : {"metropolis", "heat_bath", "wolff", "swendsen_wang"}
        Metropolis (eq. 5.69) and heat bath (eq. 5.72) sweep colour by colour; the cluster updates
        need ferromagnetic couplings and no field.
    storage : {None, "auto", "byte", "multispin"}
        One byte per spin, or one bit per spin (multi-spin coding, 64 spins per word, several times
        faster).  Multi-spin storage needs an :class:`Ising` model on the square geometry with
        uniform (scalar) J and h, even sides, Metropolis or heat bath, and the checkerboard sweep; it
        runs on every backend (cpp, numba, cuda).  Default ``None`` (or ``"auto"``): multi-spin whenever these hold
        (see :func:`multispin_unsupported`), byte otherwise; ``repr(sim)`` and ``sim.storage`` say
        which was chosen (``sim.storage_auto`` is True when it was chosen for you).  The two storages
        draw different random numbers, so the same seed gives different (equally valid) chains;
        give ``storage="byte"`` to reproduce runs made before this default.
    sweep : {"checkerboard", "sequential"}, optional
        Order of local updates: sublattice colours (2 for bipartite lattices with even sides, 3 for
        the triangular lattice with sides divisible by 3), or site by site.  Default: checkerboard,
        sequential for the SK model.  On very small tori the checkerboard Metropolis sweep can be
        reducible (its forced flips of dE <= 0 moves trap the chain; e.g. the 3x3 triangular
        torus): use heat bath or sequential sweeps there.
    seed : int
        Seed of every random number of the run.
    chain : int
        Independent chain number (< 2^23) under the same seed.
    backend : {None, "cpp", "numba", "cuda"}
        ``"cuda"`` runs ``storage="multispin"`` only, on the GPU: the lattice stays on the device, energy and
        magnetisation are reduced there, and the words are copied to the host only when asked for
        (``spins``, ``save``); the same seed gives the same lattice as ``"cpp"``, bit for bit.
    start : {"random", "up"}
        Initial configuration (random from Philox, or all +1).
    clusters_per_sweep : int, optional
        Wolff only: clusters per sweep.  A fixed count keeps end-of-sweep measurements unbiased;
        by default it is set once, on the first run, to N / (mean cluster size in pilot runs of
        single clusters, each flipping 20 N spins, repeated until two agree within 25%), so that
        a sweep flips about N spins.
    """

    def __init__(self, model: Model, beta=None, *, T=None, update: str = "metropolis",
                 storage: str | None = None, sweep: str | None = None, seed: int = 0, chain: int = 0,
                 backend: str | None = None, start: str = "random", clusters_per_sweep: int | None = None):
        if not isinstance(model, Model):
            raise TypeError(f"model must be a physdl.lattice model (Ising, EdwardsAnderson, "
                            f"SherringtonKirkpatrick), got {type(model).__name__}")
        self.model = model
        self.beta = _check_beta(beta, T)
        self.update = check_choice(update, "update", UPDATES)
        if isinstance(storage, str) and storage == "auto":
            storage = None
        if storage is not None:
            storage = check_choice(storage, "storage", STORAGES)
        if sweep is None:
            sweep = "sequential" if isinstance(model, SherringtonKirkpatrick) else "checkerboard"
        self.sweep = check_choice(sweep, "sweep", SWEEPS)
        self.seed = check_seed(seed)
        self.chain = check_int(chain, "chain", minimum=0, maximum=_streams.MAX_CHAINS - 1)
        start = check_choice(start, "start", ("random", "up"))
        why = multispin_unsupported(model, self.update, self.sweep)
        self.storage_auto = storage is None
        if storage is None:
            storage = "byte" if why else "multispin"

        def no_byte_on_device():
            if storage == "byte":
                if self.storage_auto:
                    raise ValueError(f"backend='cuda' runs storage='multispin' only, and this simulation cannot "
                                     f"use it: {why}; use backend='cpp' or 'numba' for byte storage")
                raise ValueError("backend='cuda' runs storage='multispin' (square lattice, Metropolis or heat bath); "
                                 "use backend='cpp' for byte storage")

        if backend == "cuda":  # before looking for a device: the refusal does not depend on having one
            no_byte_on_device()
        self.backend = _backend.resolve(backend, ("cpp", "numba", "cuda"))
        if self.backend == "cuda":  # the default backend may be the device
            no_byte_on_device()
        self.storage = storage
        self._dev = None  # the device-resident lattice (backend="cuda")
        self._dev_newer = False  # True when the device holds sweeps the host copy has not seen
        cluster = self.update in ("wolff", "swendsen_wang")
        if cluster and not model.ferromagnetic:
            raise ValueError(f"update={self.update!r} needs ferromagnetic couplings (all J >= 0) and no field; "
                             f"use 'metropolis' or 'heat_bath'")
        if self.storage == "multispin":
            if why:
                raise ValueError(why)
        elif not cluster and self.sweep == "checkerboard" and isinstance(model, Ising):
            model.check_checkerboard()
        if self.backend == "cuda":
            cu = _backend.module("cuda")
            need_dev = cu.lattice.MultispinLattice.bytes_needed(*model.shape)
            free_dev = cu.device_info(0)["free_memory"]
            if need_dev > free_dev:
                raise LatticeTooLarge(
                    f"the lattice {model.shape} needs {need_dev / 2**30:.3g} GiB of device memory but only "
                    f"{free_dev / 2**30:.3g} GiB is free on {cu.device_info(0)['name']}")
        need = self.memory_estimate()
        avail = available_memory()
        if need > avail:
            raise LatticeTooLarge(
                f"the lattice {model.shape} with storage={self.storage!r} needs about {need / 2**30:.3g} GiB "
                f"but only {avail / 2**30:.3g} GiB of memory is available")
        self._ctr = np.zeros(3, np.int64)  # sweeps done, next Wolff cluster, spins flipped (kernels advance it)
        self._flipped_from = 0  # the sweep from which spins flipped are counted (0 but for old files)
        self.clusters_per_sweep = (None if clusters_per_sweep is None
                                   else check_int(clusters_per_sweep, "clusters_per_sweep", minimum=1))
        self._setup()
        self._init_spins(start)
        if self.backend == "cuda":
            ly, lx = model.shape
            self._dev = _backend.module("cuda").lattice.MultispinLattice(ly, lx, self._words_host.reshape(-1))

    def __repr__(self) -> str:
        how = " (auto)" if getattr(self, "storage_auto", False) else ""
        return (f"Simulation({self.model!r}, beta={self.beta:.6g}, update={self.update!r}, "
                f"storage={self.storage!r}{how}, sweep={self.sweep!r}, backend={self.backend!r}, seed={self.seed}, "
                f"chain={self.chain}, sweeps_done={self.sweeps_done})")

    # ------------------------------------------------------------------ counters
    # Kept in one int64 array that the kernels advance after every completed sweep, together with
    # the spins: after an interrupt the chain is exactly as after a whole number of sweeps.
    def _counter(i, doc):
        def get(self):
            return int(self._ctr[i])

        def put(self, value):
            if not hasattr(self, "_ctr"):
                self._ctr = np.zeros(3, np.int64)
            self._ctr[i] = check_int(value, doc, minimum=0, maximum=(1 << 62))
        return property(get, put, doc=doc)

    sweeps_done = _counter(0, "sweeps_done")
    cluster = _counter(1, "cluster")
    _flipped = _counter(2, "flipped")
    del _counter

    # ------------------------------------------------------------------ set-up
    def memory_estimate(self) -> int:
        """Peak bytes the simulation allocates: its state and tables plus the largest temporary.

        Checked before allocating.  Persistent: spins (1 byte each), neighbour table (4 z), colour
        order (4), non-uniform couplings (8 z + 8), the cluster kernels' scratch (4).  Largest
        temporary while setting up: the neighbour table's rolled indices (8, 12 triangular), the colour sort (9),
        the bond couplings' columns (8 z), the random initial spins (4).  Measured against the
        traced peak in tests/reliability/test_memory.py.
        """
        m = self.model
        small = 1 << 12
        if self.storage == "multispin":  # the words, drawn in place
            ly, lx = m.shape
            return math.prod(multispin_words_shape(ly, lx)) * 8 + small
        n, z = m.n_sites, m.z
        if self._table_free():
            return 5 * n + small
        persistent = n + 4 * n * z + 4 * n
        if self.update in ("wolff", "swendsen_wang"):
            persistent += 4 * n
        transient = [(12 if m.geometry == "triangular" else 8) * n, 9 * n, 4 * n]
        if not m.uniform:
            persistent += 8 * n * z + 8 * n
            transient.append(8 * n * z)
        return persistent + max(transient) + small

    def _table_free(self) -> bool:
        """The cpp square-lattice kernel needs no neighbour table or colour list (same lattice)."""
        m = self.model
        return (self.storage == "byte" and self.backend == "cpp" and isinstance(m, Ising)
                and m.geometry == "square" and m.uniform and self.sweep == "checkerboard"
                and self.update in ("metropolis", "heat_bath"))

    def _setup(self) -> None:
        m = self.model
        self._uniform = m.uniform
        if self.storage == "multispin":
            ly, lx = m.shape
            self._shape3 = multispin_words_shape(ly, lx)
            self._table = _multispin_table(self.update, self.beta, float(m.J), float(m.h))
            return
        self._square = (0, 0)
        if self._table_free():
            n = m.n_sites
            self._square = tuple(m.shape)
            self._nbr = np.zeros((0, 4), np.int32)
            self._order = np.zeros(0, np.int32)
            self._off = np.array([0, n // 2, n], np.int64)
            self._J0, self._h0 = float(m.J), float(m.h)
            self._Jb, self._hs = np.zeros(0), np.zeros(0)
            self._table = _byte_table(self.update, 4, self.beta, self._J0, self._h0)
            return
        self._nbr = m.neighbours()
        if self._uniform:
            self._J0, self._h0 = float(m.J), float(m.h)
            self._Jb = np.zeros(0)
            self._hs = np.zeros(0)
        else:
            self._J0, self._h0 = 0.0, 0.0
            self._Jb = m.bond_couplings()
            self._hs = m.fields()
        if self.update in ("metropolis", "heat_bath"):
            self._order, self._off = m.colouring(self.sweep)
            if self._uniform:
                self._table = _byte_table(self.update, m.z, self.beta, self._J0, self._h0)
            else:
                self._table = np.zeros(2 * (m.z + 1), np.uint64)
        else:
            self._order, self._off = np.arange(m.n_sites, dtype=np.int32), np.array([0, m.n_sites], np.int64)
            self._p_add = int(_fixed(1.0 - math.exp(-2.0 * self.beta * self._J0))[0]) if self._uniform else 0

    def _init_spins(self, start: str) -> None:
        from .. import random as prandom

        stream = (self.chain << 40) | _INIT_STREAM
        if self.storage == "multispin":
            ly, lx = self.model.shape
            if start == "up":
                w = pack_multispin(np.ones((ly, lx), np.int8))
            else:
                w = prandom.uint32(math.prod(self._shape3) * 2, seed=self.seed, stream=stream).view(np.uint64)
                w = w.reshape(self._shape3)  # a fresh array: no copy needed
                nw = self._shape3[2]
                r = (lx // 2) & 63
                if r:
                    w[:, :, nw - 1] &= np.uint64((1 << r) - 1)
            self._words = np.ascontiguousarray(w)
        else:
            n = self.model.n_sites
            if start == "up":
                self._spins = np.ones(n, np.int8)
            else:
                u = prandom.uint32(n, seed=self.seed, stream=stream)
                np.bitwise_and(u, 1, out=u)
                s = u.astype(np.int8)
                del u
                s *= 2
                s -= 1  # bit 1 -> +1, bit 0 -> -1
                self._spins = s

    # ------------------------------------------------------------------ state
    @property
    def _words(self) -> np.ndarray:
        """Host copy of the multi-spin words, fetched from the device only when asked for."""
        if self._dev is not None and self._dev_newer:
            self._words_host = self._dev.download().reshape(self._shape3)
            self._dev_newer = False
        return self._words_host

    @_words.setter
    def _words(self, value) -> None:
        self._words_host = value
        if self._dev is not None:
            self._dev.upload(np.ascontiguousarray(value, dtype=np.uint64).reshape(-1))
            self._dev_newer = False

    @property
    def spins(self) -> np.ndarray:
        """The current configuration as an int8 array of +-1 with the model's shape (a copy)."""
        if self.storage == "multispin":
            need = 2 * self.model.n_sites
            if need > available_memory():
                raise LatticeTooLarge(f"unpacking {self.model.n_sites:.3g} spins to int8 needs about "
                                      f"{need / 2**30:.3g} GiB, more than is available")
            return unpack_multispin(self._words, *self.model.shape)
        return self._spins.reshape(self.model.shape).copy()

    def measure(self) -> tuple[float, int]:
        """Total energy H[s] (eq. 8.7) and magnetisation sum_i s_i of the current configuration.

        Returns
        -------
        (float, int), computed by the backend's kernel.
        """
        E = np.zeros(1)
        M = np.zeros(1, np.int64)
        self._kernel_measure(E, M)
        return float(E[0]), int(M[0])

    # ------------------------------------------------------------------ kernels
    def _kernel_measure(self, E, M) -> None:
        if self.storage == "multispin":
            ly, lx = self.model.shape
            if self.backend == "cuda":
                e, m = self._dev.measure(float(self.model.J), float(self.model.h))
            elif self.backend == "cpp":
                e, m = _backend.module("cpp").lattice.multispin_measure(self._words, ly, lx, self.model.J, self.model.h)
            else:
                from . import _numba

                e, m = _numba.multispin_measure(self._words, lx, float(self.model.J), float(self.model.h))
        elif self.backend == "cpp":
            e, m = _backend.module("cpp").lattice.byte_measure(self._spins, self._nbr, self._uniform, self._J0,
                                                              self._h0, self._Jb, self._hs, self._order, self._off,
                                                              *self._square)
        else:
            from . import _numba

            e, m = _numba.byte_measure(self._spins, self._nbr, self._uniform, self._J0, self._h0, self._Jb, self._hs)
        E[0], M[0] = e, m

    def _advance(self, nsweeps: int, every: int, E, M) -> None:
        """Run nsweeps sweeps (measuring every `every`-th into E, M) and advance the counters."""
        if nsweeps == 0:
            return
        cpp = self.backend == "cpp"
        if not cpp:
            from . import _numba
        core = _backend.module("cpp").lattice if cpp else None
        seed, chain, t0 = self.seed, self.chain, self.sweeps_done
        if self.storage == "multispin":
            ly, lx = self.model.shape
            code = _CODE[self.update]
            if self.backend == "cuda":
                from .._interrupt import run_in_pieces

                def piece(t, k):  # one bounded device launch; state and counter land together
                    e, m = self._dev.sweeps(code, self._table, float(self.model.J), float(self.model.h), seed, chain,
                                            t0 + t, k, every)
                    i0 = t // every if every else 0
                    E[i0:i0 + e.size], M[i0:i0 + m.size] = e, m
                    self._dev_newer = True
                    self._ctr[0] += k

                # pieces are whole multiples of `every`, so each launch measures at the same sweeps
                run_in_pieces(piece, nsweeps, first=max(1, every), multiple=max(1, every))
            elif cpp:
                core.multispin_sweeps(self._words, ly, lx, code, self._table, self.model.J, self.model.h, seed, chain,
                                      t0, nsweeps, every, E, M, counters=self._ctr)
            else:
                _numba.multispin_sweeps(self._words, lx, code, self._table, float(self.model.J), float(self.model.h),
                                        np.uint64(seed), np.uint64(chain), np.uint64(t0), nsweeps, every, E, M,
                                        ly * self._shape3[2] >= 512, counters=self._ctr)
        elif self.update in ("metropolis", "heat_bath"):
            code = _CODE[self.update]
            args = (self._spins, self._nbr, self._uniform, self._J0, self._h0, self._Jb, self._hs, self._order,
                    self._off, code, self.beta, self._table)
            if cpp:
                core.byte_sweeps(*args, seed, chain, t0, nsweeps, every, E, M, *self._square, counters=self._ctr)
            else:
                _numba.byte_sweeps(*args, np.uint64(seed), np.uint64(chain), np.uint64(t0), nsweeps, every, E, M,
                                   self.model.n_sites > 4096, counters=self._ctr)
        elif self.update == "wolff":
            if self.clusters_per_sweep is None:
                # pilot: single clusters until 20 N spins have flipped (this also equilibrates);
                # the mean size over the second half sets a fixed count of clusters per sweep.
                # It runs on copies, committed together at the end, so an interrupt leaves no trace.
                from .._interrupt import deferred_sigint

                N = self.model.n_sites
                spins, ctr = self._spins.copy(), self._ctr.copy()
                prev = None
                for _ in range(30):  # repeat until the mean size settles (coarsening from a hot start)
                    sizes = []
                    while sum(sizes) < 20 * N and len(sizes) < 200_000:
                        sizes.extend(self._wolff(1, 20, 0, E, M, spins, ctr).tolist())
                    mean = float(np.mean(sizes))
                    if prev is not None and abs(mean - prev) < 0.25 * max(mean, prev):
                        break
                    prev = mean
                with deferred_sigint():
                    self._spins[:] = spins
                    self._ctr[1] = ctr[1]
                    self.clusters_per_sweep = max(1, int(round(N / mean)))
            if self.cluster + nsweeps * self.clusters_per_sweep >= (1 << 39):
                raise ValueError("this Wolff chain would exceed 2^39 clusters, the limit of its random-number "
                                 "address space")
            self._wolff(self.clusters_per_sweep, nsweeps, every, E, M, self._spins, self._ctr)
        else:
            if cpp:
                core.sw_sweeps(self._spins, self._nbr, self._uniform, self._J0, self._h0, self._Jb, self._hs,
                               self._order, self._off, self.beta, self._p_add, seed, chain, t0, nsweeps, every, E, M,
                               counters=self._ctr)
            else:
                _numba.sw_sweeps(self._spins, self._nbr, self._uniform, self._J0, self._h0, self._Jb, self._hs,
                                 self.beta, np.uint64(self._p_add), np.uint64(seed), np.uint64(chain), np.uint64(t0),
                                 nsweeps, every, E, M, counters=self._ctr)

    def _wolff(self, per_sweep: int, nsweeps: int, every: int, E, M, spins, ctr) -> np.ndarray:
        """Wolff sweeps on `spins`; the kernel advances `ctr` (sweeps, next cluster, flipped) per sweep."""
        F = np.zeros(nsweeps, np.int64)
        cluster0 = int(ctr[1])
        if self.backend == "cpp":
            _backend.module("cpp").lattice.wolff_sweeps(
                spins, self._nbr, self._uniform, self._J0, self._h0, self._Jb, self._hs, self._order, self._off,
                self.beta, self._p_add, self.seed, self.chain, cluster0, per_sweep, nsweeps, every, E, M, F,
                counters=ctr)
        else:
            from . import _numba

            _numba.wolff_sweeps(
                spins, self._nbr, self._uniform, self._J0, self._h0, self._Jb, self._hs, self.beta,
                np.uint64(self._p_add), np.uint64(self.seed), np.uint64(self.chain), np.uint64(cluster0),
                per_sweep, nsweeps, every, E, M, F, counters=ctr)
        return F

    def _check_sweep_budget(self, nsweeps: int) -> None:
        ncol = int(self._off.size - 1) if self.storage == "byte" and self.update in ("metropolis", "heat_bath") else 2
        if (self.sweeps_done + nsweeps) * ncol >= (1 << 39):
            raise ValueError("this chain would exceed 2^39 colour passes, the limit of its random-number address space")

    # ------------------------------------------------------------------ public
    def run(self, sweeps: int, burn_in: int = 0, measure_every: int = 1, progress: bool = False) -> RunResult:
        """Run burn-in sweeps, then `sweeps` sweeps measuring every `measure_every`-th (eq. 5.67).

        Parameters
        ----------
        sweeps : int
            Sweeps after the burn-in (a multiple of measure_every).  A Wolff sweep is as many
            clusters as it takes to flip at least N spins.
        burn_in : int
            Sweeps discarded first.
        measure_every : int
        progress : bool
            Show a tqdm progress bar (only on a terminal: see :mod:`physdl._progress`).

        Returns
        -------
        RunResult
        """
        sweeps = check_int(sweeps, "sweeps", minimum=1)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        every = check_int(measure_every, "measure_every", minimum=1)
        if sweeps % every:
            raise ValueError(f"sweeps ({sweeps}) must be a multiple of measure_every ({every})")
        self._check_sweep_budget(sweeps + burn_in)
        from .._progress import bar as _bar

        n_meas = sweeps // every
        E = np.zeros(n_meas)
        M = np.zeros(n_meas, np.int64)
        dummy_e, dummy_m = np.zeros(1), np.zeros(1, np.int64)
        total = burn_in + sweeps
        chunk = max(1, total // 50)
        with _bar(total=total, desc=f"{self.update} beta={self.beta:.4g}", unit="sweep", progress=progress,
                  leave=False) as bar:
            left = burn_in
            while left > 0:
                k = min(chunk, left)
                self._advance(k, 0, dummy_e, dummy_m)
                left -= k
                bar.update(k)
            done = 0
            mchunk = max(every, (chunk // every) * every)
            while done < sweeps:
                k = min(mchunk, sweeps - done)
                i0 = done // every
                self._advance(k, every, E[i0:], M[i0:])
                done += k
                bar.update(k)
        N = self.model.n_sites
        extra = {"update": self.update, "storage": self.storage, "backend": self.backend}
        if self.update == "wolff":
            extra["clusters_per_sweep"] = self.clusters_per_sweep
            extra["flipped_per_sweep"] = self._flipped / max(self.sweeps_done - self._flipped_from, 1)
        return analyse(E / N, M / N, self.beta, N, every, extra=extra, spin_glass=is_spin_glass(self.model))

    def configurations(self, n: int, every: int = 1, burn_in: int = 0, progress: bool = False) -> np.ndarray:
        """Sample n configurations, `every` sweeps apart, as an int8 array ``(n, *shape)`` of +-1.

        Parameters
        ----------
        n : int
        every : int
            Sweeps between samples.
        burn_in : int
            Sweeps discarded first.

        Returns
        -------
        ndarray of int8, shape (n, *model.shape)
        """
        n = check_int(n, "n", minimum=1)
        every = check_int(every, "every", minimum=1)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        need = n * self.model.n_sites
        if need > available_memory():
            raise LatticeTooLarge(f"{n} configurations need {need / 2**30:.3g} GiB, more than is available")
        self._check_sweep_budget(burn_in + n * every)
        from .._progress import bar as _bar

        out = np.empty((n,) + self.model.shape, np.int8)
        e, m = np.zeros(1), np.zeros(1, np.int64)
        if burn_in:
            self._advance(burn_in, 0, e, m)
        first = 0
        if self.update == "wolff" and self.clusters_per_sweep is None:  # the pilot runs on the first advance
            self._advance(every, 0, e, m)
            out[0] = self.spins
            first = 1
        per_sample = every * self.model.n_sites
        if self.storage == "byte" and self.backend in ("cpp", "numba") and per_sample <= _SAMPLE_WORK:
            # many samples per kernel call, in calls of bounded work (a few ms) so that Ctrl-C is seen
            # between them; each call and its counter update land together (deferred_sigint)
            from .._interrupt import deferred_sigint

            chunk = max(1, min(n - first, _SAMPLE_WORK // per_sample))
            if progress:
                chunk = max(1, min(chunk, (n - first) // 50))
            with _bar(total=n, initial=first, desc="configurations", progress=progress, leave=False) as bar:
                for i0 in range(first, n, chunk):
                    k = min(chunk, n - i0)
                    with deferred_sigint():
                        self._sample(out[i0:i0 + k].reshape(k, -1), every)
                    bar.update(k)
            return out
        for i in _bar(range(first, n), desc="configurations", progress=progress, leave=False):
            self._advance(every, 0, e, m)  # multi-spin words and device lattices: one sample per call
            out[i] = self.spins
        return out

    def _sample(self, out, every: int) -> None:
        """Fill out (k, n_sites) with k configurations `every` sweeps apart in one kernel call."""
        k = out.shape[0]
        method = {"metropolis": 0, "heat_bath": 0, "wolff": 1, "swendsen_wang": 2}[self.update]
        code = _CODE.get(self.update, 0)
        per = self.clusters_per_sweep or 0
        counter = self.cluster if method == 1 else self.sweeps_done
        if method == 1 and self.cluster + k * every * per >= (1 << 39):
            raise ValueError("this Wolff chain would exceed 2^39 clusters, the limit of its random-number "
                             "address space")
        flipped = np.zeros(k * every if method == 1 else 0, np.int64)
        p_add = self._p_add if method else 0
        table = self._table if method == 0 else np.zeros(0, np.uint64)
        if self.backend == "cpp":
            nxt = _backend.module("cpp").lattice.sample_configurations(
                self._spins, self._nbr, self._uniform, self._J0, self._h0, self._Jb, self._hs, self._order, self._off,
                method, code, self.beta, table, p_add, self.seed, self.chain, counter, per, k, every, out, flipped,
                *(self._square if method == 0 else (0, 0)))
        else:
            from . import _numba

            nxt = _numba.sample_configurations(
                self._spins, self._nbr, self._uniform, self._J0, self._h0, self._Jb, self._hs, self._order, self._off,
                method, code, self.beta, table, np.uint64(p_add), np.uint64(self.seed), np.uint64(self.chain),
                np.uint64(counter), per, k, every, out, flipped, self.model.n_sites > 4096)
        self.sweeps_done += k * every
        if method == 1:
            self.cluster = int(nxt)
            self._flipped += int(flipped.sum())

    # ------------------------------------------------------------------ save / resume
    def save(self, path) -> None:
        """Save the full state (model, parameters, configuration, counters) as a checkpoint.

        Parameters
        ----------
        path : str or Path
            Destination; ``.npz`` is appended unless the name ends in it (:meth:`load` accepts the
            same name).  The write is atomic and checksummed (:func:`physdl.io.save_checkpoint`);
            :meth:`load` continues the chain bit for bit.
        """
        from ..io import save_checkpoint

        m = self.model
        meta = dict(beta=self.beta, update=self.update, storage=self.storage, sweep=self.sweep, seed=self.seed,
                    chain=self.chain, sweeps_done=self.sweeps_done, cluster=self.cluster, backend=self.backend,
                    clusters_per_sweep=self.clusters_per_sweep, flipped=self._flipped, flipped_from=self._flipped_from)
        arrays = {}
        if isinstance(m, SherringtonKirkpatrick):
            meta["model"] = dict(kind="sk", n=m.shape[0], J=m.Jscale, J0=m.J0, h=m.h, seed=m.seed)
        else:
            meta["model"] = dict(kind="ising", shape=list(m.shape), geometry=m.geometry)
            arrays["J"] = np.asarray(m.J, dtype=np.float64)
            arrays["h"] = np.asarray(m.h, dtype=np.float64)
        arrays["state"] = self._words if self.storage == "multispin" else self._spins
        save_checkpoint(path, _CHECKPOINT_KIND, meta, arrays)

    @classmethod
    def load(cls, path, backend: str | None = None) -> "Simulation":
        """Restore a simulation saved by :meth:`save`; it continues bit for bit.

        Everything read is validated before any kernel sees it (model, parameters, counters, the
        configuration's shape, dtype and values); anything wrong raises one ``ValueError`` naming
        the file.

        Parameters
        ----------
        path : str or Path of a file written by :meth:`save` (the name given to save works).
        backend : None, "cpp", "numba" or "cuda"; None keeps the saved backend.

        Returns
        -------
        Simulation
        """
        from ..io import CorruptFileError, checkpoint_path, load_checkpoint

        meta, arrays = load_checkpoint(path, _CHECKPOINT_KIND, legacy=_legacy_simulation)
        p = checkpoint_path(path, existing=True)
        try:
            return cls._from_checkpoint(meta, arrays, backend)
        except LatticeTooLarge:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            what = f"missing entry {exc}" if isinstance(exc, KeyError) else str(exc)
            raise CorruptFileError(f"{p}: not a valid Simulation checkpoint: {what}") from None

    @classmethod
    def _from_checkpoint(cls, meta: dict, arrays: dict, backend) -> "Simulation":
        def entry(d, key, types, what):
            if key not in d:
                raise KeyError(repr(key))
            v = d[key]
            if not isinstance(v, types) or isinstance(v, bool):
                raise TypeError(f"{key} must be {what}, got {v!r}")
            return v

        mm = entry(meta, "model", dict, "a dict")
        kind = entry(mm, "kind", str, "a string")
        if kind == "sk":
            n = check_int(entry(mm, "n", int, "an int"), "model n", minimum=2, maximum=20000)
            model = SherringtonKirkpatrick(n, J=entry(mm, "J", (int, float), "a number"),
                                           J0=entry(mm, "J0", (int, float), "a number"),
                                           h=entry(mm, "h", (int, float), "a number"),
                                           seed=entry(mm, "seed", int, "an int"))
        elif kind == "ising":
            shape = entry(mm, "shape", list, "a list of ints")
            J, h = arrays["J"], arrays["h"]
            for name, a in (("J", J), ("h", h)):
                if a.dtype != np.float64:
                    raise TypeError(f"{name} must be float64, got {a.dtype}")
            model = Ising(tuple(shape), entry(mm, "geometry", str, "a string"),
                          J=float(J) if J.ndim == 0 else J.copy(), h=float(h) if h.ndim == 0 else h.copy())
        else:
            raise ValueError(f"model kind must be 'ising' or 'sk', got {kind!r}")
        cps = meta.get("clusters_per_sweep")
        saved_backend = entry(meta, "backend", str, "a string")
        sim = cls(model, beta=entry(meta, "beta", (int, float), "a number"), update=entry(meta, "update", str, "a string"),
                  storage=entry(meta, "storage", str, "a string"), sweep=entry(meta, "sweep", str, "a string"),
                  seed=entry(meta, "seed", int, "an int"), chain=entry(meta, "chain", int, "an int"),
                  backend=backend or check_choice(saved_backend, "backend", ("cpp", "numba", "cuda")), start="up",
                  clusters_per_sweep=cps)
        done = check_int(entry(meta, "sweeps_done", int, "a non-negative integer"), "sweeps_done", minimum=0)
        cluster = check_int(entry(meta, "cluster", int, "a non-negative integer"), "cluster", minimum=0,
                            maximum=(1 << 39))
        if "flipped" in meta:
            flipped = check_int(meta["flipped"], "flipped", minimum=0, maximum=(1 << 62))
            flipped_from = check_int(meta.get("flipped_from", 0), "flipped_from", minimum=0, maximum=done)
        else:  # a file from before the flipped-spin count: count from here on
            flipped, flipped_from = 0, done
        if "sk_matrix" in arrays and not (isinstance(model, SherringtonKirkpatrick)
                                          and arrays["sk_matrix"].shape == model.matrix.shape
                                          and np.array_equal(arrays["sk_matrix"], model.matrix)):
            raise ValueError("the stored SK coupling matrix is not the one the model's seed generates")
        if sim.update != "wolff" and cluster:
            raise ValueError(f"cluster must be 0 for update={sim.update!r}, got {cluster}")
        sim._check_sweep_budget(done)
        state = arrays["state"]
        if sim.storage == "multispin":
            ly, lx = model.shape
            want = multispin_words_shape(ly, lx)
            if state.dtype != np.uint64 or state.shape != want:
                raise ValueError(f"state must be uint64 words of shape {want}, got {state.dtype} {state.shape}")
            r = (lx // 2) & 63
            if r and np.any(state[:, :, -1] >> np.uint64(r)):
                raise ValueError("state has bits set past the lattice's last column (padding must be 0)")
            words = np.ascontiguousarray(state)
        else:
            n = model.n_sites
            if state.dtype != np.int8 or state.shape != (n,):
                raise ValueError(f"state must be int8 spins of shape ({n},), got {state.dtype} {state.shape}")
            bad = int(np.count_nonzero((state != 1) & (state != -1)))
            if bad:
                raise ValueError(f"state must hold spins +1 and -1 only; {bad} other values found")
        if sim.storage == "multispin":
            sim._words = words
        else:
            sim._spins = np.ascontiguousarray(state.copy())
        sim._ctr[:] = (done, cluster, flipped)
        sim._flipped_from = flipped_from
        return sim


def _legacy_meta(arrays, kind):
    """``(meta, arrays)`` of a file of the layout before :func:`physdl.io.save_checkpoint`: an ``.npz``
    whose ``meta`` entry is JSON (with ``"kind": kind`` where that format had a kind tag; ``kind``
    None for the untagged Simulation files); None when the file is not of that layout."""
    import json

    if "meta" not in arrays or arrays["meta"].dtype.kind != "U" or arrays["meta"].ndim != 0:
        return None
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError:
        return None
    if not isinstance(meta, dict) or meta.get("kind") != kind:
        return None
    meta = {k: v for k, v in meta.items() if k not in ("kind", "physdl_version")}
    return meta, {k: v for k, v in arrays.items() if k != "meta"}


def _legacy_simulation(arrays):
    """Simulation files written by ``np.savez`` before the checksummed checkpoints (no kind tag)."""
    old = _legacy_meta(arrays, None)
    if old is None or "state" not in old[1] or not {"model", "beta", "sweeps_done"} <= set(old[0]):
        return None
    return old


def _legacy_tempering(arrays):
    """Parallel-tempering files of the first save format (kind-tagged JSON ``meta``, no checksum)."""
    return _legacy_meta(arrays, ParallelTempering.KIND)


class ParallelTempering:
    """Replica exchange over a ladder of inverse temperatures (Metropolis-type swaps).

    Each temperature slot k runs a :class:`Simulation` (chain k of the seed); every
    ``exchange_every`` sweeps neighbouring slots (even pairs on even rounds, odd pairs on odd
    rounds) swap configurations with probability min(1, exp((b_k - b_{k+1}) (E_k - E_{k+1}))),
    decided by Philox uniforms at stream 2^63 + round, offset = pair index.

    Parameters
    ----------
    model : Model
    betas : sequence of float, increasing or decreasing, all > 0
    update, sweep, seed, backend : as for :class:`Simulation`
    storage : {"byte", "multispin", None}
        Default ``"byte"``, unlike :class:`Simulation`: on the cpp and numba backends byte storage runs
        many exchange rounds in one kernel call, while multi-spin replicas are stepped and swapped
        one round at a time from Python.  None picks as :class:`Simulation` does.
    exchange_every : int
        Sweeps between exchange rounds.

    Notes
    -----
    Per-pair swap acceptance: :attr:`swap_acceptance`, and ``extra["swap_acceptance"]`` of every
    :meth:`run` result (its :meth:`RunResult.summary` shows the pairs next to its temperature).
    """

    def __init__(self, model: Model, betas, *, update: str = "metropolis", storage: str | None = "byte",
                 sweep: str | None = None, seed: int = 0, backend: str | None = None, exchange_every: int = 1):
        from .._validate import check_array

        arr = check_array(betas, "betas", dtype=np.float64, ndim=1, finite=True)
        betas = [_check_beta(b, None) for b in arr.tolist()]
        if len(betas) < 2:
            raise ValueError("betas must hold at least two inverse temperatures")
        d = np.diff(betas)
        if not (np.all(d > 0) or np.all(d < 0)):
            raise ValueError(f"betas must be strictly increasing or strictly decreasing (no repeats), got {betas}")
        self.betas = betas
        self.seed = check_seed(seed)
        self.exchange_every = check_int(exchange_every, "exchange_every", minimum=1)
        self.replicas = [Simulation(model, beta=b, update=update, storage=storage, sweep=sweep, seed=seed, chain=k,
                                    backend=backend) for k, b in enumerate(betas)]
        self.backend = self.replicas[0].backend
        self.rounds = 0
        self.accepted = np.zeros(len(betas) - 1, np.int64)
        self.attempted = np.zeros(len(betas) - 1, np.int64)

    def _uniforms(self, rnd: int) -> np.ndarray:
        """The R uniforms of exchange round `rnd`: values rnd * 2 ceil(R/2) ... of Philox stream 2^63.

        Fetched 512 rounds at a time; the address of each value does not depend on the chunking.
        """
        from .. import random as prandom

        R = len(self.betas)
        per = 2 * ((R + 1) // 2)  # values per round, a whole number of 2-double blocks
        c0 = getattr(self, "_u_first", -1)
        if not (0 <= rnd - c0 < 512) or c0 < 0:
            self._u_first = c0 = rnd - rnd % 512
            self._u_cache = prandom.uniform(512 * per, seed=self.seed, stream=_streams.stream("lattice.tempering"), offset=c0 * per // 2,
                                            backend=self.backend).reshape(512, per)
        return self._u_cache[rnd - c0, :R]

    def _swap_state(self, a: Simulation, b: Simulation) -> None:
        if a.storage == "multispin":
            a._words, b._words = b._words, a._words
        else:
            a._spins, b._spins = b._spins, a._spins

    KIND = "physdl/parallel-tempering"

    def save(self, path) -> None:
        """Save the whole ladder (model, betas, every replica's state and counters, swap statistics).

        A checkpoint of :func:`physdl.io.save_checkpoint` (atomic, kind tag
        ``"physdl/parallel-tempering"``, SHA-256 checksum); ``.npz`` is appended unless the name
        ends in it.  :meth:`load` resumes bit for bit.
        """
        from ..io import save_checkpoint

        r0 = self.replicas[0]
        m = r0.model
        meta = dict(betas=list(self.betas), seed=self.seed,
                    exchange_every=self.exchange_every, rounds=self.rounds, update=r0.update, storage=r0.storage,
                    sweep=r0.sweep, backend=self.backend,
                    replicas=[dict(sweeps_done=r.sweeps_done, cluster=r.cluster, clusters_per_sweep=r.clusters_per_sweep,
                                   flipped=r._flipped) for r in self.replicas])
        arrays = {"accepted": self.accepted, "attempted": self.attempted,
                  "states": np.stack([r._words if r.storage == "multispin" else r._spins for r in self.replicas])}
        if isinstance(m, SherringtonKirkpatrick):
            meta["model"] = dict(kind="sk", n=m.shape[0], J=m.Jscale, J0=m.J0, h=m.h, seed=m.seed)
            arrays["sk_matrix"] = m.matrix
        else:
            meta["model"] = dict(kind="ising", shape=list(m.shape), geometry=m.geometry)
            arrays["J"] = np.asarray(m.J, dtype=np.float64)
            arrays["h"] = np.asarray(m.h, dtype=np.float64)
        save_checkpoint(path, self.KIND, meta, arrays)

    @classmethod
    def load(cls, path, backend: str | None = None) -> "ParallelTempering":
        """Restore a ladder saved by :meth:`save`; it continues bit for bit.

        Raises ValueError naming the file when it is not a parallel-tempering checkpoint or is
        inconsistent (wrong kind, missing entries, states of the wrong shape or values).
        """
        from ..io import CorruptFileError, checkpoint_path, load_checkpoint

        path = checkpoint_path(path, existing=True)

        def bad(why):
            return CorruptFileError(f"{path} is not a valid parallel-tempering checkpoint: {why}")

        # truncated, foreign, other-kind, old-format (no checksum) or modified files: CorruptFileError naming it
        meta, data = load_checkpoint(path, cls.KIND, legacy=_legacy_tempering)
        need = ("betas", "seed", "exchange_every", "rounds", "update", "storage", "sweep", "backend", "replicas", "model")
        missing = [k for k in need if k not in meta] + [k for k in ("states", "accepted", "attempted") if k not in data]
        if missing:
            raise bad(f"missing {missing}")
        try:
            mm = meta["model"]
            if mm["kind"] == "sk":
                model = SherringtonKirkpatrick.__new__(SherringtonKirkpatrick)
                model.shape = (int(mm["n"]),)
                model.Jscale, model.J0, model.h, model.seed = mm["J"], mm["J0"], mm["h"], mm["seed"]
                model.matrix = np.asarray(data["sk_matrix"], dtype=np.float64)
                if model.matrix.shape != (model.shape[0],) * 2 or not np.all(np.isfinite(model.matrix)):
                    raise ValueError("the SK coupling matrix has the wrong shape or is not finite")
                model._nbr = None
            else:
                J, h = data["J"], data["h"]
                model = Ising(tuple(mm["shape"]), mm["geometry"], J=float(J) if J.ndim == 0 else J,
                              h=float(h) if h.ndim == 0 else h)
            pt = cls(model, meta["betas"], update=meta["update"], storage=meta["storage"], sweep=meta["sweep"],
                     seed=meta["seed"], backend=backend or meta["backend"], exchange_every=meta["exchange_every"])
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(str(exc)) from None
        R = len(pt.betas)
        states, reps = data["states"], meta["replicas"]
        if len(reps) != R or data["accepted"].shape != (R - 1,) or data["attempted"].shape != (R - 1,):
            raise bad(f"{len(reps)} replica records and swap counters for {R} temperatures")
        for k, (sim, rec) in enumerate(zip(pt.replicas, reps)):
            ref = sim._words if sim.storage == "multispin" else sim._spins
            st = states[k] if states.ndim >= 1 and states.shape[0] == R else None
            if st is None or st.shape != ref.shape:
                raise bad(f"replica {k}: state of shape {None if st is None else st.shape}, expected {ref.shape}")
            if sim.storage == "multispin":
                sim._words = np.ascontiguousarray(st.astype(np.uint64))
            else:
                if not np.all((st == 1) | (st == -1)):
                    raise bad(f"replica {k}: spins other than +-1")
                sim._spins = np.ascontiguousarray(st.astype(np.int8))
            try:
                sim.sweeps_done = check_int(rec["sweeps_done"], "sweeps_done", minimum=0)
                sim.cluster = check_int(rec["cluster"], "cluster", minimum=0)
                cps = rec["clusters_per_sweep"]
                sim.clusters_per_sweep = None if cps is None else check_int(cps, "clusters_per_sweep", minimum=1)
                sim._flipped = check_int(rec["flipped"], "flipped", minimum=0)
            except (KeyError, TypeError, ValueError) as exc:
                raise bad(f"replica {k}: {exc}") from None
        pt.rounds = check_int(meta["rounds"], "rounds", minimum=0)
        pt.accepted = data["accepted"].astype(np.int64)
        pt.attempted = data["attempted"].astype(np.int64)
        return pt

    def configurations(self, n: int, burn_in: int = 0, progress: bool = False) -> np.ndarray:
        """Configurations of every temperature slot after each of ``n`` exchange rounds.

        Returns
        -------
        ndarray of int8, shape (len(betas), n, *model.shape): ``[k, i]`` is the configuration at
        ``betas[k]`` after round ``i`` (after its exchanges), the same chain :meth:`run` advances.
        """
        n = check_int(n, "n", minimum=1)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        shape = self.replicas[0].model.shape
        need = n * len(self.betas) * self.replicas[0].model.n_sites
        if need > available_memory():
            raise LatticeTooLarge(f"{n} rounds of configurations need {need / 2**30:.3g} GiB, more than is available")
        out = np.empty((len(self.betas), n) + tuple(shape), np.int8)
        self._rounds(n, burn_in, progress, configs=out)
        return out

    def run(self, rounds: int, burn_in: int = 0, progress: bool = False) -> list[RunResult]:
        """Run burn-in rounds, then `rounds` exchange rounds measuring after each.

        Parameters
        ----------
        rounds : int
        burn_in : int
        progress : bool

        Returns
        -------
        list of RunResult, one per beta (in the order given); ``extra["swap_acceptance"]`` holds
        the acceptance rate of each neighbouring pair (as :attr:`swap_acceptance`) and
        ``extra["ladder_index"]`` the result's slot k; ``summary()`` shows the pairs (k-1, k) and
        (k, k+1).
        """
        rounds = check_int(rounds, "rounds", minimum=1)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        R = len(self.betas)
        E, M = self._rounds(rounds, burn_in, progress)
        N = self.replicas[0].model.n_sites
        rate = self.swap_acceptance
        glass = is_spin_glass(self.replicas[0].model)
        return [analyse(E[k] / N, M[k] / N, self.betas[k], N, self.exchange_every,
                        extra={"swap_acceptance": rate, "ladder_index": k}, spin_glass=glass)
                for k in range(R)]

    @property
    def swap_acceptance(self) -> np.ndarray:
        """Acceptance rate of swaps between ``betas[k]`` and ``betas[k + 1]``, one per pair, over the
        measured (post burn-in) rounds so far (0 for a pair not yet attempted)."""
        return self.accepted / np.maximum(self.attempted, 1)

    def _rounds(self, rounds: int, burn_in: int, progress: bool, configs=None):
        """burn_in + rounds exchange rounds; energies and magnetisations after each kept round."""
        from .._progress import bar as _bar

        R = len(self.betas)
        E = np.zeros((R, rounds))
        M = np.zeros((R, rounds), np.int64)
        r0 = self.replicas[0]
        if r0.storage == "byte" and self.backend in ("cpp", "numba"):
            first = 0
            if r0.update == "wolff" and any(s.clusters_per_sweep is None for s in self.replicas):
                first = 1  # the first round runs the Wolff pilots, through the per-round path below
            if first:
                self._py_rounds(0, 1, burn_in, E, M, configs)
            total = burn_in + rounds
            # kernel calls of bounded duration (about 20 ms each), so that Ctrl-C is seen between them
            # within a second; each call writes its states and counters back whole (under
            # deferred_sigint), and the rounds' random numbers are addressed by the global round
            # number, so the result does not depend on the cut
            from .._interrupt import run_in_pieces

            with _bar(total=total, initial=first, desc="parallel tempering", progress=progress, leave=False) as bar:
                def piece(a, count):
                    self._kernel_rounds(first + a, first + a + count, burn_in, E, M, configs)
                    bar.update(count)

                run_in_pieces(piece, total - first)
            return E, M
        with _bar(total=burn_in + rounds, desc="parallel tempering", progress=progress, leave=False) as bar:
            for r in range(burn_in + rounds):  # multi-spin words and device lattices: one round per pass
                self._py_rounds(r, r + 1, burn_in, E, M, configs)
                bar.update(1)
        return E, M

    def _kernel_rounds(self, a: int, b: int, burn_in: int, E, M, configs) -> None:
        """Rounds a .. b-1 of this call (global rounds self.rounds ...) in one kernel call."""
        from .. import random as prandom

        reps, R, every = self.replicas, len(self.betas), self.exchange_every
        s0 = reps[0]
        method = {"metropolis": 0, "heat_bath": 0, "wolff": 1, "swendsen_wang": 2}[s0.update]
        n_rounds = b - a
        kb = min(n_rounds, max(0, burn_in - a))  # burn-in rounds inside this block
        kept = n_rounds - kb
        i0 = max(0, a + kb - burn_in)  # first kept index of this block in E, M
        if method == 1:
            for s in reps:
                if s.cluster + n_rounds * every * s.clusters_per_sweep >= (1 << 39):
                    raise ValueError("this Wolff chain would exceed 2^39 clusters, the limit of its random-number "
                                     "address space")
        per = 2 * ((R + 1) // 2)
        u = prandom.uniform(n_rounds * per, seed=self.seed, stream=_streams.stream("lattice.tempering"),
                            offset=self.rounds * per // 2, backend=self.backend).reshape(n_rounds, per)[:, :R]
        u = np.ascontiguousarray(u)
        states = np.stack([s._spins for s in reps])
        tables = np.stack([s._table for s in reps]) if method == 0 else np.zeros((R, 0), np.uint64)
        p_adds = np.array([s._p_add if method else 0 for s in reps], np.uint64)
        chains = np.array([s.chain for s in reps], np.uint64)
        counters = np.array([s.cluster if method == 1 else s.sweeps_done for s in reps], np.uint64)
        cps = np.array([s.clusters_per_sweep or 0 for s in reps], np.int64)
        e = np.zeros((R, kept))
        m = np.zeros((R, kept), np.int64)
        flipped = np.zeros(R, np.int64)
        acc = np.zeros(R - 1, np.int64)
        att = np.zeros(R - 1, np.int64)
        rec = configs is not None
        conf = np.zeros((R, kept, s0.model.n_sites) if rec else (0, 0, 0), np.int8)
        if self.backend == "cpp":
            _backend.module("cpp").lattice.tempering_rounds(
                states, s0._nbr, s0._uniform, s0._J0, s0._h0, s0._Jb, s0._hs, s0._order, s0._off, method,
                _CODE.get(s0.update, 0), np.asarray(self.betas, np.float64), tables, p_adds, self.seed, chains, counters,
                cps, n_rounds, kb, every, self.rounds, u, e, m, acc, att, flipped, conf, rec,
                *(s0._square if method == 0 else (0, 0)))
        else:
            from . import _numba

            _numba.tempering_rounds(
                states, s0._nbr, s0._uniform, s0._J0, s0._h0, s0._Jb, s0._hs, s0._order, s0._off, method,
                _CODE.get(s0.update, 0), np.asarray(self.betas, np.float64), tables, p_adds, np.uint64(self.seed),
                chains, counters, cps, n_rounds, kb, every, np.uint64(self.rounds), u, e, m, acc, att, flipped, conf,
                rec, s0.model.n_sites > 4096)
        for k, s in enumerate(reps):
            s._spins = np.ascontiguousarray(states[k])
            s.sweeps_done += n_rounds * every
            if method == 1:
                s.cluster = int(counters[k])
                s._flipped += int(flipped[k])
        self.accepted += acc
        self.attempted += att
        self.rounds += n_rounds
        E[:, i0:i0 + kept] = e
        M[:, i0:i0 + kept] = m
        if rec:
            configs[:, i0:i0 + kept] = conf.reshape((R, kept) + tuple(s0.model.shape))

    def _py_rounds(self, r_begin: int, r_end: int, burn_in: int, E, M, configs) -> None:
        """Rounds r_begin .. r_end-1 of this call, one Python pass per round (multi-spin, device lattices)."""
        R = len(self.betas)
        e1, m1 = np.zeros(1), np.zeros(1, np.int64)
        every = self.exchange_every
        for r in range(r_begin, r_end):
            for sim in self.replicas:
                sim._advance(every, every, e1, m1)
                sim._last = (float(e1[0]), int(m1[0]))
            energies = np.array([s._last[0] for s in self.replicas])
            mags = np.array([s._last[1] for s in self.replicas])
            start = self.rounds % 2
            pairs = np.arange(start, R - 1, 2)
            if pairs.size:
                u = self._uniforms(self.rounds)[pairs]
                b = np.asarray(self.betas)
                x = (b[pairs] - b[pairs + 1]) * (energies[pairs] - energies[pairs + 1])
                acc = u < np.exp(np.minimum(x, 0.0))
                for k in pairs[acc]:
                    self._swap_state(self.replicas[k], self.replicas[k + 1])
                    energies[[k, k + 1]] = energies[[k + 1, k]]
                    mags[[k, k + 1]] = mags[[k + 1, k]]
                if r >= burn_in:
                    self.attempted[pairs] += 1
                    self.accepted[pairs] += acc
            self.rounds += 1
            if r >= burn_in:
                E[:, r - burn_in] = energies
                M[:, r - burn_in] = mags
                if configs is not None:
                    for k, sim in enumerate(self.replicas):
                        configs[k, r - burn_in] = sim.spins
